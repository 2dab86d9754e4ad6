#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { parseFlags, stringFlag } from '../lib/core/args.js';
import { UsageError } from '../lib/core/errors.js';
import { readStdin, writeLine, type IO } from '../lib/core/io.js';
import { defaultStateDir } from '../lib/core/state-dir.js';
import { brokerSocket } from '../lib/custody/protocol.js';
import { approvalTtl } from '../lib/guard/approvals.js';
import { guardSpecOf, runGuard, type GuardSpec } from '../lib/guard/run-guard.js';
import { readGuardRequest, type GuardArguments } from '../lib/guard/request.js';
import { SPEC_ENV_HELP, SPEC_FLAGS_HELP, selectSpec, specOptionsFrom } from '../lib/spec/select.js';

export const USAGE = `Usage: bapi-guard METHOD PATH [-d JSON|@file|-] [-q k=v]... [--form k=v]... [--admin] [--yes] [--json]
       … | bapi-guard [options]         (a request as JSON {method, path, query, body}, or a
                                         METHOD<TAB>PATH line as printed by extract-tag-endpoints)
       bapi-guard approve ID | deny ID  (a person, at their own terminal: grant or refuse a pending
                                         approval that an agent's request left)
       bapi-guard approvals [--json]    (pending, granted, used, denied and expired approvals)
       bapi-guard policy [person|flag]  (show the consent mode, or set it here; at a terminal only)
       bapi-guard --batch FILE|- [--admin] [--yes] [--json]
                                        (an NDJSON batch: every line checked, one consent and one
                                         approval for the exact lines, which bapi-curl --batch runs)
       bapi-guard serve [--key-command CMD] [--socket PATH] [--scopes S]
                                        (key custody: a person runs it in their own terminal; it
                                         holds the key, judges and sends every client's request,
                                         and asks that person, there, for every consent)

The mandatory pre-flight check for a Clerk Backend API request. It checks, in order, and reports
each check: (1) the secret key, (2) the request against the spec (endpoint, required parameters,
body schema), (3) for writes, the scopes in CLERK_BAPI_SCOPES, (4) what the request permanently
destroys, (5) the metadata it sets, (6) confirmation of destructive requests and of every write
with a sk_live_ key (a prompt at a terminal, otherwise --yes).
An allowed write yields an approval for that exact request (method, path, query, body, spec
version, key), single use and short-lived, which bapi-curl consumes. A GET needs no approval.

Consent: in flag mode (scripts, CI) --yes confirms and --admin bypasses the scope check. In person
mode (CLERK_BAPI_CONFIRM=person, a policy set with bapi-guard policy, or a process run by an AI
agent: CLAUDECODE, CODEX_SANDBOX, CURSOR_AGENT, GEMINI_CLI, CLERK_BAPI_AGENT, …) only a person can:
a request that needs consent records a pending approval (exit 4) and prints the command to run:
  To approve, run in your own terminal: bapi-guard approve apr_…
Once approved, the same bapi-curl command sends it, once.

Options:
  -d, --data JSON|@file|-  the JSON request body, from the argument, a file or stdin
  -f, --raw-field k=v      a string body field, as bapi-curl -f sends it (repeatable)
  -F, --field k=v          a typed body field, as bapi-curl -F sends it (repeatable)
  -q, --query k=v          a query parameter (repeatable); a ?query in PATH works too
  --form k=v|k=@file       a multipart field (repeatable), as bapi-curl --form sends it; the
                           approval binds each file's content (its SHA-256), not just its name
  --admin                  bypass the scope check (only that check)
  -y, --yes                confirm a destructive or live write without a prompt
  --json                   print the verdict as JSON on stdout: {allowed, request, endpoint,
                           checks:[{id, ok, message}], destroys, warnings, approval, ...}
  --ttl DURATION           approval lifetime: seconds, or 90s, 5m (default 5m, at most 60m)
  --no-wait                under a key-custody broker: return approval_pending (exit 4) at once
                           instead of waiting for the person at the broker's terminal
  --batch FILE|-           check a batch: one request per line, {method, path, query?, body?}
                           or METHOD<TAB>PATH; every problem is named with its line number and
                           refuses the whole batch; the summary counts each endpoint and says what
                           the batch destroys in total; consent is asked once (at a terminal, type
                           the number of destructive requests), then one approval covers exactly
                           these lines
${SPEC_FLAGS_HELP.replace(/^(.{23})/gm, '$1    ')}
  -h, --help               show this help
  -V, --version            show the toolkit's version
  bapi-guard serve's own (key custody, see README):
  --key-command CMD        the key is the first line CMD prints (sh -c): op read op://…,
                           security find-generic-password -w …, secret-tool lookup …, pass show …;
                           without it, the key is typed at this terminal with echo off. Never
                           from this process's environment, argv or a .env file.
  --socket PATH            where it listens (default $XDG_RUNTIME_DIR/clerk-bapi/broker.sock,
                           else broker.sock in the state directory); 0600 in a 0700 directory
  --scopes S               what writes may do (else CLERK_BAPI_SCOPES as it starts); a client's
                           scopes, --spec, --yes and --admin count for nothing
  Clients (bapi-curl, bapi-guard, bapi-mcp) use it when CLERK_BAPI_BROKER names its socket, or
  when one listens at the default socket, and then need no key.

Environment:
  CLERK_BAPI_BROKER        a key-custody broker's socket: requests are judged there (see above)
  CLERK_SECRET_KEY         the secret key (sk_test_… or sk_live_…); else read from .env.local,
                           then .env, in this directory or a parent up to the repository root
                           or $HOME. Never printed: at most its prefix and last 4 characters.
  CLERK_BAPI_SCOPES        what writes may do, comma or space separated: write, delete, or
                           narrowed to a tag or path resource: users:write, organizations:delete.
                           POST/PUT/PATCH need write; DELETE needs write and delete.
  CLERK_BAPI_STATE_DIR     where approvals are kept (default $XDG_STATE_HOME/clerk-bapi, else
                           ~/.local/state/clerk-bapi; mode 0700)
  CLERK_BAPI_APPROVAL_TTL  approval lifetime when --ttl is absent
  CLERK_BAPI_CONFIRM       person: only a person confirms (flag, the default, is ignored under
                           an agent marker); CLERK_BAPI_AGENT=1 marks an agent we don't recognise
  CLERK_BAPI_PENDING_TTL   how long a pending approval waits for a person (default 15m)
${SPEC_ENV_HELP.replace(/^(.{23})/gm, '$1    ')}
  NO_COLOR                 no colour on stderr even on a terminal

Exit codes:
  0 allowed · 1 runtime failure · 2 usage error, unknown endpoint or request invalid against the
  spec · 3 refused: no or malformed key, insufficient scopes · 4 needs confirmation (--yes or a
  terminal; in person mode a person's bapi-guard approve), or declined · 5 spec source
  unreachable and nothing cached

Examples:
  bapi-guard GET /users
  bapi-guard POST /users -d '{"email_address":["ada@example.com"]}'
  CLERK_BAPI_SCOPES=write,delete bapi-guard DELETE /users/user_123 --yes && bapi-curl DELETE /users/user_123
  CLERK_BAPI_SCOPES=users:write bapi-guard PATCH /users/user_123/metadata -d @metadata.json
  bapi-guard POST /organizations -d - --json < org.json | jq '.checks[] | select(.ok | not)'
  bapi-guard --batch deletes.ndjson && bapi-curl --batch deletes.ndjson > results.ndjson
`;

