// One client request in a key-custody broker: checked as untrusted input (a client may be anything
// the agent wrote), then run through the pipeline with the broker's key, spec store, scopes,
// approvals and consent. What the client asked for that would change a judgement (a spec file, its
// scopes, --yes, --admin, a resource "as it is now") is not taken from it.
import type { Socket } from 'node:net';
import { UsageError } from '../core/errors.js';
import { writeLine, type IO, type OutStream } from '../core/io.js';
import { isObject } from '../core/values.js';
import { ID_PATTERN } from '../guard/approvals.js';
import { runBatchGuard, parseBatch } from '../guard/batch.js';
import type { GuardRequest } from '../guard/policy.js';
import { guardSpecOf, runGuard, type GuardSpec } from '../guard/run-guard.js';
import { runBatch } from '../http/batch.js';
import { executeCall, redactedIO, type CallOptions } from '../http/execute.js';
import { normalizeMethod, parseHeader, type ApiCall } from '../request/args.js';
import type { FormField } from '../request/form.js';
import type { SpecOptions } from '../spec/select.js';
import type { BrokerContext } from './broker.js';
import { encodeFrame, type ClientTerminal, type ForwardedCallOptions, type Wait } from './protocol.js';

/** Runs one request; returns the exit code, or throws its failure (sent to the client as data). */
export async function handle(request: unknown, socket: Socket, context: BrokerContext, signal: AbortSignal): Promise<number> {
  if (!isObject(request)) throw new UsageError('the broker got a request it cannot read');
  if (typeof request.problem === 'string') throw new UsageError(`the broker got ${request.problem}`);
  const op = request.op;
  if (op === 'status') {
    socket.write(encodeFrame({ t: 'status', status: context.status }));
    return 0;
  }
  const io = redactedIO(clientIO(socket, context, terminalOf(request.terminal)), context.key);
  const deps = context.deps(io, signal);
  const wait = waitOf(request.wait, context);
  if (op === 'call') {
    const options = callOptions(request.options, wait);
    return executeCall(checkedCall(request.call), options, deps);
  }
  if (op === 'batch') {
    const options = callOptions(request.options, wait);
    const input = { text: stringOf(request.text, 'text'), source: stringOf(request.source, 'source') };
    return runBatch({ ...options, batch: input.source, input, resume: request.resume === true, concurrency: positive(request.concurrency, 4), signal }, deps);
  }
  if (op === 'guard' || op === 'guard-batch') {
    const specOptions = specOptionsOf(request.apiVersion, request.includePlatform === true);
    const selected = await deps.selectSpec(specOptions, io);
    const spec: GuardSpec = guardSpecOf(selected, await selected.loadDetail(), specOptions.includePlatform);
    const json = request.json === true;
    if (op === 'guard') return judge(checkedGuardRequest(request.request), spec, io, context, request.check === true ? 'check' : wait, json);
    return judgeBatch(stringOf(request.text, 'text'), stringOf(request.source, 'source'), spec, io, context, wait, json);
  }
  throw new UsageError(`the broker does not know the request ${JSON.stringify(op)}`);
}

/** `bapi-guard METHOD PATH` through the broker: the verdict, after the person's answer when one is needed. */
async function judge(request: GuardRequest, spec: GuardSpec, io: IO, context: BrokerContext, wait: Wait | 'check', json: boolean): Promise<number> {
  const check = wait === 'check' ? { issueApproval: false, issuePending: false } : {};
  const options = { key: context.key, store: context.store, consent: context.consent, prompter: null, ttlSeconds: context.ttlSeconds, ...check };
  const waits = wait === 'check' ? null : wait;
  const outcome = await afterTheAnswer((explain) => runGuard(request, spec, io, { ...options, explain, waiting: waits !== null }), io, context, waits);
  if (json) writeLine(io.stdout, JSON.stringify(outcome.verdict, null, 2));
  return outcome.exitCode;
}

/** `bapi-guard --batch` through the broker. */
async function judgeBatch(text: string, source: string, spec: GuardSpec, io: IO, context: BrokerContext, wait: Wait, json: boolean): Promise<number> {
  const { lines, problems } = parseBatch(text);
  if (lines.length === 0 && problems.length === 0) {
    writeLine(io.stderr, `bapi-guard: the batch ${source} has no requests: nothing to do`);
    return 0;
  }
  const options = { key: context.key, store: context.store, consent: context.consent, prompter: null, ttlSeconds: context.ttlSeconds, source };
  const outcome = await afterTheAnswer((explain) => runBatchGuard(lines, problems, spec, io, { ...options, explain, waiting: wait !== null }), io, context, wait);
  if (json) writeLine(io.stdout, JSON.stringify(outcome.verdict, null, 2));
  return outcome.exitCode;
}

/**
 * A guard's outcome (one request's or a batch's), and, when it left an approval pending and the
 * client waits, the outcome once the person answered at the broker's terminal.
 */
async function afterTheAnswer<O extends { verdict: { approval: { id: string; status: string } | null }; exitCode: number }>(run: (explain: boolean) => Promise<O>, io: IO, context: BrokerContext, wait: Wait): Promise<O> {
  const outcome = await run(true);
  const pending = outcome.verdict.approval?.status === 'pending' ? outcome.verdict.approval : null;
  if (!pending || wait === null) return outcome;
  writeLine(io.stderr, `bapi-guard: waiting for the person to answer ${pending.id} in ${context.store.person?.where ?? 'the broker'}`);
  const decision = await context.store.watch(pending.id, wait);
  if (decision === 'granted') return run(false);
  writeLine(io.stderr, `bapi-guard: ${pending.id} was ${decision === 'timeout' ? 'not answered within the wait' : decision}; nothing is approved`);
  return outcome;
}

