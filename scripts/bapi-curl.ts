#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, reportError, runMain } from '../lib/cli/command.js';
import { curlTarget, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, timeoutFrom, waitApproval } from '../lib/cli/curl-args.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { brokerSocket } from '../lib/custody/protocol.js';
import { parseFlags, stringFlag } from '../lib/core/args.js';
import { UsageError } from '../lib/core/errors.js';
import type { IO } from '../lib/core/io.js';
import { findSecretKey } from '../lib/guard/key.js';
import { createHttpClient } from '../lib/http/client.js';
import { executeRequest, redactedIO, type ExecuteOptions } from '../lib/http/execute.js';
import { SPEC_ENV_HELP, SPEC_FLAGS_HELP, selectSpec, specOptionsFrom } from '../lib/spec/select.js';

export const USAGE = `Usage: bapi-curl METHOD PATH [options]
       bapi-curl < request.json        (a bapi-guard --json verdict, or {method, path, query, body})
       bapi-curl --batch FILE|- [--resume] [--concurrency N]
                                       (an NDJSON batch approved by bapi-guard --batch; one NDJSON
                                        result per line on stdout)

Sends one authenticated request to Clerk's Backend API and prints the response body on stdout.
A GET needs only the key. A write (POST, PUT, PATCH, DELETE) is sent only with the guard's
approval for that exact request (from bapi-guard), or after the same guard runs here first, with
the same checks, prompts and exit codes. Every write is recorded in the audit log; before a
DELETE, the resource is fetched and saved in the backups.

Options:
  -d, --data JSON|@file|-  JSON request body, from the argument, a file or stdin
  -f, --raw-field k=v      a string body field (repeatable; key[sub]=v and key[]=v nest)
  -F, --field k=v          a typed body field: the spec's type where it knows the field, else
                           true/false/null/numbers/JSON are typed and @file reads a file
                           (for GET, -f/-F go to the query string)
  -q, --query k=v          a query parameter (repeatable: repeat for arrays)
  --form k=@file|k=v       a multipart/form-data field (file uploads); k=@file;type=image/png
                           sets the part's type (else guessed from the extension)
  -H, --header 'Name: v'   an extra request header (repeatable; not Authorization, and not
                           Clerk-API-Version or Content-Type: the guard judged those)
  -X, --method METHOD      the method, as curl takes it (bapi-curl -X POST /users is POST /users)
  -i, --include            print the status line and response headers before the body
  -v, --verbose            print the request line and headers (the key masked) and the
                           response's status and headers on stderr
  --dry-run                print the request and an equivalent curl command; send nothing
  --paginate               follow a list to its end (Clerk's starting_after cursor where the
                           endpoint and ordering allow, else limit/offset; paginated=true where
                           the endpoint takes it, so the progress line knows the total); one item
                           per line (NDJSON), in the order of a sequential walk, with a progress
                           line on stderr when it is a terminal
  --slurp                  with --paginate: one JSON array instead of lines
  --max-items N            with --paginate: stop after N items
  --jq FILTER              filter the response with jq (per item with --paginate); strings are
                           printed raw, other values one per line (indented on a terminal)
  --timeout SECONDS        give up on an attempt after this long (default 30)
  --admin                  the guard's scope check is bypassed (only that check)
  -y, --yes                confirm a destructive or live write without a prompt (flag mode only)
  --wait-approval          when a person must approve (person mode), wait for their decision,
                           then send or exit 4: as long as the pending approval lives, or at
                           most SECONDS with --wait-approval=SECONDS
  --no-wait                under a key-custody broker: return approval_pending (exit 4) at once
                           instead of waiting for the person at the broker's terminal
  --no-backup              do not save the resource before a DELETE
  --batch FILE|-           run a batch: one request per line ({method, path, query?, body?} or
                           METHOD<TAB>PATH), sent once bapi-guard --batch approved exactly these
                           lines (else the batch guard runs here, with one prompt); prints
                           {line, method, path, status, clerk_trace_id, body | error} per line,
                           in line order, with a progress line on a terminal
  --concurrency N          with --batch: requests in flight at once (default 4); with --paginate on
                           GET /users: cursors in flight at once, over time ranges (1: one cursor;
                           default 4, or 1 when the API answers its first page within 40 ms, where
                           more cursors gain less than they cost in memory); at most 32, all under
                           the shared rate-limit budget
  --resume                 with --batch: finish an interrupted run of the same file; lines sent
                           before are never sent again, and a line in flight at the interruption
                           is reported as unknown (checked with a GET where one exists)
${SPEC_FLAGS_HELP.replace(/^(.{23})/gm, '$1    ')}
  -h, --help               show this help
  -V, --version            show the toolkit's version

Environment:
  CLERK_SECRET_KEY         the secret key; else read from .env.local, then .env, up to the repository
                           root. Sent only in the Authorization header, never printed or logged.
  CLERK_BAPI_BROKER        a key-custody broker's socket (bapi-guard serve): every request goes
                           through it and this process needs no key (also found at its default
                           socket, $XDG_RUNTIME_DIR/clerk-bapi/broker.sock, when one listens there)
  CLERK_API_URL            API base URL (default https://api.clerk.com; /v1 is added to PATH);
                           https://, or http:// to localhost only
  CLERK_BAPI_SCOPES        what writes may do (see bapi-guard --help)
  CLERK_BAPI_STATE_DIR     approvals, audit.log and backups/ (default ~/.local/state/clerk-bapi)
  CLERK_BAPI_JQ            the jq to use for --jq: a path, or "wasm" for the built-in one
                           (default: jq on PATH, else the built-in one)
  CLERK_BAPI_MAX_RETRIES   retries of a failed attempt (default 3)
  CLERK_BAPI_RETRY_DELAY_MS  first backoff delay in ms, doubled each retry (default 500)
  CLERK_BAPI_MAX_RESPONSE_MB the largest answer read into memory (default 256)
  CLERK_BAPI_RATE_LIMIT    the instance's budget, N/Ws (default 100/10s test, 1000/10s live),
                           shared by every process with this key; lower it when others share it
${SPEC_ENV_HELP.replace(/^(.{23})/gm, '$1    ')}

Retries: a 429 is retried after its Retry-After; 502/503/504 and lost connections are retried with
backoff for GET, PUT and DELETE only. A POST or PATCH is never repeated once it may have arrived.
A write follows no redirect. The key is masked in everything printed, logged or backed up.

Per-endpoint limits (specs/rate-limits.json, e.g. POST /invitations 100 per hour) are kept too: a
wait within a minute is waited; an hourly limit that is spent fails fast (exit 1) saying when it frees.

Exit codes:
  0 ok · 1 the API answered an HTTP error (body on stdout, summary on stderr), or another failure
  (--batch: a line failed, is unknown, or was left unsent for --resume)
  2 usage error, unknown endpoint, request invalid against the spec · 3 refused: no or malformed
  key, insufficient scopes · 4 needs confirmation (--yes or a terminal) · 5 network or spec
  source unreachable

Examples:
  bapi-curl GET /users -q limit=5 --jq '.[].id'
  bapi-curl GET /users --paginate -q created_at_after=$(( ($(date +%s) - 7*86400) * 1000 )) --jq .id
  bapi-curl POST /organizations -f name=Acme -f created_by=user_123
  bapi-curl PATCH /users/user_123/metadata -d '{"public_metadata":{"plan":"pro"}}'
  bapi-guard DELETE /users/user_123 --yes --json | bapi-curl
  bapi-guard --batch deletes.ndjson && bapi-curl --batch deletes.ndjson > results.ndjson
`;