export interface Options extends GuardArguments {
  admin: boolean;
  yes: boolean;
  json: boolean;
  ttl: string | undefined;
  batch: string | undefined;
  noWait: boolean;
  /** bapi-guard serve's own. */
  keyCommand: string | undefined;
  socket: string | undefined;
  scopes: string | undefined;
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['bapi-guard']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  const query: Array<[string, string]> = [];
  for (const pair of flags.query as string[]) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`-q expects NAME=VALUE, got ${JSON.stringify(pair)}`);
    query.push([pair.slice(0, at), pair.slice(at + 1)]);
  }
  const data = stringFlag(flags, 'data');
  const form = flags.form as string[];
  if (data !== undefined && form.length > 0) throw new UsageError('--form cannot be combined with -d');
  const spec = specOptionsFrom(flags, env);
  const typedFields = flags.field as string[];
  const bodyFromStdin = data === '-' || typedFields.some((field) => /=@-$/.test(field));
  if (bodyFromStdin && spec.spec === '-') throw new UsageError('-d - and --spec - both want stdin: give one of them as a file');
  return {
    args: flags._.map(String),
    data,
    rawFields: flags['raw-field'] as string[],
    typedFields,
    query,
    form,
    admin: flags.admin === true,
    yes: flags.yes === true,
    json: flags.json === true,
    ttl: stringFlag(flags, 'ttl'),
    batch: stringFlag(flags, 'batch'),
    // minimist reads --no-wait as wait=false.
    noWait: flags.wait === false,
    keyCommand: stringFlag(flags, 'key-command'),
    socket: stringFlag(flags, 'socket'),
    scopes: stringFlag(flags, 'scopes'),
    spec,
  };
}

