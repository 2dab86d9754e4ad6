#!/usr/bin/env node
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { parseFlags, stringFlag } from '../lib/core/args.js';
import { EXIT, NotFoundError, ToolkitError, UsageError } from '../lib/core/errors.js';
import { colorsFor, escapeControls, readStdin, writeLine, type IO } from '../lib/core/io.js';
import { isObject } from '../lib/core/values.js';
import { eventFields, exampleConflicts, findEvent, webhookEvents, type WebhookEvent } from '../lib/endpoint/webhook-events.js';
import { applySets, DEFAULT_WEBHOOK_URL, isKeptPayload, KEPT_PAYLOAD, keptPayload, parseDelivery, parseSet, postDelivery, prepareEvent, preparedPayload, SECRET_VARIABLE, signDelivery, signingSecret, verifyDelivery, type Delivery } from '../lib/http/webhook-delivery.js';
import { loadWebhooks, loadWebhooksSummary, type WebhooksDocument, type WebhooksOptions } from '../lib/spec/webhooks.js';

export const USAGE = `Usage: bapi-webhooks events [--grep WORDS] [--json]
       bapi-webhooks show EVENT [--example] [--json]
       bapi-webhooks trigger EVENT [--url URL] [--secret whsec_…] [--set PATH=VALUE]… [--schema-only]
                             [--dry-run] [--json]
       bapi-webhooks trigger --data @DELIVERY.json|@PAYLOAD.json|- [--url URL] [--secret …]
       bapi-webhooks verify [--secret whsec_…] -H 'svix-id: …' -H 'svix-timestamp: …'
                            -H 'svix-signature: …' [BODY_FILE|-]
       bapi-webhooks verify DELIVERY.json [--secret whsec_…]
       bapi-webhooks receive [--port 3000] [--path /api/webhooks] [--secret whsec_…] [--save DIR]

Clerk's webhook events, from the webhooks spec in clerk/openapi-specs (webhooks/YYYY-MM-DD.yml, from
the same source as the Backend API specs): list them, show a payload's fields, and test your app's
webhook handler without a tunnel: trigger sends an event signed exactly as Clerk's Svix signs it
(svix-id, svix-timestamp, svix-signature: v1,<base64 HMAC-SHA256>), which verifyWebhook of
@clerk/backend/webhooks accepts; verify checks a delivery; receive is a local endpoint that verifies
and saves what it gets, for trigger --data to send again with a fresh signature.

A payload: the spec's example for the event when it has one (it likely reflects real deliveries: its
extra fields are kept), plus every field the event's schema requires that the example lacks (or has
as a null the schema does not allow), each named on stderr; without an example, or with
--schema-only, a payload generated from the schema alone (every required field, Clerk-shaped ids,
timestamps now). show names each place where the spec's example breaks its own schema.

Options:
  --grep WORDS             events: only events whose type or description has every word
  --example                show: print the spec's example payload (JSON) instead of the fields
  --url URL                trigger: where to POST (default ${DEFAULT_WEBHOOK_URL},
                           the route of Clerk's Next.js guide)
  --secret whsec_…         the signing secret (else ${SECRET_VARIABLE}, else that name in
                           .env.local or .env); never printed
  --set PATH=VALUE         trigger: set a field (data.email_addresses[0].email_address=x@y.z);
                           VALUE is JSON when it parses, else a string (repeatable)
  --data @FILE|-           trigger: send this payload, or a saved delivery's body, signed anew
  --schema-only            trigger: a payload from the schema alone, not from the example
  --dry-run                trigger: print the signed request as a curl command; send nothing
  --timeout SECONDS        trigger: give up waiting for the answer (default 10)
  -H, --header 'Name: v'   verify: a delivery header (repeatable)
  --port N                 receive: the port to listen on, on 127.0.0.1 (default 3000; 0: any free one)
  --path PATH              receive: the path to answer (default /api/webhooks)
  --save DIR               receive: save each verified delivery as DIR/<svix-id>.json
  --webhooks-version DATE  a version of webhooks/ (default: the latest)
  --refresh                list the versions again now
  --json                   the result as JSON on stdout
  -h, --help               show this help
  -V, --version            show the toolkit's version

Environment:
  CLERK_WEBHOOK_SIGNING_SECRET  the signing secret (the name Clerk's verifier reads), when --secret
                       is absent; else read from .env.local, then .env. Never printed.
  CLERK_SPECS_SOURCE   a local checkout of clerk/openapi-specs (it holds webhooks/YYYY-MM-DD.yml)
  CLERK_SPECS_DIR      where specs are kept (default: the user cache directory), under webhooks/
  GITHUB_API_URL       GitHub API base URL (default https://api.github.com)
  GITHUB_TOKEN         GitHub token, lifts GitHub's anonymous rate limit
  CLERK_SPECS_TIMEOUT  seconds to wait for GitHub's list of versions (default 8)

Exit codes:
  0 ok (trigger: the app answered 2xx; verify: valid) · 1 trigger: the app answered otherwise or
  could not be reached; verify: not valid (the reason on stderr) · 2 usage error, unknown event ·
  5 spec source unreachable and nothing cached

Examples:
  bapi-webhooks events --grep organization
  bapi-webhooks show user.created
  bapi-webhooks trigger user.created --set data.first_name=Ada
  bapi-webhooks trigger organization.deleted --url http://localhost:8787/webhooks/clerk --dry-run
  bapi-webhooks receive --port 3001 --save deliveries
  bapi-webhooks verify deliveries/msg_0123.json
`;

