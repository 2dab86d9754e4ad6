// Approvals: the guard's permission for one exact write. Bound to the method, concrete path, query,
// body, spec version and the digest of the spec that judged it, the API origin and the key
// fingerprint; single-use; short-lived (an expiry is never read as later than the maximum lifetime);
// granted at once, or pending until a person decides. Here: the model, its rules, and the
// ApprovalStore every implementation offers (approval-files: the state directory's, sealed with an
// HMAC so an edited file is refused; approval-memory: one process's, for a broker and for tests).
import { crypto } from '../core/builtins.js';
import { ApprovalPendingError, UsageError } from '../core/errors.js';
import { escapeControls } from '../core/io.js';
import { bodyHash, canonicalPath, canonicalQuery, requestDigest } from './approval-digest.js';

export const APPROVAL_TTL_VARIABLE = 'CLERK_BAPI_APPROVAL_TTL';
export const DEFAULT_APPROVAL_TTL_SECONDS = 300;
export const MAX_APPROVAL_TTL_SECONDS = 3600;
export const PENDING_TTL_VARIABLE = 'CLERK_BAPI_PENDING_TTL';
/** How long a pending approval waits for a person: 15 minutes unless CLERK_BAPI_PENDING_TTL says otherwise (at most 60). */
export const DEFAULT_PENDING_TTL_SECONDS = 900;
export const APPROVAL_FORMAT = 3;

/** The request an approval is for: what the executor will send. */
export interface ApprovalRequest {
  method: string;
  /** Concrete path, e.g. /users/user_123 (a /v1 prefix and trailing slash are ignored). */
  path: string;
  query: Array<[string, string]>;
  /** Parsed JSON body, or undefined when there is none. */
  body: unknown;
  /** Spec version the request was checked against (also the Clerk-API-Version header). */
  version: string;
  /** The digest of the spec document that judged it (a --spec file with the same version label is another spec). */
  specDigest: string;
  /** The API origin it goes to (CLERK_API_URL's scheme, host and port). */
  origin: string;
  keyFingerprint: string;
}

export interface Approval {
  format: number;
  id: string;
  createdAt: string;
  expiresAt: string;
  method: string;
  path: string;
  query: Array<[string, string]>;
  /** A hash of the canonical body; the body itself (which may hold passwords) is never stored. */
  bodyHash: string | null;
  version: string;
  specDigest: string;
  origin: string;
  keyFingerprint: string;
  /** The endpoint template, for people reading the file. */
  endpoint: string | null;
  destructive: boolean;
  /**
   * `granted`: usable once. `pending`: waits for a person (`bapi-guard approve`). `denied` by a
   * person. `used`: kept, without its request, so `bapi-guard approvals` can list it.
   */
  status: ApprovalStatus;
  /** How consent was given (audit's confirmed_by); null while pending. */
  confirmedBy: ConfirmedBy | null;
  /** The scope check was bypassed, and by whom; null when the scopes allowed it. */
  scopeBypass: ScopeBypass | null;
  consentMode: 'flag' | 'person';
  /** What the request permanently destroys, as the guard listed it. */
  destroys: string[];
  /** The guard's report as a person reads it (no body values), shown again by `approve`. */
  report: string;
  /** What the person types to approve: the resource id for a DELETE, else "yes". */
  expected: string;
  /** When a person granted or denied it. */
  decidedAt: string | null;
  /** Hash of all the bound fields: what a later request must reproduce. */
  digest: string;
  mac: string;
}

export type ApprovalStatus = 'granted' | 'pending' | 'denied' | 'used';
export type ConfirmedBy = 'terminal' | 'approve-command' | 'broker-terminal' | 'elicitation' | 'yes-flag' | 'not-needed';
export type ScopeBypass = 'admin-flag' | 'terminal' | 'approve-command' | 'broker-terminal' | 'elicitation';

export type ConsumeFailure = 'none' | 'expired' | 'tampered' | 'mismatch' | 'consumed' | 'pending' | 'denied';

export type ConsumeResult =
  | { ok: true; approval: Approval }
  | { ok: false; reason: ConsumeFailure; message: string };

