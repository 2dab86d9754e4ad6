// The pipeline's third step: whether one judged request may be sent now. A read needs only a usable
// key; a write is allowed by a matching approval (consumed here, single use), or by the guard run
// here and now (same checks, prompts and exit codes). The result is data: allowed (with the key and
// what the audit says of consent), pending (a person must approve it, with the approval's id), or
// refused (the verdict, and the failure it stands for). Front-ends decide what to print.
import { ApprovalInvalidError, ApprovalPendingError, DeclinedError, EXIT, reported, ToolkitError } from '../core/errors.js';
import { writeLine, type IO } from '../core/io.js';
import { defaultStateDir } from '../core/state-dir.js';
import { parseRequestTarget } from '../endpoint/match.js';
import { approvalStore } from './approval-files.js';
import { pendingError, type Approval, type ApprovalStore, type ConfirmedBy, type ScopeBypass } from './approvals.js';
import { findSecretKey, keyError, type SecretKey } from './key.js';
import { verdictError, type GuardRequest, type Verdict } from './policy.js';
import { apiOrigin, confirmedByOf, runGuard, specDigest, type GuardSpec, type RunGuardOptions } from './run-guard.js';
import { isWriteMethod } from './scopes.js';

export interface AuthorizeOptions extends RunGuardOptions {
  /** Use this approval id (`apv_…`), e.g. from the guard's verdict on stdin. */
  approvalId?: string;
}

export interface Authorization {
  /** True when the request may be sent. */
  allowed: boolean;
  exitCode: number;
  key: SecretKey;
  /** The approval consumed, when the request came pre-approved. */
  approval: Approval | null;
  /** Why no approval was used (none, expired, edited, mismatched), when the guard ran inline. */
  approvalProblem: string | null;
  /** The inline guard's verdict; null when an approval was consumed or the request is a read. */
  verdict: Verdict | null;
}

/**
 * What the executor calls before sending. A read needs only a usable key. A write is allowed by a
 * matching approval (consumed here, single use), or else by running the guard inline with the same
 * checks, prompts and exit codes (no approval file is issued for it).
 */
export async function authorizeWrite(request: GuardRequest, spec: GuardSpec, io: IO, options: AuthorizeOptions = {}): Promise<Authorization> {
  const key = options.key ?? findSecretKey(io.env, io.cwd);
  const method = request.method.trim().toUpperCase();
  if (!isWriteMethod(method)) {
    if (!key.info.wellFormed) throw keyError(key.info);
    return { allowed: true, exitCode: EXIT.ok, key, approval: null, approvalProblem: null, verdict: null };
  }
  let approvalProblem: string | null = null;
  if (key.info.fingerprint) {
    let target;
    try {
      target = parseRequestTarget(request.path);
    } catch {
      target = null;
    }
    if (target) {
      const consumed = (options.store ?? approvalStore(options.stateDir ?? defaultStateDir(io.env, io.cwd))).claim(
        {
          method,
          path: target.path,
          query: [...target.query, ...request.query],
          body: request.body,
          version: spec.version,
          specDigest: specDigest(spec),
          origin: apiOrigin(io.env),
          keyFingerprint: key.info.fingerprint,
        },
        { ...(options.approvalId ? { id: options.approvalId } : {}), ...(options.now ? { now: options.now } : {}) },
      );
      if (consumed.ok) return { allowed: true, exitCode: EXIT.ok, key, approval: consumed.approval, approvalProblem: null, verdict: null };
      // A pending one is the guard's to report again (with how to approve it).
      if (consumed.reason !== 'pending' && (consumed.reason !== 'none' || options.approvalId)) approvalProblem = consumed.message;
    }
  }
  if (approvalProblem && options.explain !== false) io.stderr.write(`${approvalProblem}; running the guard now.\n`);
  const outcome = await runGuard(request, spec, io, { ...options, key, issueApproval: false });
  return { allowed: outcome.verdict.allowed, exitCode: outcome.exitCode, key, approval: null, approvalProblem, verdict: outcome.verdict };
}
/** What the audit says of a write's consent. */
export interface ConsentRecord {
  confirmedBy: ConfirmedBy;
  consentMode: 'flag' | 'person';
  scopeBypass: ScopeBypass | null;
}

/** Whether a request (V = Verdict) or a batch (V = BatchVerdict) may be sent now, as data. */
export type AuthorizeOutcome<V = Verdict> =
  | { kind: 'allowed'; key: SecretKey; approval: Approval | null; consent: ConsentRecord }
  | { kind: 'pending'; key: SecretKey; verdict: V; failure: ApprovalPendingError }
  | { kind: 'refused'; key: SecretKey; verdict: V | null; failure: ToolkitError };

export interface AuthorizeRequestOptions extends AuthorizeOptions {
  /** --wait-approval: how long to wait for a person's decision on a pending approval; null: not at all. */
  waitApprovalMs?: number | null;
}

