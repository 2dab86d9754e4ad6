// bapi-curl and bapi-guard as clients of a key-custody broker: the request is read here exactly as
// without one (arguments, files, stdin, a batch file or FIFO read once), then sent to the broker,
// which judges, asks its person and sends it with its key. Nothing here needs or reads a key.
import { UsageError } from '../core/errors.js';
import { readStdin, writeLine, type IO } from '../core/io.js';
import { readBatchInput } from '../guard/batch.js';
import { readGuardRequest, type GuardArguments } from '../guard/request.js';
import { guardSpecOf } from '../guard/run-guard.js';
import { createHttpClient } from '../http/client.js';
import { readCall, type ExecuteOptions } from '../http/execute.js';
import { selectSpec } from '../spec/select.js';
import { clientTerminal, viaBroker, warnIfKeyReadable } from './client.js';
import type { ForwardedCallOptions, Wait } from './protocol.js';

/** bapi-curl under a broker: one request, --paginate, --batch or --resume. `noWait`: return approval_pending at once. */
export async function forwardCurl(options: ExecuteOptions, socket: string, noWait: boolean, io: IO): Promise<number> {
  warnIfKeyReadable(io, 'bapi-curl');
  noteIgnored(options, io, 'bapi-curl');
  const wait = waitOf(options.waitApprovalMs, noWait);
  const forwarded: ForwardedCallOptions = {
    include: options.include,
    verbose: options.verbose === true,
    dryRun: options.dryRun,
    paginate: options.paginate,
    slurp: options.slurp,
    ...(options.maxItems !== undefined ? { maxItems: options.maxItems } : {}),
    ...(options.jq !== undefined ? { jq: options.jq } : {}),
    timeoutMs: options.timeoutMs,
    backup: options.backup,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.spec.apiVersion !== undefined ? { apiVersion: options.spec.apiVersion } : {}),
    includePlatform: options.spec.includePlatform,
  };
  const terminal = clientTerminal(io);
  if (options.batch) {
    const { text, source } = await readBatchInput(options.batch.file, io);
    return viaBroker(socket, { op: 'batch', text, source, resume: options.batch.resume, concurrency: options.batch.concurrency, options: forwarded, wait, terminal }, io);
  }
  const { call } = await readCall(options, { io, createClient: createHttpClient, selectSpec, now: () => new Date() }, false);
  return viaBroker(socket, { op: 'call', call, options: forwarded, wait, terminal }, io);
}

/** bapi-guard under a broker: its verdict (after the person's answer, unless `noWait`), or a batch's. */
export async function forwardGuard(options: GuardArguments & { json: boolean; batch: string | undefined; admin: boolean; yes: boolean }, socket: string, noWait: boolean, io: IO): Promise<number> {
  warnIfKeyReadable(io, 'bapi-guard');
  noteIgnored({ spec: options.spec, admin: options.admin, yes: options.yes }, io, 'bapi-guard');
  const wait = waitOf(null, noWait);
  const terminal = clientTerminal(io);
  const pinned = options.spec.apiVersion !== undefined ? { apiVersion: options.spec.apiVersion } : {};
  if (options.batch !== undefined) {
    const { text, source } = await readBatchInput(options.batch, io);
    return viaBroker(socket, { op: 'guard-batch', text, source, json: options.json, wait, ...pinned, includePlatform: options.spec.includePlatform, terminal }, io);
  }
  // The request is read with this machine's spec (for -F field types); the broker judges it with its own.
  let stdinRead: Promise<string | null> | null = null;
  const stdin = () => (stdinRead ??= readStdin(io));
  const selected = await selectSpec({ ...options.spec, spec: undefined }, io);
  const spec = guardSpecOf(selected, await selected.loadDetail(), options.spec.includePlatform);
  const request = await readGuardRequest({ ...options, spec: { ...options.spec, spec: undefined } }, io, spec, stdin);
  return viaBroker(socket, { op: 'guard', request: { method: request.method, path: request.path, query: request.query, body: request.body }, json: options.json, wait, ...pinned, includePlatform: options.spec.includePlatform, terminal }, io);
}

/** As long as the broker keeps a pending approval (undefined), --wait-approval's seconds, or not at all (--no-wait). */
function waitOf(waitApprovalMs: number | null | undefined, noWait: boolean): Wait | undefined {
  if (noWait) return null;
  return waitApprovalMs ?? undefined;
}

/** What a broker does not take from its clients, said once so nobody wonders why it had no effect. */
function noteIgnored(options: { spec: { spec?: string | undefined }; admin: boolean; yes: boolean }, io: IO, command: string): void {
  if (options.spec.spec !== undefined) {
    if (options.spec.spec === '-') throw new UsageError('--spec - is not used under a key-custody broker: it judges with its own spec store');
    writeLine(io.stderr, `${command}: note: --spec is not used for judging under a key-custody broker: it judges with its own spec store`);
  }
  if (options.admin || options.yes) writeLine(io.stderr, `${command}: note: ${options.admin ? '--admin' : '--yes'} counts for nothing under a key-custody broker: the person at its terminal consents`);
}