/** Seconds from `300`, `90s`, `5m` or `1h`; a usage error otherwise or beyond the maximum. */
export function parseTtl(raw: string, from = '--ttl'): number {
  const match = /^\s*(\d+)\s*(s|m|h)?\s*$/i.exec(raw);
  if (!match) throw new UsageError(`${from}: not a duration: ${JSON.stringify(raw)} (use seconds, or e.g. 90s, 5m)`);
  const unit = (match[2] ?? 's').toLowerCase();
  const seconds = Number(match[1]) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
  if (seconds < 1 || seconds > MAX_APPROVAL_TTL_SECONDS) {
    throw new UsageError(`${from}: ${raw} is out of range: approvals live between 1 second and ${MAX_APPROVAL_TTL_SECONDS / 60} minutes`);
  }
  return seconds;
}

/** The approval lifetime: the flag, else CLERK_BAPI_APPROVAL_TTL, else 5 minutes. */
export function approvalTtl(flag: string | undefined, env: Record<string, string | undefined>): number {
  if (flag !== undefined) return parseTtl(flag, '--ttl');
  const fromEnv = env[APPROVAL_TTL_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '') return parseTtl(fromEnv, APPROVAL_TTL_VARIABLE);
  return DEFAULT_APPROVAL_TTL_SECONDS;
}

export interface CreateApprovalOptions {
  ttlSeconds?: number;
  now?: Date;
  endpoint?: string | null;
  destructive?: boolean;
  /** Default `granted`; `pending` for one that waits for a person (id `apr_…`). */
  status?: 'granted' | 'pending';
  confirmedBy?: ConfirmedBy | null;
  scopeBypass?: ScopeBypass | null;
  consentMode?: 'flag' | 'person';
  destroys?: string[];
  report?: string;
  expected?: string;
}

export interface ConsumeOptions {
  /** Use exactly this approval (`apv_…`); otherwise any approval that matches the request. */
  id?: string;
  now?: Date;
}

export type DecisionFailure = 'unknown' | 'tampered' | 'expired' | 'decided' | 'key' | 'raced';

export type DecisionResult = { ok: true; approval: Approval } | { ok: false; reason: DecisionFailure; message: string };

/** An approval as listed: its state now (`expired` is derived), without the request's digest. */
export interface ApprovalListing {
  id: string;
  status: ApprovalStatus | 'expired';
  method: string;
  path: string;
  endpoint: string | null;
  destructive: boolean;
  scopeBypass: ScopeBypass | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  confirmedBy: ConfirmedBy | null;
}

// A clock a little ahead on the issuing side is not a forgery.
export const CLOCK_SKEW_MS = 60_000;

/**
 * When it really expires: its expiry, but never later than the maximum lifetime after its creation
 * (or after a person's decision, which must itself come within the maximum lifetime).
 */
export function effectiveExpiry(approval: Approval): number {
  const created = Date.parse(approval.createdAt);
  const expires = Date.parse(approval.expiresAt);
  if (Number.isNaN(created) || Number.isNaN(expires)) return -Infinity;
  const decided = approval.decidedAt === null || approval.decidedAt === undefined ? created : Date.parse(approval.decidedAt);
  if (Number.isNaN(decided) || decided < created || decided > created + MAX_APPROVAL_TTL_SECONDS * 1000) return -Infinity;
  return Math.min(expires, decided + MAX_APPROVAL_TTL_SECONDS * 1000);
}

export function isExpired(approval: Approval, now: Date): boolean {
  return effectiveExpiry(approval) <= now.getTime();
}

/** Expired, or not believable: created in the future. */
export function isUnusable(approval: Approval, now: Date): boolean {
  return isExpired(approval, now) || Date.parse(approval.createdAt) > now.getTime() + CLOCK_SKEW_MS;
}

export const ID_PATTERN = /^ap[vr]_[0-9a-f]{24}$/;

export function listingOf(approval: Approval, now = new Date()): ApprovalListing {
  const live = approval.status === 'granted' || approval.status === 'pending';
  return {
    id: approval.id,
    status: live && isUnusable(approval, now) ? 'expired' : approval.status,
    method: approval.method,
    path: approval.path,
    endpoint: approval.endpoint,
    destructive: approval.destructive,
    scopeBypass: approval.scopeBypass,
    createdAt: approval.createdAt,
    expiresAt: approval.expiresAt,
    decidedAt: approval.decidedAt,
    confirmedBy: approval.confirmedBy,
  };
}