export interface Options {
  command: string | undefined;
  args: string[];
  json: boolean;
  grep: string | undefined;
  example: boolean;
  url: string | undefined;
  secret: string | undefined;
  set: string[];
  data: string | undefined;
  schemaOnly: boolean;
  dryRun: boolean;
  timeoutMs: number;
  headers: string[];
  port: number;
  path: string;
  save: string | undefined;
  version: string | undefined;
  refresh: boolean;
}

export function parseArgs(argv: string[]): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['bapi-webhooks']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  const [command, ...args] = flags._.map(String);
  const number = (name: string, fallback: number, max: number, min = 1) => {
    const raw = stringFlag(flags, name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} ${raw}: expected a whole number from ${min} to ${max}`);
    return Number(raw);
  };
  return {
    command,
    args,
    json: flags.json === true,
    grep: stringFlag(flags, 'grep'),
    example: flags.example === true,
    url: stringFlag(flags, 'url'),
    secret: stringFlag(flags, 'secret'),
    set: flags.set as string[],
    data: stringFlag(flags, 'data'),
    schemaOnly: flags['schema-only'] === true,
    dryRun: flags['dry-run'] === true,
    timeoutMs: number('timeout', 10, 600) * 1000,
    headers: flags.header as string[],
    // 0: any free port (receive says which).
    port: number('port', 3000, 65535, 0),
    path: stringFlag(flags, 'path') ?? '/api/webhooks',
    save: stringFlag(flags, 'save'),
    version: stringFlag(flags, 'webhooks-version'),
    refresh: flags.refresh === true,
  };
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  switch (options.command) {
    case 'events':
      return events(options, io);
    case 'show':
      return show(options, io);
    case 'trigger':
      return trigger(options, io);
    case 'verify':
      return verify(options, io);
    case 'receive':
      return receive(options, io);
    default:
      throw new UsageError(options.command === undefined ? 'missing a command: events, show, trigger, verify or receive' : `unknown command: ${options.command}`, { hints: ['Run bapi-webhooks --help for usage.'] });
  }
}

/** The webhooks version asked for (--webhooks-version, else the latest) and --refresh. */
function selection(options: Options): WebhooksOptions {
  return { ...(options.version ? { version: options.version } : {}), refresh: options.refresh };
}

async function spec(options: Options, io: IO): Promise<{ document: WebhooksDocument; events: WebhookEvent[] }> {
  const document = await loadWebhooks(selection(options), io);
  return { document, events: webhookEvents(document) };
}

function eventNamed(events: WebhookEvent[], name: string | undefined, version: string): WebhookEvent {
  if (name === undefined) throw new UsageError('missing EVENT (e.g. user.created): bapi-webhooks events lists them');
  const found = findEvent(events, name);
  if (found) return found;
  // Closest first: the longest common beginning, then a shared word.
  const wanted = name.toLowerCase();
  const common = (type: string) => [...type.toLowerCase()].findIndex((char, i) => char !== wanted[i]);
  const score = (type: string) => (common(type) < 0 ? type.length : common(type)) + (wanted.split(/[.\s_-]+/).some((w) => w.length > 2 && type.toLowerCase().includes(w)) ? 1 : 0);
  const closest = events.filter((e) => score(e.type) > 2).sort((a, b) => score(b.type) - score(a.type)).slice(0, 5);
  throw new NotFoundError(`no webhook event ${JSON.stringify(name)} in webhooks ${version}`, { hints: [closest.length > 0 ? `Closest: ${closest.map((e) => e.type).join(', ')}.` : 'bapi-webhooks events lists them.'] });
}

/** One line of `events`: what a warm run reads from the kept summary, not from the whole document. */
interface EventLine {
  type: string;
  description: string;
  example: boolean;
  conflicts: number;
}

function eventLines(value: unknown): value is EventLine[] {
  return Array.isArray(value) && value.every((e) => isObject(e) && typeof e.type === 'string' && typeof e.description === 'string' && typeof e.example === 'boolean' && typeof e.conflicts === 'number');
}

async function events(options: Options, io: IO): Promise<number> {
  const summarize = (document: WebhooksDocument): EventLine[] => webhookEvents(document).map((e) => ({ type: e.type, description: e.description, example: e.hasExample, conflicts: exampleConflicts(e, document).length }));
  const { version, summary } = await loadWebhooksSummary(selection(options), io, 'events.v1', summarize, eventLines);
  const words = (options.grep ?? '').toLowerCase().split(/\s+/).filter((w) => w !== '');
  const chosen = summary.filter((e) => words.every((w) => `${e.type} ${e.description}`.toLowerCase().includes(w)));
  if (options.json) {
    writeLine(io.stdout, JSON.stringify({ version, events: chosen }, null, 2));
    return EXIT.ok;
  }
  for (const event of chosen) writeLine(io.stdout, `${event.type}\t${event.description}\t${event.example ? 'example' : '-'}`);
  return EXIT.ok;
}

async function show(options: Options, io: IO): Promise<number> {
  const { document, events: all } = await spec(options, io);
  const event = eventNamed(all, options.args[0], document.version);
  const conflicts = exampleConflicts(event, document);
  if (options.example) {
    if (!event.hasExample) throw new NotFoundError(`webhooks ${document.version} has no example for ${event.type}`, { hints: [`bapi-webhooks trigger ${event.type} --dry-run shows the payload generated from its schema.`] });
    writeLine(io.stdout, JSON.stringify(event.example, null, 2));
    return EXIT.ok;
  }
  const fields = eventFields(event);
  if (options.json) {
    writeLine(io.stdout, JSON.stringify({ type: event.type, description: event.description, version: document.version, fields, example: event.hasExample ? event.example : null, conflicts }, null, 2));
    return EXIT.ok;
  }
  const c = colorsFor(io.stdout, io.env);
  const width = Math.min(48, Math.max(...fields.map((f) => f.path.length)) + 2);
  const lines = [`${c.bold(event.type)}: ${event.description} (webhooks ${document.version})`, '', c.bold('Payload fields:')];
  for (const field of fields) lines.push(`  ${field.path.padEnd(width)}${`${field.type}${field.nullable ? ' | null' : ''}`.padEnd(18)}${field.required ? 'required' : 'optional'}${field.enum ? `  one of: ${field.enum.map(String).join(', ')}` : ''}`);
  lines.push('', event.hasExample ? `${c.bold('Example:')} in the spec (bapi-webhooks show ${event.type} --example)` : `${c.bold('Example:')} none in the spec; trigger generates one from the schema`);
  if (conflicts.length > 0) {
    lines.push(`${c.bold('The spec\'s example breaks its own schema')} (trigger adds what is missing, and says so):`);
    for (const problem of conflicts) lines.push(`  ${problem.path}: ${problem.message}`);
  }
  io.stdout.write(`${lines.map(escapeControls).join('\n')}\n`);
  return EXIT.ok;
}

/** The payload to send: a file's (or a saved delivery's body), or built for the event; then --set. */
async function payloadFor(options: Options, io: IO): Promise<{ body: string; type: string; note: string; added?: string[] }> {
  if (options.data !== undefined) {
    if (options.args.length > 0) throw new UsageError('--data gives the payload: no EVENT beside it');
    const text = options.data === '-' ? await readStdin(io) : options.data.startsWith('@') ? readFileSync(resolve(io.cwd, options.data.slice(1)), 'utf8') : null;
    if (text === null) throw new UsageError('--data takes @FILE or - (stdin)');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UsageError(`--data ${options.data} is not JSON`);
    }
    // A delivery saved by receive: its body, sent again with a fresh signature.
    const payload = isObject(value) && isObject(value.headers) && typeof value.body === 'string' ? (JSON.parse(parseDelivery(text, options.data).body) as unknown) : value;
    if (!isObject(payload)) throw new UsageError(`--data ${options.data} is not a JSON object`);
    applySets(payload, options.set.map(parseSet));
    return { body: JSON.stringify(payload), type: typeof payload.type === 'string' ? payload.type : '(no type)', note: `from ${options.data}` };
  }
  const name = options.args[0];
  // The usual trigger (an event by name, nothing set): its payload as kept in the store, the time stamped anew.
  if (name !== undefined && /^[\w.-]+$/.test(name) && options.set.length === 0 && !options.schemaOnly) {
    const made = (document: WebhooksDocument) => keptPayload(eventNamed(webhookEvents(document), name, document.version), document);
    const { version, summary } = await loadWebhooksSummary(selection(options), io, `${KEPT_PAYLOAD}.${name}`, made, isKeptPayload);
    return preparedPayload(summary, version, Date.now());
  }
  const { document, events: all } = await spec(options, io);
  const event = eventNamed(all, name, document.version);
  return prepareEvent(event, document, { schemaOnly: options.schemaOnly, sets: options.set.map(parseSet) });
}

async function trigger(options: Options, io: IO): Promise<number> {
  const { body, type, note } = await payloadFor(options, io);
  const secret = signingSecret(options.secret, io.env, io.cwd);
  const url = options.url ?? DEFAULT_WEBHOOK_URL;
  const delivery: Delivery = await signDelivery(body, secret.value);
  writeLine(io.stderr, `bapi-webhooks: ${note}`);
  if (options.dryRun) {
    const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
    const headers = Object.entries({ 'content-type': 'application/json', ...delivery.headers }).map(([name, value]) => `-H ${quote(`${name}: ${value}`)}`);
    writeLine(io.stdout, `curl -X POST ${quote(url)} ${headers.join(' ')} --data-raw ${quote(body)}`);
    writeLine(io.stderr, `bapi-webhooks: dry run: nothing was sent (the signature is valid for 5 minutes, with the secret from ${secret.from})`);
    return EXIT.ok;
  }
  let answer: { status: number; body: string };
  try {
    answer = await postDelivery(url, delivery, options.timeoutMs);
  } catch (error) {
    throw new ToolkitError(`could not deliver ${type} to ${url}: ${(error as Error).message}`, { hints: ['Is your app running? Give its webhook route with --url.'] });
  }
  const ok = answer.status >= 200 && answer.status < 300;
  if (options.json) writeLine(io.stdout, JSON.stringify({ type, url, status: answer.status, svix_id: delivery.headers['svix-id'], body: answer.body }));
  else if (answer.body !== '') writeLine(io.stdout, answer.body.replace(/\n$/, ''));
  writeLine(io.stderr, `bapi-webhooks: ${type} → POST ${url}: ${answer.status}${ok ? '' : ' (not 2xx)'}`);
  return ok ? EXIT.ok : EXIT.runtime;
}

async function verify(options: Options, io: IO): Promise<number> {
  const secret = signingSecret(options.secret, io.env, io.cwd);
  let delivery: { headers: Record<string, string | undefined>; body: string };
  const [file] = options.args;
  if (options.headers.length === 0 && file !== undefined && file !== '-') delivery = parseDelivery(readFileSync(resolve(io.cwd, file), 'utf8'), file);
  else {
    const headers: Record<string, string> = {};
    for (const raw of options.headers) {
      const colon = raw.indexOf(':');
      if (colon <= 0) throw new UsageError(`-H ${JSON.stringify(raw)}: expected 'Name: value'`);
      headers[raw.slice(0, colon).trim().toLowerCase()] = raw.slice(colon + 1).trim();
    }
    const body = file === undefined || file === '-' ? await readStdin(io) : readFileSync(resolve(io.cwd, file), 'utf8');
    if (body === null) throw new UsageError('verify needs the body: a file, or - (stdin)');
    delivery = { headers, body };
  }
  const problem = await verifyDelivery(delivery, secret.value);
  if (options.json) writeLine(io.stdout, JSON.stringify({ valid: problem === null, reason: problem }));
  if (problem !== null) {
    writeLine(io.stderr, `bapi-webhooks: not valid: ${problem}`);
    return EXIT.runtime;
  }
  const type = (() => {
    try {
      return (JSON.parse(delivery.body) as { type?: unknown }).type;
    } catch {
      return undefined;
    }
  })();
  writeLine(io.stderr, `bapi-webhooks: valid${typeof type === 'string' ? `: ${escapeControls(type)}` : ''} (${escapeControls(delivery.headers['svix-id'] ?? delivery.headers['webhook-id'] ?? '')})`);
  return EXIT.ok;
}

async function receive(options: Options, io: IO): Promise<number> {
  const secret = signingSecret(options.secret, io.env, io.cwd);
  if (options.save) mkdirSync(resolve(io.cwd, options.save), { recursive: true, mode: 0o700 });
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const name of ['svix-id', 'svix-timestamp', 'svix-signature']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name] as string;
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== options.path) {
        res.writeHead(404).end();
        return;
      }
      const problem = await verifyDelivery({ headers, body }, secret.value);
      let type = '(not JSON)';
      try {
        type = String((JSON.parse(body) as { type?: unknown }).type);
      } catch {
        // Reported as not JSON.
      }
      let saved = '';
      if (problem === null && options.save) {
        const file = join(resolve(io.cwd, options.save), `${(headers['svix-id'] as string).replace(/[^\w.-]/g, '_')}.json`);
        writeFileSync(file, `${JSON.stringify({ headers, body }, null, 2)}\n`, { mode: 0o600 });
        saved = `  saved ${file}`;
      }
      writeLine(io.stdout, escapeControls(`${new Date().toISOString().slice(11, 19)}  ${type}  ${headers['svix-id'] ?? '-'}  ${problem === null ? 'valid' : `refused: ${problem}`}${saved}`));
      res.writeHead(problem === null ? 204 : 400).end();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  writeLine(io.stderr, `bapi-webhooks: receiving on http://127.0.0.1:${port}${options.path} (secret from ${secret.from}); Ctrl-C stops`);
  await new Promise<void>((resolveStop) => {
    const stop = () => server.close(() => resolveStop());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT.ok;
}

runMain('bapi-webhooks', import.meta.url, main);