export function parseArgs(argv: string[], env: IO['env']): ExecuteOptions | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['bapi-curl']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  const positional = flags._.map(String);
  const batch = stringFlag(flags, 'batch');
  const concurrencyText = stringFlag(flags, 'concurrency');
  if (batch === undefined && flags.resume === true) throw new UsageError('--resume goes with --batch FILE');
  if (batch === undefined && concurrencyText !== undefined && flags.paginate !== true) throw new UsageError('--concurrency goes with --batch FILE or --paginate');
  let concurrency: number | undefined;
  if (concurrencyText !== undefined) {
    if (!/^\d+$/.test(concurrencyText) || Number(concurrencyText) < 1 || Number(concurrencyText) > MAX_CONCURRENCY) throw new UsageError(`--concurrency ${concurrencyText}: expected 1 to ${MAX_CONCURRENCY}`);
    concurrency = Number(concurrencyText);
  }
  if (positional.length > 2) throw new UsageError(`unexpected argument: ${positional[2]}`, { hints: ['Run bapi-curl --help for usage.'] });
  const { method, path } = curlTarget(positional, stringFlag(flags, 'method'));
  const timeoutMs = timeoutFrom(stringFlag(flags, 'timeout'));
  const options: ExecuteOptions = {
    method,
    path,
    rawFields: flags['raw-field'] as string[],
    typedFields: flags.field as string[],
    query: flags.query as string[],
    form: flags.form as string[],
    headers: flags.header as string[],
    include: flags.include === true,
    verbose: flags.verbose === true,
    dryRun: flags['dry-run'] === true,
    paginate: flags.paginate === true,
    slurp: flags.slurp === true,
    timeoutMs,
    admin: flags.admin === true,
    yes: flags.yes === true,
    // minimist reads --no-backup as backup=false.
    backup: flags.backup !== false && flags['no-backup'] !== true,
    waitApprovalMs: waitApproval(flags['wait-approval']),
    // minimist reads --no-wait as wait=false.
    noWait: flags.wait === false,
    spec: specOptionsFrom(flags, env),
    // Absent: the walk chooses (see lib/http/split-walk.ts); a batch takes DEFAULT_CONCURRENCY.
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
  const data = flags.data as unknown;
  if (data !== undefined) {
    if (typeof data !== 'string' || data === '') throw new UsageError('--data needs a value: JSON, @file, or - for stdin');
    options.data = data;
  }
  const jq = stringFlag(flags, 'jq');
  if (jq !== undefined) options.jq = jq;
  const maxItems = stringFlag(flags, 'max-items');
  if (maxItems !== undefined) {
    if (!/^\d+$/.test(maxItems) || Number(maxItems) < 1) throw new UsageError(`--max-items ${maxItems}: expected a whole number of items`);
    if (!options.paginate) throw new UsageError('--max-items goes with --paginate');
    options.maxItems = Number(maxItems);
  }
  if (options.slurp && !options.paginate) throw new UsageError('--slurp goes with --paginate');
  if (options.paginate && options.include) throw new UsageError('-i cannot be combined with --paginate');
  if (batch !== undefined) {
    if (batch === '') throw new UsageError('--batch needs a FILE, or - for stdin');
    const single = options.method !== null || options.data !== undefined || options.rawFields.length + options.typedFields.length + options.query.length + options.form.length + options.headers.length > 0;
    if (single) throw new UsageError('--batch takes its requests from the file, one per line: no METHOD PATH, -d, -f, -F, -q, -H or --form beside it');
    if (options.paginate || options.dryRun || options.include || options.jq !== undefined) throw new UsageError('--batch cannot be combined with --paginate, --dry-run, -i or --jq (filter its NDJSON results with jq)');
    options.batch = { file: batch, resume: flags.resume === true, concurrency: concurrency ?? DEFAULT_CONCURRENCY };
    return options;
  }
  if (options.method === null && (options.data !== undefined || options.rawFields.length + options.typedFields.length + options.form.length > 0)) {
    throw new UsageError('missing METHOD PATH', { hints: ['Run bapi-curl --help for usage.'] });
  }
  return options;
}