/** The pending approval lifetime: CLERK_BAPI_PENDING_TTL, else 15 minutes. */
export function pendingTtl(env: Record<string, string | undefined>): number {
  const raw = env[PENDING_TTL_VARIABLE];
  return raw !== undefined && raw !== '' ? parseTtl(raw, PENDING_TTL_VARIABLE) : DEFAULT_PENDING_TTL_SECONDS;
}

/** A new approval's record (unsealed) for `request`: the one shape every store keeps. */
export function approvalRecord(request: ApprovalRequest, options: CreateApprovalOptions = {}): Omit<Approval, 'mac'> {
  const now = options.now ?? new Date();
  const ttl = options.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  const status = options.status ?? 'granted';
  return {
    format: APPROVAL_FORMAT,
    id: `${status === 'pending' ? 'apr' : 'apv'}_${crypto().randomBytes(12).toString('hex')}`,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
    method: request.method.toUpperCase(),
    path: canonicalPath(request.path),
    query: canonicalQuery(request.query),
    bodyHash: bodyHash(request.body),
    version: request.version,
    specDigest: request.specDigest,
    origin: request.origin,
    keyFingerprint: request.keyFingerprint,
    endpoint: options.endpoint ?? null,
    destructive: options.destructive ?? false,
    status,
    confirmedBy: status === 'pending' ? null : (options.confirmedBy ?? 'not-needed'),
    scopeBypass: options.scopeBypass ?? null,
    consentMode: options.consentMode ?? 'flag',
    destroys: options.destroys ?? [],
    // Stored escaped: what a person reads at `approve` shows a hostile key or path, never obeys it.
    report: escapeControls(options.report ?? ''),
    expected: options.expected ?? 'yes',
    decidedAt: null,
    digest: requestDigest(request),
  };
}

/**
 * Where approvals live, and the protocol around them: issued, claimed once by the exact request,
 * decided once by a person, listed, and watched while a request waits for its person.
 */
export interface ApprovalStore {
  /** Issues an approval (granted, or pending for a person) for exactly `request`. */
  create(request: ApprovalRequest, options?: CreateApprovalOptions): Approval;
  /** Uses the approval for exactly `request` (or the one named), once; or says why not. Never throws for a missing, expired, edited or mismatched one. */
  claim(request: ApprovalRequest, options?: ConsumeOptions): ConsumeResult;
  /** A person's decision on a pending approval; of two racing decisions exactly one wins. */
  decide(id: string, decision: 'grant' | 'deny', options: { keyFingerprint: string | null; now?: Date; ttlSeconds?: number }): DecisionResult;
  /** One approval by id; `tampered` when its record cannot be trusted. */
  get(id: string): { approval: Approval; tampered: boolean } | null;
  /** A pending or granted approval for exactly this request that can still be used. */
  findOpen(request: ApprovalRequest, now?: Date): Approval | null;
  /** Every approval that can be trusted, newest first. */
  list(now?: Date): ApprovalListing[];
  /** Waits until a person decided on `id` (or it expired, or `waitMs` passed). */
  watch(id: string, waitMs: number): Promise<'granted' | 'denied' | 'expired' | 'timeout'>;
  /**
   * Where a person decides this store's pending approvals, when not with `bapi-guard approve` in
   * their own terminal (a key-custody broker: the terminal it runs in), and how the audit names it.
   */
  readonly person?: PersonDesk;
}

/** Where a person decides pending approvals, in words, and the audit's name for that consent. */
export interface PersonDesk {
  /** E.g. "the terminal running bapi-guard serve (pid 4242)". */
  where: string;
  by: ConfirmedBy & ScopeBypass;
}

