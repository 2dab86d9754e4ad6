// `bapi-curl --batch FILE|-`: runs a batch the guard approved as a whole. Lines go out with bounded
// concurrency under the shared rate-limit budget; a journal in the state directory records each
// line before it leaves and once it is answered, so `--resume` after a crash or Ctrl-C sends only
// what never left, and a line that was in flight is reported as unknown (checked with a GET where
// one exists), never resent. Results are NDJSON on stdout, in line order.
import { renameSync } from 'node:fs';
import { BackupFailedError, EXIT, UsageError } from '../core/errors.js';
import { colorsFor, writeLine, type IO } from '../core/io.js';
import { defaultStateDir } from '../core/state-dir.js';
import { hasGet, matchEndpoint } from '../endpoint/match.js';
import { approvalStore, sealerFor } from '../guard/approval-files.js';
import type { Approval } from '../guard/approvals.js';
import { authorizeBatchRequest, parseBatch, readBatchInput } from '../guard/batch.js';
import { batchDigest, evaluateBatch, renderBatchVerdict, type BatchLine } from '../guard/batch-verdict.js';
import type { ConsentRecord } from '../guard/authorize.js';
import { consentFor } from '../guard/consent.js';
import { findSecretKey, keyError, redactSecret, type SecretKey } from '../guard/key.js';
import { apiOrigin, guardSpecOf, specDigest, type GuardSpec } from '../guard/run-guard.js';
import { prepareRequest } from '../request/prepare.js';
import { buildRequestUrl, resolveBaseUrl, resolveRequestTarget } from '../request/url.js';
import type { EndpointSummary } from '../spec/index.js';
import type { HttpClient, HttpResponse } from './client.js';
import type { Custody, ExecuteDeps, ExecuteOptions } from './execute.js';
import { clerkClient, sendRequest, usableStateDir } from './send.js';
import { endpointLimiter, RateLimitExhausted } from './endpoint-limits.js';
import { Journal, JOURNAL_FORMAT, journalPath, lockRun, readJournal, unfinishedJournalFor, type JournalHeader, type JournalState } from './journal.js';
import { groupDigits, progressLine } from './paginate.js';
import { traceIdOf } from './response.js';
import { resultOf, Tally, type BatchResult } from './batch-results.js';

/** A batch run: the file, and the single-request options that mean the same for each line. */
export interface BatchRunOptions extends Pick<ExecuteOptions, 'timeoutMs' | 'admin' | 'yes' | 'backup' | 'waitApprovalMs' | 'spec'> {
  /** FILE, or - for stdin. */
  batch: string;
  resume: boolean;
  /** Requests in flight at once (default 4). */
  concurrency: number;
  /** Aborted: take no new line, finish those in flight, leave the rest for --resume. */
  signal?: AbortSignal;
  /** The batch already read (by a client of a key-custody broker), and the name it was read from. */
  input?: { text: string; source: string };
}

/** An interrupted run may be resumed for this long after it began. */
const MAX_RESUME_MS = 24 * 3600 * 1000;