export async function main(argv: string[], rawIo: IO): Promise<number> {
  const options = parseArgs(argv, rawIo.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, rawIo);
  const broker = brokerSocket(rawIo.env, rawIo.cwd);
  if (broker) {
    // Key custody: the broker holds the key and asks its person; this process needs neither.
    const { forwardCurl } = await import('../lib/custody/forward.js');
    return forwardCurl(options, broker.path, options.noWait === true, rawIo);
  }
  // Whatever a server echoes, the key is never printed: every stream, and every error, goes through this.
  const key = findSecretKey(rawIo.env, rawIo.cwd);
  const io = redactedIO(rawIo, key);
  try {
    const deps = { io, createClient: createHttpClient, selectSpec, now: () => new Date(), key };
    if (options.batch) {
      const { runBatch } = await import('../lib/http/batch.js');
      const { file, resume, concurrency } = options.batch;
      // Ctrl-C once: the batch takes no new line and finishes those in flight; twice: quit at once.
      const interrupt = new AbortController();
      const onSigint = () => (interrupt.signal.aborted ? process.exit(130) : interrupt.abort());
      process.on('SIGINT', onSigint);
      try {
        return await runBatch({ batch: file, resume, concurrency, timeoutMs: options.timeoutMs, admin: options.admin, yes: options.yes, backup: options.backup, waitApprovalMs: options.waitApprovalMs, spec: options.spec, signal: interrupt.signal }, deps);
      } finally {
        process.off('SIGINT', onSigint);
      }
    }
    return await executeRequest(options, deps);
  } catch (error) {
    return reportError('bapi-curl', error, io);
  }
}

runMain('bapi-curl', import.meta.url, main);