const PERSON_COMMANDS = new Set(['approve', 'deny', 'approvals', 'policy']);

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  const ttlSeconds = approvalTtl(options.ttl, io.env);
  const [command, argument, extra] = options.args;
  if (command !== undefined && PERSON_COMMANDS.has(command)) {
    if (extra !== undefined || (command === 'approvals' && argument !== undefined)) throw new UsageError(`unexpected argument: ${extra ?? argument}`);
    const person = await import('../lib/guard/person.js');
    const deps = { io, stateDir: defaultStateDir(io.env, io.cwd), terminal: person.openControllingTerminal, ttlSeconds };
    if (command === 'approvals') return person.list(options.json, deps);
    if (command === 'policy') return person.policy(argument, deps);
    return person.decide(argument, command === 'approve' ? 'grant' : 'deny', deps);
  }
  if (command === 'serve') return serve(options, io, ttlSeconds);
  const serveOnly = (['keyCommand', 'socket', 'scopes'] as const).find((name) => options[name] !== undefined);
  if (serveOnly) throw new UsageError(`--${serveOnly === 'keyCommand' ? 'key-command' : serveOnly} goes with bapi-guard serve`);
  const broker = brokerSocket(io.env, io.cwd);
  if (broker) {
    // Key custody: the broker judges (with its spec, scopes and approvals) and asks its person.
    const { forwardGuard } = await import('../lib/custody/forward.js');
    return forwardGuard(options, broker.path, options.noWait, io);
  }
  if (options.batch !== undefined) return checkBatch(options, io, ttlSeconds);
  let stdinRead: Promise<string | null> | null = null;
  const stdin = () => (stdinRead ??= readStdin(io));
  const stdinSpec = options.spec.spec === '-' ? await stdin() : undefined;
  const selected = await selectSpec(options.spec, io, stdinSpec);
  const detail = await selected.loadDetail();
  const spec: GuardSpec = guardSpecOf(selected, detail, options.spec.includePlatform);
  const request = await readGuardRequest(options, io, spec, stdin);
  const outcome = await runGuard(request, spec, io, { admin: options.admin, yes: options.yes, ttlSeconds, ...(request.method === 'DELETE' ? { describeTarget: (keyValue: string) => readTarget(keyValue, request.path, spec.version, io) } : {}) });
  if (options.json) writeLine(io.stdout, JSON.stringify(outcome.verdict, null, 2));
  return outcome.exitCode;
}

/** `bapi-guard --batch FILE|-`: the whole batch judged, one consent, one approval. */
async function checkBatch(options: Options, io: IO, ttlSeconds: number): Promise<number> {
  const given = options.args.length > 0 || options.data !== undefined || options.rawFields.length + options.typedFields.length + options.query.length + options.form.length > 0;
  if (given) throw new UsageError('--batch takes its requests from the file, one per line: no METHOD PATH, -d, -f, -F, -q or --form beside it');
  if (options.batch === '') throw new UsageError('--batch needs a FILE, or - for stdin');
  if (options.batch === '-' && options.spec.spec === '-') throw new UsageError('--batch - and --spec - both want stdin: give one of them as a file');
  const { parseBatch, readBatchInput, runBatchGuard } = await import('../lib/guard/batch.js');
  const { text, source } = await readBatchInput(options.batch as string, io);
  const { lines, problems } = parseBatch(text);
  if (lines.length === 0 && problems.length === 0) {
    writeLine(io.stderr, `bapi-guard: the batch ${source} has no requests: nothing to do`);
    return 0;
  }
  const selected = await selectSpec(options.spec, io);
  const spec: GuardSpec = guardSpecOf(selected, await selected.loadDetail(), options.spec.includePlatform);
  const outcome = await runBatchGuard(lines, problems, spec, io, { admin: options.admin, yes: options.yes, ttlSeconds, source });
  if (options.json) writeLine(io.stdout, JSON.stringify(outcome.verdict, null, 2));
  return outcome.exitCode;
}

/** `bapi-guard serve`: the key-custody broker, in this terminal, until Ctrl-C. */
async function serve(options: Options, io: IO, ttlSeconds: number): Promise<number> {
  if (options.args.length > 1) throw new UsageError(`unexpected argument: ${options.args[1]}`);
  const { serve: run } = await import('../lib/custody/broker.js');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    return await run({ ttlSeconds, ...(options.keyCommand !== undefined ? { keyCommand: options.keyCommand } : {}), ...(options.socket !== undefined ? { socket: options.socket } : {}), ...(options.scopes !== undefined ? { scopes: options.scopes } : {}) }, { io, input: process.stdin, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

/** The resource a DELETE removes, read with the guard's key (once a person is about to be asked); undefined when it cannot be. */
async function readTarget(keyValue: string, path: string, version: string, io: IO): Promise<unknown> {
  const [{ readWithKey }, { buildRequestUrl, resolveBaseUrl }] = await Promise.all([import('../lib/http/read-current.js'), import('../lib/request/url.js')]);
  return readWithKey(keyValue, version, buildRequestUrl(resolveBaseUrl(io.env.CLERK_API_URL), path, []), 5_000);
}

runMain('bapi-guard', import.meta.url, main);
