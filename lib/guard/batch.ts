// Batches: many requests judged and approved as one. A batch is NDJSON, one request per line
// ({method, path, query?, body?}, or a METHOD<TAB>PATH line as extract-tag-endpoints prints it).
// Every line passes every check of the single-request guard; a line that fails refuses the whole
// batch. Consent is asked once, under the same consent rules, and one approval is bound to a digest
// of the exact lines (their method, path, query and body), so a changed file is another batch.
// Here: reading the lines, and the batch guard's I/O (batch-verdict judges).
import { batchApprovalRequest, batchDigest, batchVerdictError, evaluateBatch, renderBatchOutcome, renderBatchVerdict, withBatchCode, type BatchLine, type BatchProblem, type BatchVerdict } from './batch-verdict.js';
import { authorize, type AuthorizeOutcome } from './authorize.js';
import { approvalStore } from './approval-files.js';
import { approvalTtl, type Approval, type ApprovalStore } from './approvals.js';
import { canPrompt, isConfirmed, terminalPrompter, type Prompter } from './confirm.js';
import { consentFor, type Consent } from './consent.js';
import { findSecretKey, redactSecret, type SecretKey } from './key.js';
import { confirmedByOf, personStep, type GuardSpec } from './run-guard.js';
import { isWriteMethod } from './scopes.js';
import { EXIT, ToolkitError, UsageError } from '../core/errors.js';
import { colorsFor, MAX_STDIN_BYTES, readStdin, type IO } from '../core/io.js';
import { defaultStateDir } from '../core/state-dir.js';
import { parseRequestTarget } from '../endpoint/match.js';
import { callFromJson } from '../request/args.js';

/** At most this many lines in one batch: a batch is one consent, and a person must be able to read its summary. */
export const MAX_BATCH_LINES = 100_000;
const LINE_KEYS = new Set(['method', 'path', 'query', 'body']);