/** Runs a batch; the exit code: 0 when every line succeeded, 1 when any failed or is unknown. */
export async function runBatch(options: BatchRunOptions, deps: ExecuteDeps): Promise<number> {
  const { io } = deps;
  if (options.batch === '-' && options.spec.spec === '-') throw new UsageError('--batch - and --spec - both want stdin: give one of them as a file');
  const { text, source } = options.input ?? (await readBatchInput(options.batch, io));
  const { lines, problems } = parseBatch(text);
  if (lines.length === 0 && problems.length === 0) {
    writeLine(io.stderr, `bapi-curl: the batch ${source} has no requests: nothing to do`);
    return EXIT.ok;
  }
  const selected = await deps.selectSpec(options.spec, io);
  const spec: GuardSpec = guardSpecOf(selected, await selected.loadDetail(), options.spec.includePlatform);
  const key: SecretKey = deps.key ?? findSecretKey(io.env, io.cwd);
  const stateDir = defaultStateDir(io.env, io.cwd);
  if (problems.length > 0) {
    // A line that is not a request refuses the whole batch before any approval is looked at.
    const verdict = evaluateBatch(lines, problems, spec, { env: io.env, key, admin: false, yes: false, consent: consentFor(io.env, stateDir), source });
    io.stderr.write(renderBatchVerdict(redactSecret(verdict, key.value, key.info.masked ?? '[REDACTED]'), colorsFor({ isTTY: false, write: () => true }, {}), 'bapi-curl --batch'));
    throw new UsageError(verdict.reason ?? 'the batch has problems; nothing was sent');
  }
  if (!key.info.wellFormed || key.info.fingerprint === null) throw keyError(key.info);
  const base = resolveBaseUrl(io.env.CLERK_API_URL);
  for (const line of lines) resolveRequestTarget(base, line.path, line.query);
  usableStateDir(stateDir);
  const digest = batchDigest(lines);
  const path = journalPath(stateDir, digest);
  const unlock = lockRun(path);
  try {
    const seal = deps.custody?.seal ?? sealerFor(stateDir);
    let journal: JournalState | null = readJournal(path, seal);
    const binding = { digest, key_fingerprint: key.info.fingerprint, origin: apiOrigin(io.env), version: spec.version, spec_digest: specDigest(spec) };
    let approval: Approval | null = null;
    let writer: Journal | null = null;
    // A resumed run goes on under the consent its journal records (its approval's id); a new one's comes from authorize.
    let consent: ConsentRecord = { confirmedBy: 'not-needed', consentMode: 'flag', scopeBypass: null };
    if (options.resume) {
      if (journal === null) {
        const other = unfinishedJournalFor(stateDir, source, seal);
        if (other) throw new UsageError(`--resume: ${source} is not the batch that was interrupted (its lines changed since that run began); refused, nothing was sent`, { hints: [`The interrupted run is in ${other}; resume it with the file as it was.`] });
        throw new UsageError(`--resume: no interrupted run of this batch (${source}) to resume`, { hints: ['Run it without --resume (after bapi-guard --batch).'] });
      }
      const mismatch = (Object.keys(binding) as Array<keyof typeof binding>).find((name) => journal!.header[name] !== binding[name]);
      if (mismatch) throw new UsageError(`--resume: the interrupted run was for another ${mismatch.replace(/_/g, ' ')}; refused, nothing was sent`);
      if (journal.finished) {
        writeLine(io.stderr, `bapi-curl: this batch already finished (${journal.done.size} lines); nothing to resume`);
        return EXIT.ok;
      }
      // A consent covers finishing the run it began, not a run picked up again days later.
      const age = deps.now().getTime() - Date.parse(journal.header.started_at);
      if (!(age <= MAX_RESUME_MS)) {
        throw new UsageError(`--resume: the interrupted run began at ${journal.header.started_at}, more than 24 hours ago; refused, nothing was sent`, {
          hints: ['Put the lines that are left in a new batch, and have it checked and approved again (bapi-guard --batch).'],
        });
      }
    } else {
      if (journal !== null && !journal.finished) {
        throw new UsageError(`a run of this batch was interrupted (${journal.done.size} of ${journal.header.lines} lines done); nothing was sent`, {
          hints: ['Finish it with: bapi-curl --batch FILE --resume (lines that were already sent are never sent again).'],
        });
      }
      const authorization = await authorize(lines, spec, io, options, key, stateDir, source, deps.custody);
      approval = authorization.approval;
      consent = authorization.consent;
      if (journal !== null) renameSync(path, `${path.slice(0, -'.journal'.length)}.${new Date().toISOString().replace(/[:.]/g, '-')}.finished`);
      const header: JournalHeader = { journal: JOURNAL_FORMAT, ...binding, key_fingerprint: key.info.fingerprint as string, approval_id: approval?.id ?? null, lines: lines.length, source, started_at: deps.now().toISOString() };
      writer = Journal.create(path, header, seal);
      journal = { header, done: new Map(), inFlight: new Set(), finished: false };
      if (approval) writeLine(io.stderr, `bapi-curl: using batch approval ${approval.id}`);
    }
    const approvalId = approval?.id ?? journal.header.approval_id;
    return await sendAll(lines, journal, writer ?? Journal.continue(path, seal), { options, deps, spec, key, stateDir, base, consent, approvalId });
  } finally {
    unlock();
  }
}

/** The batch approval for these lines, or the batch guard inline; with --wait-approval, a person's decision awaited: as one request is. */
async function authorize(lines: BatchLine[], spec: GuardSpec, io: IO, options: BatchRunOptions, key: SecretKey, stateDir: string, source: string, custody: Custody | undefined) {
  const store = custody?.store ?? approvalStore(stateDir);
  const outcome = await authorizeBatchRequest(lines, spec, io, { admin: options.admin, yes: options.yes, key, stateDir, store, label: 'bapi-curl --batch (guard)', source, consent: custody?.consent ?? consentFor(io.env, stateDir), waitApprovalMs: options.waitApprovalMs });
  if (outcome.kind !== 'allowed') throw outcome.failure;
  return outcome;
}

interface SendContext {
  options: BatchRunOptions;
  deps: ExecuteDeps;
  spec: GuardSpec;
  key: SecretKey;
  stateDir: string;
  base: URL;
  consent: ConsentRecord;
  approvalId: string | null;
}