/** watch() over get(): polls until the approval is decided, expired or the wait is over. */
export async function pollDecision(store: Pick<ApprovalStore, 'get'>, id: string, waitMs: number, intervalMs = 200): Promise<'granted' | 'denied' | 'expired' | 'timeout'> {
  const started = Date.now();
  for (;;) {
    const found = store.get(id);
    if (!found || found.tampered) return 'expired';
    const status = listingOf(found.approval).status;
    if (status === 'granted') return 'granted';
    if (status === 'denied') return 'denied';
    if (status === 'expired' || status === 'used') return 'expired';
    if (Date.now() - started >= waitMs) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The failure a claim reports when nothing could be used: the most telling one seen (an edited
 * record over a used one over a denial, …, over no approval at all). Every store claims through it.
 */
export function claimFailures(id: string | undefined): { fail(reason: ConsumeFailure, message: string): void; result(): ConsumeResult } {
  const rank: Record<ConsumeFailure, number> = { none: 0, mismatch: 1, expired: 2, pending: 3, denied: 4, consumed: 5, tampered: 6 };
  let failure: { reason: ConsumeFailure; message: string } = {
    reason: 'none',
    message: id !== undefined ? `approval ${id} does not exist (already used, or never issued)` : 'no approval for this request',
  };
  return {
    fail(reason, message) {
      if (reason !== 'none' && rank[reason] >= rank[failure.reason]) failure = { reason, message };
    },
    result: () => ({ ok: false, ...failure }),
  };
}

/**
 * Why a trusted approval cannot be used for the request of `digest` now (null: it can). Used and
 * mismatched approvals are worth naming only when the caller named the approval (`byId`); else
 * their reason is `none`, which claimFailures does not report.
 */
export function whyUnusable(approval: Approval, digest: string, now: Date, byId: boolean): { reason: ConsumeFailure; message: string } | null {
  const unnamed = { reason: 'none' as const, message: '' };
  if (approval.status === 'used') return byId ? { reason: 'consumed', message: `approval ${approval.id} was already used; an approval is good for one request` } : unnamed;
  if (approval.digest !== digest) {
    return byId ? { reason: 'mismatch', message: `approval ${approval.id} is for ${approval.method} ${approval.path} (spec ${approval.version}), not for this exact request (method, path, query, body, spec version and key must all match)` } : unnamed;
  }
  if (approval.status === 'denied') return { reason: 'denied', message: `approval ${approval.id} was denied by a person` };
  if (approval.status === 'pending') {
    return isUnusable(approval, now)
      ? { reason: 'expired', message: `approval ${approval.id} expired at ${approval.expiresAt} before a person approved it` }
      : { reason: 'pending', message: `approval ${approval.id} is waiting for a person: to approve, run in your own terminal: bapi-guard approve ${approval.id}` };
  }
  if (isUnusable(approval, now)) return { reason: 'expired', message: `approval ${approval.id} expired at ${new Date(Math.max(0, effectiveExpiry(approval))).toISOString()}` };
  return null;
}

/** Why a person's decision on a trusted approval cannot be taken (null: it can). */
export function decisionRefusal(approval: Approval, decision: 'grant' | 'deny', keyFingerprint: string | null, now: Date): DecisionResult | null {
  const { id } = approval;
  if (approval.status !== 'pending') return { ok: false, reason: 'decided', message: `approval ${id} is not pending: it is ${listingOf(approval, now).status}` };
  if (isUnusable(approval, now)) return { ok: false, reason: 'expired', message: `approval ${id} expired at ${approval.expiresAt}; ask for it again` };
  if (decision === 'grant' && keyFingerprint !== approval.keyFingerprint) {
    return { ok: false, reason: 'key', message: `approval ${id} was asked for with another secret key than the one here; approve it where the same CLERK_SECRET_KEY is set` };
  }
  return null;
}

/** A pending approval as a person decided it (`by`: where, in the audit's words): granted for `ttlSeconds` from now, or denied. */
export function decidedRecord(approval: Approval, decision: 'grant' | 'deny', now: Date, ttlSeconds = DEFAULT_APPROVAL_TTL_SECONDS, by: ConfirmedBy & ScopeBypass = 'approve-command'): Approval {
  return {
    ...approval,
    status: decision === 'grant' ? 'granted' : 'denied',
    confirmedBy: decision === 'grant' ? by : null,
    scopeBypass: approval.scopeBypass === null ? null : by,
    decidedAt: now.toISOString(),
    expiresAt: decision === 'grant' ? new Date(now.getTime() + ttlSeconds * 1000).toISOString() : approval.expiresAt,
  };
}

/** A pending approval's failure: the command a person runs, or (under a key-custody broker) where they answer. */
export function pendingError(message: string, approval: { id: string; approveCommand?: string; decideWhere?: string }, options: { hints?: string[] } = {}): ApprovalPendingError {
  const command = approval.decideWhere ? null : (approval.approveCommand ?? `bapi-guard approve ${approval.id}`);
  return new ApprovalPendingError(message, approval.id, command, { ...options, ...(approval.decideWhere ? { decideWhere: approval.decideWhere } : {}) });
}