/** The first step's answer, for one request or a batch: allowed (by an approval, or the guard inline), or the verdict that refuses. */
export interface FirstStep<V> {
  allowed: boolean;
  key: SecretKey;
  approval: Approval | null;
  verdict: V | null;
}

/** What authorize needs of what it authorizes (one request, or a batch): everything else is the same for both. */
export interface Authorizable<V> {
  /**
   * Claims the approval for exactly this, or else runs its guard inline (`waiting`: the caller will
   * wait for a person, so the report says so); `again` after a person's grant.
   */
  firstStep(again: { approvalId: string; explain: false } | null, waiting: boolean): Promise<FirstStep<V>>;
  /** The failure a refused verdict stands for (its exit code is the verdict's). */
  failure(verdict: V): ToolkitError;
  /** What the audit says of the consent an allowed verdict carries. */
  consent(verdict: V): ConsentRecord;
}

/** What authorize reads of any verdict: the approval it names (a request's and a batch's have the same shape). */
type NamesApproval = { approval: { id: string; status: 'granted' | 'pending'; approveCommand?: string; decideWhere?: string } | null };

/**
 * The pipeline's consent step, for one request and for a batch alike: the first step (an approval
 * claimed, or the guard inline), then, with `waitApprovalMs`, a person's decision on the pending
 * approval awaited and the approval they granted claimed; the answer as data.
 */
export async function authorize<V extends NamesApproval>(subject: Authorizable<V>, io: IO, options: { store?: ApprovalStore; stateDir?: string; waitApprovalMs?: number | null; explain?: boolean }): Promise<AuthorizeOutcome<V>> {
  const waitMs = options.waitApprovalMs ?? null;
  let step = await subject.firstStep(null, waitMs !== null);
  const pending = !step.allowed && step.verdict?.approval?.status === 'pending' ? step.verdict.approval : null;
  if (pending && waitMs !== null) {
    const decision = await waitForDecision(options.store ?? approvalStore(options.stateDir ?? defaultStateDir(io.env, io.cwd)), pending.id, waitMs, io);
    const { key, verdict } = step;
    if (decision === 'timeout') return { kind: 'pending', key, verdict: verdict as V, failure: pendingError(`no decision on ${pending.id} within the wait; nothing was sent`, pending) };
    if (decision === 'denied') return { kind: 'refused', key, verdict, failure: new DeclinedError(`approval ${pending.id} was denied; nothing was sent`) };
    if (decision !== 'granted') return { kind: 'refused', key, verdict, failure: new ApprovalInvalidError(`approval ${pending.id} was ${decision}; nothing was sent`) };
    step = await subject.firstStep({ approvalId: pending.id, explain: false }, false);
  }
  const { key, approval, verdict } = step;
  if (step.allowed) {
    const consent: ConsentRecord = approval
      ? { confirmedBy: approval.confirmedBy ?? 'not-needed', consentMode: approval.consentMode ?? 'flag', scopeBypass: approval.scopeBypass ?? null }
      : verdict !== null
        ? subject.consent(verdict)
        : { confirmedBy: 'not-needed', consentMode: 'flag', scopeBypass: null };
    return { kind: 'allowed', key, approval, consent };
  }
  const failure = verdict !== null ? subject.failure(verdict) : new ToolkitError('refused; nothing was sent');
  // The guard's report on stderr said why: a front-end prints the failure no second time.
  if (options.explain !== false) reported(failure);
  if (failure instanceof ApprovalPendingError) return { kind: 'pending', key, verdict: verdict as V, failure };
  return { kind: 'refused', key, verdict, failure };
}

/**
 * Whether `request` may be sent now, as data. With `waitApprovalMs`, a request that needs a person
 * waits for their `bapi-guard approve` (or deny) before the answer is given.
 */
export function authorizeRequest(request: GuardRequest, spec: GuardSpec, io: IO, options: AuthorizeRequestOptions = {}): Promise<AuthorizeOutcome> {
  const subject: Authorizable<Verdict> = {
    firstStep: (again, waiting) => authorizeWrite(request, spec, io, again ? { ...options, approvalId: again.approvalId } : { ...options, waiting }),
    failure: (verdict) => verdictError(verdict) ?? new ToolkitError('refused by the guard'),
    consent: (verdict) => ({ confirmedBy: confirmedByOf(verdict), consentMode: verdict.consent.mode, scopeBypass: verdict.scopes?.bypassBy ?? null }),
  };
  return authorize(subject, io, options);
}

/** Waits for a person's decision on a pending approval, with one line on stderr saying where they decide. */
export async function waitForDecision(store: ApprovalStore, id: string, waitMs: number, io: IO): Promise<'granted' | 'denied' | 'expired' | 'timeout'> {
  writeLine(io.stderr, store.person ? `bapi-curl: waiting for the person to answer ${id} in ${store.person.where}` : `bapi-curl: waiting for a person to approve ${id}; in their own terminal: bapi-guard approve ${id}`);
  return store.watch(id, waitMs);
}