async function sendAll(lines: BatchLine[], state: JournalState, journal: Journal, context: SendContext): Promise<number> {
  const { deps, spec, key, stateDir } = context;
  const { io } = deps;
  const client = clerkClient(deps, key, spec.version, context.options.timeoutMs, stateDir);
  const limiter = endpointLimiter(stateDir, key.info.fingerprint as string, (text) => writeLine(io.stderr, `bapi-curl: ${text}`));
  const progress = progressLine(io.stderr, { render: (n, total) => `batch: ${groupDigits(n)} of ${groupDigits(total ?? lines.length)} lines done${tally.failed > 0 ? `, ${tally.failed} failed` : ''}…` });
  const stdout = progress.around(io.stdout);
  // Results are printed in line order, so an earlier run printed every line before the first one it
  // left open, and none after it: --resume prints the lines finished earlier only from there on,
  // and `… > r.ndjson; … --resume >> r.ndjson` holds each line once.
  const firstOpen = lines.findIndex((line) => !state.done.has(line.line));
  const print = (result: BatchResult, index: number) => (result.skipped && (firstOpen < 0 || index < firstOpen) ? undefined : stdout.write(`${JSON.stringify(redactSecret(result, key.value, key.info.masked ?? '[REDACTED]'))}\n`));
  const tally: Tally = new Tally(lines.length, print, (n) => progress.update(n, lines.length));
  const settle = (index: number, result: BatchResult | null) => tally.settle(index, result);
  let stopping: string | null = null;
  const exhausted = new Map<string, RateLimitExhausted>();
  // The front-end's signal (bapi-curl: the first Ctrl-C): no new line is taken; those in flight finish.
  const signal = context.options.signal;
  const onAbort = () => {
    stopping = 'interrupted';
    writeLine(io.stderr, '\nbapi-curl: stopping after the requests in flight (Ctrl-C again to quit at once); run the same command with --resume to send the rest');
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let cursor = 0;
  const worker = async () => {
    for (;;) {
      const index = cursor++;
      if (index >= lines.length) return;
      const line = lines[index] as BatchLine;
      const done = state.done.get(line.line);
      if (done) {
        settle(index, { line: line.line, method: line.method, path: line.path, status: done.status, clerk_trace_id: done.trace, skipped: true, ...(done.ok ? {} : { error: { code: 'failed_before', message: done.error ?? `failed in an earlier run (HTTP ${done.status ?? 'no answer'}); not resent` } }) });
        continue;
      }
      if (state.inFlight.has(line.line)) {
        settle(index, await checkInFlight(line, client, context, journal));
        continue;
      }
      if (stopping !== null) {
        settle(index, null);
        continue;
      }
      const endpoint = matchedEndpoint(spec.endpoints, line);
      const limitKey = endpoint ? `${endpoint.method} ${endpoint.path}` : '';
      if (exhausted.has(limitKey)) {
        settle(index, null);
        continue;
      }
      try {
        if (endpoint) await limiter.acquire(endpoint, line.path);
      } catch (error) {
        if (!(error instanceof RateLimitExhausted)) throw error;
        if (!exhausted.has(limitKey)) writeLine(io.stderr, `bapi-curl: ${error.message}; the rest of its lines are left for --resume`);
        exhausted.set(limitKey, error);
        settle(index, null);
        continue;
      }
      let result: BatchResult | null;
      try {
        result = await sendLine(line, endpoint, client, context, journal);
      } catch (error) {
        // The state directory failed us (a full disk): nothing more is sent.
        if (stopping === null) writeLine(io.stderr, `bapi-curl: ${(error as Error).message}; stopping`);
        stopping = 'failed';
        result = null;
      }
      settle(index, result);
    }
  };
  try {
    const workers = Array.from({ length: Math.min(context.options.concurrency, lines.length) }, () => worker());
    await Promise.all(workers);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    progress.clear();
    await client.close();
  }
  if (tally.notSent === 0) journal.record({ state: 'finished', time: deps.now().toISOString() });
  journal.close();
  const why = stopping === 'interrupted' ? ' (interrupted)' : exhausted.size > 0 ? ` (${[...exhausted.values()].map((e) => e.message).join('; ')})` : '';
  writeLine(io.stderr, `bapi-curl: batch of ${lines.length} lines: ${tally.summary(why)}`);
  return tally.failed > 0 || tally.notSent > 0 ? EXIT.runtime : EXIT.ok;
}

function matchedEndpoint(endpoints: EndpointSummary[], line: BatchLine): EndpointSummary | null {
  try {
    return matchEndpoint(endpoints, { method: line.method, path: line.path })?.endpoint ?? null;
  } catch {
    return null;
  }
}

/** Sends one line through the pipeline's send (backup, audit), journaled before it leaves and once it is answered. */
async function sendLine(line: BatchLine, endpoint: EndpointSummary | null, client: HttpClient, context: SendContext, journal: Journal): Promise<BatchResult> {
  const { deps, spec, key, stateDir, base } = context;
  const { io } = deps;
  const request = prepareRequest({ method: line.method, path: line.path, query: line.query, body: line.body, form: null, headers: {} }, base);
  const failure = (code: string, message: string, status: number | null = null): BatchResult => ({ line: line.line, method: line.method, path: line.path, status, clerk_trace_id: null, error: { code, message } });
  // Once it left, its result is printed even if the journal cannot take the outcome (a --resume then
  // reports the line as unknown, never resends it).
  const recordDone = (record: Record<string, unknown>) => {
    try {
      journal.record(record);
    } catch (problem) {
      writeLine(io.stderr, `bapi-curl: warning: line ${line.line} was sent, but the journal could not record its outcome (${(problem as NodeJS.ErrnoException).code ?? (problem as Error).message})`);
    }
  };
  let leaving = false;
  try {
    const { response } = await sendRequest(request, {
      client,
      stateDir,
      key,
      version: spec.version,
      now: deps.now,
      endpoint,
      readable: endpoint !== null && hasGet(spec.endpoints, endpoint.path),
      backup: context.options.backup,
      consent: context.consent,
      approvalId: context.approvalId,
      batchLine: line.line,
      say: (text) => writeLine(io.stderr, `bapi-curl: ${text}`),
      onSending: () => {
        journal.record({ line: line.line, state: 'sending' });
        leaving = true;
      },
    });
    const trace = traceIdOf(response);
    recordDone({ line: line.line, state: 'done', status: response.status, trace, ok: response.status < 400 });
    return resultOf(line, response);
  } catch (error) {
    // Not sent, so not journaled: --resume tries it again.
    if (!leaving && error instanceof BackupFailedError) return failure('backup_failed', error.message);
    if (!leaving) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // A POST or PATCH that may have arrived is never resent: its outcome is unknown.
    const idempotent = !['POST', 'PATCH'].includes(line.method);
    recordDone({ line: line.line, state: 'done', status: null, ok: false, error: message });
    return failure(idempotent ? 'network' : 'unknown_outcome', idempotent ? message : `${message}; a ${line.method} is never resent, check whether it took effect`);
  }
}

/**
 * A line that was in flight when an earlier run stopped: never resent. Where the path has a GET,
 * its answer says what can be known: a DELETE whose resource is gone took effect.
 */
async function checkInFlight(line: BatchLine, client: HttpClient, context: SendContext, journal: Journal): Promise<BatchResult> {
  const { spec, base } = context;
  const endpoint = matchedEndpoint(spec.endpoints, line);
  const unknown = (message: string, check?: BatchResult['check']): BatchResult => ({ line: line.line, method: line.method, path: line.path, status: null, clerk_trace_id: null, error: { code: 'unknown_outcome', message }, ...(check ? { check } : {}) });
  const readable = endpoint !== null && hasGet(spec.endpoints, endpoint.path);
  let result: BatchResult;
  if (!readable || line.method === 'POST' || line.method === 'GET') {
    result = line.method === 'GET' ? unknown('in flight when the earlier run stopped; a read, not repeated') : unknown(`in flight when the earlier run stopped: it may or may not have taken effect; not resent${readable ? '' : ' (there is no GET to check it with)'}`);
  } else {
    let response: HttpResponse | null = null;
    try {
      response = await client.send({ method: 'GET', url: buildRequestUrl(base, resolveRequestTarget(base, line.path, []).path, []), headers: { 'clerk-api-version': spec.version }, body: null }, { redirects: 'same-origin' });
    } catch {
      response = null;
    }
    const check = { status: response?.status ?? null, clerk_trace_id: response ? traceIdOf(response) : null };
    if (line.method === 'DELETE' && response?.status === 404) {
      result = { line: line.line, method: line.method, path: line.path, status: null, clerk_trace_id: null, body: { note: 'in flight when the earlier run stopped; the resource is gone now, so the DELETE took effect' }, check };
    } else if (line.method === 'DELETE' && response?.status === 200) {
      result = unknown('in flight when the earlier run stopped, and the resource still exists: the DELETE did not take effect; not resent (put it in a new batch)', check);
    } else {
      result = unknown(`in flight when the earlier run stopped; GET ${line.path} answered ${response ? `HTTP ${response.status}` : 'nothing'}, which cannot tell whether the ${line.method} took effect; not resent`, check);
    }
  }
  journal.record({ line: line.line, state: 'done', status: null, ok: result.error === undefined, error: result.error?.message ?? 'checked after an interrupted run' });
  return result;
}