/** The batch's text from FILE (a regular file of at most 64 MB) or from stdin (`-`), and how to name it. */
export async function readBatchInput(file: string, io: IO): Promise<{ text: string; source: string }> {
  if (file === '-') {
    const text = await readStdin(io);
    if (text === null) throw new UsageError('--batch -: stdin is empty', { hints: ['Give one request per line, e.g. {"method":"DELETE","path":"/users/user_123"}.'] });
    return { text, source: 'stdin' };
  }
  const { resolve } = await import('node:path');
  const { readFileSync, statSync } = await import('node:fs');
  const path = resolve(io.cwd, file);
  let size: number;
  try {
    const stat = statSync(path);
    // A pipe (`--batch <(jq -c … users.json)`) is read once, to its end, within the same bound.
    if (stat.isFIFO()) return { text: readPipe(path, file), source: file };
    if (!stat.isFile()) throw new UsageError(`--batch ${file}: not a regular file or a pipe (give - for stdin)`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--batch ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (size > MAX_STDIN_BYTES) throw new UsageError(`--batch ${file}: larger than ${MAX_STDIN_BYTES / 1024 / 1024} MB; split it`);
  return { text: readFileSync(path, 'utf8'), source: file };
}

/** A named pipe's whole content, at most MAX_STDIN_BYTES. */
function readPipe(path: string, file: string): string {
  const { openSync, readSync, closeSync } = process.getBuiltinModule('node:fs');
  const fd = openSync(path, 'r');
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const chunk = Buffer.alloc(65536);
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      total += read;
      if (total > MAX_STDIN_BYTES) throw new UsageError(`--batch ${file}: larger than ${MAX_STDIN_BYTES / 1024 / 1024} MB; split it`);
      chunks.push(chunk.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The lines of a batch, and a problem for each line that is not a request. */
export function parseBatch(text: string): { lines: BatchLine[]; problems: BatchProblem[] } {
  const lines: BatchLine[] = [];
  const problems: BatchProblem[] = [];
  const rows = text.split('\n');
  for (let index = 0; index < rows.length; index++) {
    const row = (rows[index] as string).replace(/\r$/, '').trim();
    if (row === '') continue;
    const line = index + 1;
    try {
      if (row.startsWith('{')) {
        let object: unknown;
        try {
          object = JSON.parse(row);
        } catch (error) {
          throw new ToolkitError(`not JSON: ${(error as Error).message}`);
        }
        const unknown = Object.keys(object as object).filter((key) => !LINE_KEYS.has(key));
        if (unknown.length > 0) throw new ToolkitError(`unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: a line is {method, path, query?, body?}`);
      } else if (!/^[A-Za-z]+\s+\S/.test(row)) {
        throw new ToolkitError('not a request: expected a JSON object {method, path, query?, body?} or METHOD<TAB>PATH');
      }
      const call = callFromJson(row);
      const target = parseRequestTarget(call.path);
      if (target.origin !== undefined) throw new ToolkitError(`give a path such as /users/user_123, not a URL (${target.origin})`);
      lines.push({ line, method: call.method, path: target.path, query: [...target.query, ...call.query], body: call.body });
    } catch (error) {
      problems.push({ line, check: 'request', message: error instanceof Error ? error.message : String(error) });
    }
    if (lines.length + problems.length > MAX_BATCH_LINES) {
      problems.push({ line, check: 'request', message: `a batch has at most ${MAX_BATCH_LINES} lines: split it` });
      break;
    }
  }
  return { lines, problems };
}

export interface BatchGuardOptions {
  admin?: boolean;
  yes?: boolean;
  /** Issue the batch approval when allowed (the executor running the guard inline passes false). */
  issueApproval?: boolean;
  /** Record a pending approval when only a person can allow it (default true). */
  issuePending?: boolean;
  ttlSeconds?: number;
  stateDir?: string;
  prompter?: Prompter | null;
  explain?: boolean;
  key?: SecretKey;
  consent?: Consent;
  label?: string;
  /** Where the lines came from, for the report (a file name, or "stdin"). */
  source?: string;
  now?: Date;
  /** Where approvals live; default: the state directory's files (a key-custody broker passes its memory). */
  store?: ApprovalStore;
  /** --wait-approval: the caller waits for the person's decision (see RunGuardOptions.waiting). */
  waiting?: boolean;
}

export interface BatchGuardOutcome {
  verdict: BatchVerdict;
  key: SecretKey;
  approval: Approval | null;
  exitCode: number;
}

/**
 * Runs the batch guard with its I/O, as runGuard does for one request: evaluates every line, asks
 * once at a terminal (or takes --yes in flag mode), records a pending approval where only a person
 * may consent, and issues one approval for the exact lines.
 */
export async function runBatchGuard(lines: BatchLine[], parseProblems: BatchProblem[], spec: GuardSpec, io: IO, options: BatchGuardOptions = {}): Promise<BatchGuardOutcome> {
  const key = options.key ?? findSecretKey(io.env, io.cwd);
  const stateDir = options.stateDir ?? defaultStateDir(io.env, io.cwd);
  const store = options.store ?? approvalStore(stateDir);
  const consent = options.consent ?? consentFor(io.env, stateDir);
  const prompter = options.prompter === undefined ? (canPrompt(io) ? terminalPrompter(io) : null) : options.prompter;
  const explain = options.explain ?? true;
  const now = options.now ?? new Date();
  const colors = colorsFor(io.stderr, io.env);
  const label = options.label ?? 'bapi-guard';
  let verdict = evaluateBatch(lines, parseProblems, spec, { env: io.env, key, admin: options.admin ?? false, yes: options.yes ?? false, consent, source: options.source ?? 'stdin' });
  const shown = (v: BatchVerdict): BatchVerdict => redactSecret(v, key.value, key.info.masked ?? '[REDACTED]');
  const fingerprint = key.info.fingerprint;
  const binding = () => batchApprovalRequest(verdict.batch.digest, lines.length, spec, io.env, fingerprint as string);
  const endpointLabel = () => `batch of ${lines.length}: ${verdict.endpoints.map((e) => `${e.count}× ${e.method} ${e.path}`).slice(0, 4).join(', ')}${verdict.endpoints.length > 4 ? ', …' : ''}`;
  let approval: Approval | null = null;
  const consentOnly = verdict.exitCode === EXIT.confirmation;
  const person = consent.mode === 'person';
  const terminalPerson = prompter !== null && (!person || consent.agent === null);

  if (consentOnly && person && fingerprint && !terminalPerson) {
    const step = personStep(store, binding(), io.env, now, options.issuePending ?? true, () => ({
      endpoint: endpointLabel(),
      destructive: verdict.batch.destructive > 0,
      scopeBypass: null,
      destroys: verdict.destroys,
      report: renderBatchVerdict(shown(verdict), colorsFor({ isTTY: false, write: () => true }, {}), 'bapi-guard'),
      expected: verdict.confirmation.expected ?? 'yes',
    }));
    if (step?.kind === 'granted') {
      const by = step.approval.confirmedBy === 'broker-terminal' ? 'broker-terminal' : 'approve-command';
      verdict = { ...verdict, allowed: true, exitCode: EXIT.ok, reason: null, hints: [], confirmation: { ...verdict.confirmation, by, person: false }, approval: { id: step.approval.id, status: 'granted', expiresAt: step.approval.expiresAt } };
    }
    if (step?.kind === 'pending') verdict = { ...verdict, approval: step.listed, hints: options.waiting ? [] : step.hints('the batch is sent') };
    approval = step?.approval ?? null;
  }
  if (explain) io.stderr.write(renderBatchVerdict(shown(verdict), colors, label));
  if (consentOnly && terminalPerson && verdict.exitCode === EXIT.confirmation && !verdict.allowed) {
    const expected = verdict.confirmation.expected ?? 'yes';
    const question = expected === 'yes' ? `Send all ${lines.length} requests? Type yes to confirm: ` : `Type ${colors.bold(expected)} (the number of destructive requests) to confirm the batch: `;
    const answer = await (prompter as Prompter)(question).finally(() => (prompter as Prompter).close?.());
    if (isConfirmed(answer, expected)) {
      verdict = { ...verdict, allowed: true, exitCode: EXIT.ok, reason: null, hints: [], confirmation: { ...verdict.confirmation, by: 'prompt', person: false }, scopeBypass: verdict.scopeBypass };
    } else {
      verdict = { ...verdict, reason: answer === null ? 'no answer at the prompt: declined; nothing was approved' : 'declined at the prompt; nothing was approved', hints: [], confirmation: { ...verdict.confirmation, declined: true } };
    }
  }
  if (explain) io.stderr.write(renderBatchOutcome(shown(verdict), colors, options.waiting === true));
  if (verdict.allowed && approval === null && (options.issueApproval ?? true) && fingerprint && verdict.batch.writes > 0) {
    approval = store.create(binding(), {
      ttlSeconds: options.ttlSeconds ?? approvalTtl(undefined, io.env),
      now,
      endpoint: endpointLabel(),
      destructive: verdict.batch.destructive > 0,
      confirmedBy: confirmedByOf(verdict),
      scopeBypass: verdict.scopeBypass,
      consentMode: consent.mode,
      destroys: verdict.destroys,
    });
    verdict = { ...verdict, approval: { id: approval.id, status: 'granted', expiresAt: approval.expiresAt } };
    if (explain) io.stderr.write(`Approval ${approval.id} for these exact ${lines.length} lines (${verdict.batch.digest.slice(0, 19)}…), valid until ${approval.expiresAt}; bapi-curl --batch runs it once.\n`);
  }
  return { verdict: withBatchCode(shown(verdict)), key, approval, exitCode: verdict.exitCode };
}

export interface BatchAuthorization {
  allowed: boolean;
  exitCode: number;
  key: SecretKey;
  /** The batch approval consumed; null when the guard ran inline (or the batch writes nothing). */
  approval: Approval | null;
  verdict: BatchVerdict | null;
}

/**
 * What the executor calls before running a batch: the approval for exactly these lines (consumed
 * here, once), or else the batch guard inline with the same checks and prompts. A batch of reads
 * needs only the key and valid lines.
 */
export async function authorizeBatch(lines: BatchLine[], spec: GuardSpec, io: IO, options: BatchGuardOptions & { now?: Date } = {}): Promise<BatchAuthorization> {
  const key = options.key ?? findSecretKey(io.env, io.cwd);
  const stateDir = options.stateDir ?? defaultStateDir(io.env, io.cwd);
  const store = options.store ?? approvalStore(stateDir);
  const writes = lines.some((l) => isWriteMethod(l.method));
  if (writes && key.info.fingerprint) {
    const binding = batchApprovalRequest(batchDigest(lines), lines.length, spec, io.env, key.info.fingerprint);
    const consumed = store.claim(binding, options.now ? { now: options.now } : {});
    // The approval binds the lines and the spec's digest: what was judged is what is sent.
    if (consumed.ok) return { allowed: true, exitCode: EXIT.ok, key, approval: consumed.approval, verdict: null };
    if (consumed.reason === 'none' && options.explain !== false) {
      const other = store.list().filter((a) => a.method === 'BATCH' && (a.status === 'granted' || a.status === 'pending'));
      if (other.length > 0) io.stderr.write(`${options.label ?? 'bapi-curl'}: ${other.length === 1 ? `approval ${other[0]!.id} is` : `${other.length} approvals are`} for another batch: these lines are not the ones approved (the file changed since?); running the guard now.\n`);
    } else if (consumed.reason !== 'none' && consumed.reason !== 'pending' && options.explain !== false) {
      io.stderr.write(`${consumed.message}; running the guard now.\n`);
    }
  }
  const outcome = await runBatchGuard(lines, [], spec, io, { ...options, key, stateDir, store, issueApproval: false });
  if (outcome.approval?.status === 'granted' && outcome.verdict.allowed) {
    // A person's grant found by the guard is consumed like any approval.
    const consumed = store.claim(batchApprovalRequest(outcome.verdict.batch.digest, lines.length, spec, io.env, key.info.fingerprint as string), { id: outcome.approval.id });
    if (!consumed.ok) throw new ToolkitError(consumed.message);
    return { allowed: true, exitCode: EXIT.ok, key, approval: consumed.approval, verdict: outcome.verdict };
  }
  return { allowed: outcome.verdict.allowed, exitCode: outcome.exitCode, key, approval: null, verdict: outcome.verdict };
}

/**
 * Whether a batch may be sent now, as data, through the same consent step as one request
 * (guard/authorize.authorize): its approval claimed, or the batch guard inline; with
 * `waitApprovalMs`, a person's decision awaited.
 */
export function authorizeBatchRequest(lines: BatchLine[], spec: GuardSpec, io: IO, options: BatchGuardOptions & { waitApprovalMs?: number | null } = {}): Promise<AuthorizeOutcome<BatchVerdict>> {
  return authorize<BatchVerdict>(
    {
      firstStep: (again, waiting) => authorizeBatch(lines, spec, io, again ? { ...options, explain: again.explain } : { ...options, waiting }),
      failure: (verdict) => batchVerdictError(verdict) ?? new ToolkitError('the batch is refused'),
      consent: (verdict) => ({ confirmedBy: confirmedByOf(verdict), consentMode: verdict.consent.mode, scopeBypass: verdict.scopeBypass }),
    },
    io,
    options,
  );
}