/** The client's streams, as frames on its socket; they look as the client's own do (a terminal, its width, NO_COLOR). */
function clientIO(socket: Socket, context: BrokerContext, terminal: ClientTerminal): IO {
  const stream = (t: 'out' | 'err', tty: boolean): OutStream => ({
    write: (chunk: string) => (socket.destroyed ? true : socket.write(encodeFrame({ t, d: chunk }))),
    isTTY: tty,
    columns: tty ? terminal.columns : undefined,
    once: (event: 'drain', listener: () => void) => socket.once(event, listener),
  });
  const env = { ...context.env };
  delete env.NO_COLOR;
  if (terminal.noColor) env.NO_COLOR = '1';
  if (terminal.columns !== undefined) env.COLUMNS = String(terminal.columns);
  const stdin = Object.assign((async function* () {})(), { isTTY: false });
  return { stdin, stdout: stream('out', terminal.stdout), stderr: stream('err', terminal.stderr), env, cwd: context.cwd };
}

function terminalOf(value: unknown): ClientTerminal {
  const given = isObject(value) ? value : {};
  const columns = typeof given.columns === 'number' && Number.isInteger(given.columns) && given.columns > 0 && given.columns < 10_000 ? given.columns : undefined;
  return { stdout: given.stdout === true, stderr: given.stderr === true, noColor: given.noColor === true, ...(columns ? { columns } : {}) };
}

/** The wait for the person: what the client asked, at most the pending approval's lifetime; null: --no-wait. */
function waitOf(value: unknown, context: BrokerContext): Wait {
  const most = context.status.pendingTtlSeconds * 1000;
  if (value === null) return null;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.min(value, most) : most;
}

function callOptions(value: unknown, wait: Wait): CallOptions {
  const given = (isObject(value) ? value : {}) as Partial<ForwardedCallOptions>;
  return {
    include: given.include === true,
    verbose: given.verbose === true,
    dryRun: given.dryRun === true,
    paginate: given.paginate === true,
    slurp: given.slurp === true,
    ...(typeof given.maxItems === 'number' && given.maxItems > 0 ? { maxItems: Math.floor(given.maxItems) } : {}),
    ...(typeof given.jq === 'string' ? { jq: given.jq } : {}),
    timeoutMs: positive(given.timeoutMs, 30_000),
    ...(given.concurrency !== undefined ? { concurrency: positive(given.concurrency, 4) } : {}),
    // Consent is the person's at the broker's terminal: the client's --yes and --admin count for nothing.
    admin: false,
    yes: false,
    backup: given.backup !== false,
    waitApprovalMs: wait,
    spec: specOptionsOf(given.apiVersion, given.includePlatform === true),
  };
}

/** The broker's own spec store; the client may pin a version of it, not bring a spec of its own. */
function specOptionsOf(apiVersion: unknown, includePlatform: boolean): SpecOptions {
  return { ...(typeof apiVersion === 'string' && apiVersion !== '' ? { apiVersion } : {}), offline: false, refresh: false, includePlatform };
}

/** The call as sent by a client, every field checked as the command line checks it. */
function checkedCall(value: unknown): ApiCall {
  if (!isObject(value)) throw new UsageError('the request has no call');
  const headers: Record<string, string> = {};
  if (isObject(value.headers)) for (const [name, header] of Object.entries(value.headers)) headers[parseHeader(`${name}: ${stringOf(header, 'header')}`)[0]] = parseHeader(`${name}: ${header as string}`)[1];
  const form = value.form === null || value.form === undefined ? null : formOf(value.form);
  const approvalId = value.approvalId;
  return {
    method: normalizeMethod(stringOf(value.method, 'method')),
    path: stringOf(value.path, 'path'),
    query: pairsOf(value.query),
    body: value.body === null ? undefined : value.body,
    form,
    headers,
    ...(typeof approvalId === 'string' && ID_PATTERN.test(approvalId) ? { approvalId } : {}),
  };
}

function checkedGuardRequest(value: unknown): GuardRequest {
  if (!isObject(value)) throw new UsageError('the request has nothing to judge');
  // `current` (the resource as it is now) is never a client's to say: the broker reads it itself.
  return { method: normalizeMethod(stringOf(value.method, 'method')), path: stringOf(value.path, 'path'), query: pairsOf(value.query), body: value.body === null ? undefined : value.body };
}

function formOf(value: unknown): FormField[] {
  if (!Array.isArray(value)) throw new UsageError('the request\'s form is not a list of fields');
  return value.map((field) => {
    if (!isObject(field)) throw new UsageError('a form field is not an object');
    const out: FormField = { name: stringOf(field.name, 'form field name') };
    for (const part of ['value', 'file', 'type'] as const) if (field[part] !== undefined) out[part] = stringOf(field[part], `form field ${part}`);
    return out;
  });
}

function pairsOf(value: unknown): Array<[string, string]> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new UsageError('the request\'s query is not a list of pairs');
  return value.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new UsageError('a query pair is not [name, value]');
    return [stringOf(pair[0], 'query name'), stringOf(pair[1], 'query value')];
  });
}

function stringOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new UsageError(`the request's ${what} is not a string`);
  return value;
}

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
