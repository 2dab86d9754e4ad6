// Approvals: the guard's permission for one exact write. Bound to the method, concrete path, query,
// body, spec version and the digest of the spec that judged it, the API origin and the key
// fingerprint; single-use (claimed by an atomic rename, and its id recorded as used so that a copy
// or a restored file is refused too), short-lived (an expiry is never read as later than the
// maximum lifetime), and sealed with an HMAC under a per-state-directory secret so an edited
// approval is refused.
import { linkSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { ensurePrivateDir, stateSubdir, writePrivateFile } from '../core/state-dir.js';
import { crypto } from '../core/builtins.js';
import { escapeControls } from '../core/io.js';

export const APPROVAL_TTL_VARIABLE = 'CLERK_BAPI_APPROVAL_TTL';
export const DEFAULT_APPROVAL_TTL_SECONDS = 300;
export const MAX_APPROVAL_TTL_SECONDS = 3600;
export const PENDING_TTL_VARIABLE = 'CLERK_BAPI_PENDING_TTL';
/** How long a pending approval waits for a person: 15 minutes unless CLERK_BAPI_PENDING_TTL says otherwise (at most 60). */
export const DEFAULT_PENDING_TTL_SECONDS = 900;
const APPROVAL_FORMAT = 3;
const SECRET_FILE = 'approval-secret';
const APPROVALS_DIR = 'approvals';
/** One empty file per approval id that was used: created exclusively, so an id is used once however many copies of its file exist. */
const USED_DIR = 'approvals-used';

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
export type ConfirmedBy = 'terminal' | 'approve-command' | 'elicitation' | 'yes-flag' | 'not-needed';
export type ScopeBypass = 'admin-flag' | 'terminal' | 'approve-command' | 'elicitation';

export type ConsumeFailure = 'none' | 'expired' | 'tampered' | 'mismatch' | 'consumed' | 'pending' | 'denied';

export type ConsumeResult =
  | { ok: true; approval: Approval }
  | { ok: false; reason: ConsumeFailure; message: string };

/** JSON with object keys sorted at every level, so equal values always serialise the same way. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // Prototype-less, so that a "__proto__" key is a key like any other and not a prototype to set.
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortKeys(item);
    }
    return sorted;
  }
  return value;
}

function sha256(text: string): string {
  return crypto().createHash('sha256').update(text).digest('hex');
}

/** `/v1/users/x/` and `https://api.clerk.com/v1/users/x` are `/users/x`. */
export function canonicalPath(path: string): string {
  let p = path.trim().replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  if (!p.startsWith('/')) p = `/${p}`;
  p = p.replace(/\/{2,}/g, '/');
  if (p === '/v1' || p.startsWith('/v1/')) p = p.slice(3) || '/';
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Query pairs sorted by name then value: their order does not change what Clerk does. */
export function canonicalQuery(query: Array<[string, string]>): Array<[string, string]> {
  return query.map(([k, v]): [string, string] => [String(k), String(v)]).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
}

export function bodyHash(body: unknown): string | null {
  return body === undefined ? null : `sha256:${sha256(canonicalJson(body))}`;
}

/** The hash that binds an approval to one request. */
export function requestDigest(request: ApprovalRequest): string {
  return `sha256:${sha256(
    canonicalJson({
      method: request.method.toUpperCase(),
      path: canonicalPath(request.path),
      query: canonicalQuery(request.query),
      body: bodyHash(request.body),
      version: request.version,
      spec: request.specDigest,
      origin: request.origin,
      key: request.keyFingerprint,
    }),
  )}`;
}

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

/** The state directory's HMAC secret, created once (0600) by whichever process gets there first. */
function approvalSecret(stateDir: string): Buffer {
  ensurePrivateDir(stateDir);
  const path = join(stateDir, SECRET_FILE);
  try {
    const existing = readFileSync(path);
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Written whole under a temporary name, then linked into place: link fails if another process
  // won the race, and nobody ever reads a half-written secret.
  const temp = `${path}.${process.pid}.${crypto().randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, crypto().randomBytes(32), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  return readFileSync(path);
}

/** An HMAC under the state directory's approval secret, for other records that must not be forged (a batch journal). */
export function sealRecord(stateDir: string, record: unknown): string {
  return sealerFor(stateDir)(record);
}

/** Seals records under the state directory's approval secret, read once: for many records in a row. */
export function sealerFor(stateDir: string): (record: unknown) => string {
  const secret = approvalSecret(stateDir);
  return (record) => crypto().createHmac('sha256', secret).update(canonicalJson(record)).digest('hex');
}

/** True when `mac` is `record`'s seal under this state directory's secret. */
export function sealMatches(stateDir: string, record: unknown, mac: unknown): boolean {
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
  return crypto().timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(sealRecord(stateDir, record), 'hex'));
}

function sealed(approval: Omit<Approval, 'mac'>, secret: Buffer): string {
  return crypto().createHmac('sha256', secret).update(canonicalJson(approval)).digest('hex');
}

function macMatches(approval: Approval, secret: Buffer): boolean {
  if (typeof approval.mac !== 'string') return false;
  const { mac, ...rest } = approval;
  const expected = Buffer.from(sealed(rest, secret), 'hex');
  const actual = Buffer.from(mac, 'hex');
  return actual.length === expected.length && crypto().timingSafeEqual(actual, expected);
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

/** Writes a new approval for `request` into the state directory and returns it. */
export function createApproval(stateDir: string, request: ApprovalRequest, options: CreateApprovalOptions = {}): Approval {
  const now = options.now ?? new Date();
  const ttl = options.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  const secret = approvalSecret(stateDir);
  const dir = stateSubdir(stateDir, APPROVALS_DIR);
  const status = options.status ?? 'granted';
  const unsealed: Omit<Approval, 'mac'> = {
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
  const approval: Approval = { ...unsealed, mac: sealed(unsealed, secret) };
  writePrivateFile(join(dir, `${approval.id}.json`), `${JSON.stringify(approval, null, 2)}\n`);
  pruneApprovals(stateDir, now);
  return approval;
}

function readApproval(path: string): { text: string; approval: Approval } | null {
  try {
    const text = readFileSync(path, 'utf8');
    return { text, approval: JSON.parse(text) as Approval };
  } catch {
    return null;
  }
}

// A clock a little ahead on the issuing side is not a forgery.
const CLOCK_SKEW_MS = 60_000;

/**
 * When it really expires: its expiry, but never later than the maximum lifetime after its creation
 * (or after a person's decision, which must itself come within the maximum lifetime).
 */
function effectiveExpiry(approval: Approval): number {
  const created = Date.parse(approval.createdAt);
  const expires = Date.parse(approval.expiresAt);
  if (Number.isNaN(created) || Number.isNaN(expires)) return -Infinity;
  const decided = approval.decidedAt === null || approval.decidedAt === undefined ? created : Date.parse(approval.decidedAt);
  if (Number.isNaN(decided) || decided < created || decided > created + MAX_APPROVAL_TTL_SECONDS * 1000) return -Infinity;
  return Math.min(expires, decided + MAX_APPROVAL_TTL_SECONDS * 1000);
}

function isExpired(approval: Approval, now: Date): boolean {
  return effectiveExpiry(approval) <= now.getTime();
}

/** Expired, or not believable: created in the future. */
function isUnusable(approval: Approval, now: Date): boolean {
  return isExpired(approval, now) || Date.parse(approval.createdAt) > now.getTime() + CLOCK_SKEW_MS;
}

export const ID_PATTERN = /^ap[vr]_[0-9a-f]{24}$/;

/**
 * Records the approval as used, once: the record (sealed, status `used`) is created exclusively, so
 * false means it already was used (a copied or restored approval file). It is what `approvals` lists.
 */
function markUsed(stateDir: string, approval: Approval, secret: Buffer): boolean {
  const dir = stateSubdir(stateDir, USED_DIR);
  const { mac: _mac, ...rest } = approval;
  const used = { ...rest, status: 'used' as const };
  try {
    writeFileSync(join(dir, approval.id), `${JSON.stringify({ ...used, mac: sealed(used, secret) })}\n`, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Removes expired approvals and abandoned claims; never fails the caller. */
export function pruneApprovals(stateDir: string, now = new Date()): void {
  const dir = join(stateDir, APPROVALS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (name.endsWith('.json')) {
        const read = readApproval(path);
        if (read && typeof read.approval.expiresAt === 'string' && isExpired(read.approval, new Date(now.getTime() - 3600_000))) rmSync(path, { force: true });
      } else if (now.getTime() - statSync(path).mtimeMs > 3600_000) {
        rmSync(path, { force: true });
      }
    } catch {
      // Another process got there first.
    }
  }
  // A used id matters while its approval could still be believed: at most the maximum lifetime after its creation.
  const usedDir = join(stateDir, USED_DIR);
  let used: string[];
  try {
    used = readdirSync(usedDir);
  } catch {
    return;
  }
  for (const name of used) {
    try {
      const path = join(usedDir, name);
      if (now.getTime() - statSync(path).mtimeMs > MAX_APPROVAL_TTL_SECONDS * 1000 + 2 * CLOCK_SKEW_MS) rmSync(path, { force: true });
    } catch {
      // Another process got there first.
    }
  }
}

export interface ConsumeOptions {
  /** Use exactly this approval (`apv_…`); otherwise any approval that matches the request. */
  id?: string;
  now?: Date;
}

/**
 * Consumes the approval for `request`: verifies its seal, its binding and its expiry, then claims it
 * by renaming it away (only one process can win) and deletes it. Never throws for a missing,
 * expired, edited or mismatched approval: it says why instead.
 */
export function consumeApproval(stateDir: string, request: ApprovalRequest, options: ConsumeOptions = {}): ConsumeResult {
  const now = options.now ?? new Date();
  const dir = join(stateDir, APPROVALS_DIR);
  if (options.id !== undefined && !ID_PATTERN.test(options.id)) {
    return { ok: false, reason: 'none', message: `not an approval id: ${JSON.stringify(options.id)}` };
  }
  let names: string[];
  try {
    names = options.id !== undefined ? [`${options.id}.json`] : readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    names = [];
  }
  let secret: Buffer;
  try {
    secret = approvalSecret(stateDir);
  } catch (error) {
    return { ok: false, reason: 'none', message: `cannot read the approvals in ${stateDir}: ${(error as Error).message}` };
  }
  const digest = requestDigest(request);
  let failure: { reason: ConsumeFailure; message: string } = {
    reason: 'none',
    message: options.id !== undefined ? `approval ${options.id} does not exist (already used, or never issued)` : 'no approval for this request',
  };
  const rank: Record<ConsumeFailure, number> = { none: 0, mismatch: 1, expired: 2, pending: 3, denied: 4, consumed: 5, tampered: 6 };
  const fail = (reason: ConsumeFailure, message: string) => {
    if (rank[reason] >= rank[failure.reason]) failure = { reason, message };
  };
  for (const name of names) {
    const path = join(dir, name);
    const read = readApproval(path);
    if (!read) continue;
    const { approval, text } = read;
    if (!macMatches(approval, secret) || approval.format !== APPROVAL_FORMAT) {
      if (options.id !== undefined || approval.digest === digest) fail('tampered', `approval ${name.slice(0, -5)} was modified after the guard issued it; it is refused`);
      continue;
    }
    if (approval.status === 'used') {
      if (options.id !== undefined) fail('consumed', `approval ${approval.id} was already used; an approval is good for one request`);
      continue;
    }
    if (approval.digest !== digest) {
      if (options.id !== undefined) fail('mismatch', `approval ${approval.id} is for ${approval.method} ${approval.path} (spec ${approval.version}), not for this exact request (method, path, query, body, spec version and key must all match)`);
      continue;
    }
    if (approval.status === 'denied') {
      fail('denied', `approval ${approval.id} was denied by a person`);
      continue;
    }
    if (approval.status === 'pending') {
      if (!isUnusable(approval, now)) fail('pending', `approval ${approval.id} is waiting for a person: to approve, run in your own terminal: bapi-guard approve ${approval.id}`);
      else fail('expired', `approval ${approval.id} expired at ${approval.expiresAt} before a person approved it`);
      continue;
    }
    if (isUnusable(approval, now)) {
      fail('expired', `approval ${approval.id} expired at ${new Date(Math.max(0, effectiveExpiry(approval))).toISOString()}`);
      continue;
    }
    const claimed = `${path}.claimed.${process.pid}.${crypto().randomBytes(4).toString('hex')}`;
    try {
      renameSync(path, claimed);
    } catch {
      fail('consumed', `approval ${approval.id} was used by another process`);
      continue;
    }
    if (!markUsed(stateDir, approval, secret)) {
      rmSync(claimed, { force: true });
      fail('consumed', `approval ${approval.id} was already used; an approval is good for one request`);
      continue;
    }
    let after: string | null = null;
    try {
      after = readFileSync(claimed, 'utf8');
    } catch {
      after = null;
    }
    rmSync(claimed, { force: true });
    if (after !== text) {
      fail('tampered', `approval ${approval.id} changed while it was being used; it is refused`);
      continue;
    }
    return { ok: true, approval };
  }
  return { ok: false, ...failure };
}

function writeSealed(stateDir: string, approval: Approval | Omit<Approval, 'mac'>, secret: Buffer): Approval {
  const { mac: _mac, ...unsealed } = approval as Approval;
  const record: Approval = { ...unsealed, mac: sealed(unsealed, secret) };
  writePrivateFile(join(stateSubdir(stateDir, APPROVALS_DIR), `${record.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

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

/** One approval by id, verified (seal and format); null when there is none or it was edited. */
export function readApprovalById(stateDir: string, id: string): { approval: Approval; tampered: boolean } | null {
  if (!ID_PATTERN.test(id)) return null;
  const read = readApproval(join(stateDir, APPROVALS_DIR, `${id}.json`)) ?? readApproval(join(stateDir, USED_DIR, id));
  if (!read) return null;
  let secret: Buffer;
  try {
    secret = approvalSecret(stateDir);
  } catch {
    return null;
  }
  const tampered = !macMatches(read.approval, secret) || read.approval.format !== APPROVAL_FORMAT;
  return { approval: read.approval, tampered };
}

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

/** Every approval in the state directory that is sealed correctly, newest first. */
export function listApprovals(stateDir: string, now = new Date()): ApprovalListing[] {
  const ids = new Set<string>();
  for (const [dir, suffix] of [[APPROVALS_DIR, '.json'], [USED_DIR, '']] as const) {
    try {
      for (const name of readdirSync(join(stateDir, dir))) if (name.endsWith(suffix)) ids.add(suffix ? name.slice(0, -suffix.length) : name);
    } catch {
      // none of that kind
    }
  }
  const listed: ApprovalListing[] = [];
  for (const id of ids) {
    const found = readApprovalById(stateDir, id);
    if (found && !found.tampered) listed.push(listingOf(found.approval, now));
  }
  return listed.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** A pending or granted approval for exactly this request that can still be used, if there is one. */
export function findOpenApproval(stateDir: string, request: ApprovalRequest, now = new Date()): Approval | null {
  const digest = requestDigest(request);
  let names: string[];
  try {
    names = readdirSync(join(stateDir, APPROVALS_DIR)).filter((n) => n.endsWith('.json'));
  } catch {
    return null;
  }
  for (const name of names) {
    const found = readApprovalById(stateDir, name.slice(0, -5));
    if (!found || found.tampered) continue;
    const { approval } = found;
    if (approval.digest === digest && (approval.status === 'pending' || approval.status === 'granted') && !isUnusable(approval, now)) return approval;
  }
  return null;
}

export type DecisionFailure = 'unknown' | 'tampered' | 'expired' | 'decided' | 'key' | 'raced';

export type DecisionResult = { ok: true; approval: Approval } | { ok: false; reason: DecisionFailure; message: string };

/**
 * A person's decision on a pending approval: `grant` makes it usable once for `ttlSeconds`, `deny`
 * ends it. Claimed by an atomic rename, so of two racing decisions exactly one wins.
 */
export function decideApproval(
  stateDir: string,
  id: string,
  decision: 'grant' | 'deny',
  options: { keyFingerprint: string | null; now?: Date; ttlSeconds?: number },
): DecisionResult {
  const now = options.now ?? new Date();
  const found = readApprovalById(stateDir, id);
  if (!found) return { ok: false, reason: 'unknown', message: `there is no approval ${id} (never issued, or already cleaned up)` };
  const { approval, tampered } = found;
  if (tampered) return { ok: false, reason: 'tampered', message: `approval ${id} was modified after the guard issued it; it is refused` };
  if (approval.status !== 'pending') return { ok: false, reason: 'decided', message: `approval ${id} is not pending: it is ${listingOf(approval, now).status}` };
  if (isUnusable(approval, now)) return { ok: false, reason: 'expired', message: `approval ${id} expired at ${approval.expiresAt}; ask for it again` };
  if (decision === 'grant' && options.keyFingerprint !== approval.keyFingerprint) {
    return { ok: false, reason: 'key', message: `approval ${id} was asked for with another secret key than the one here; approve it where the same CLERK_SECRET_KEY is set` };
  }
  // One decision per approval: whoever creates the lock decides; the others lose (and the lock stays,
  // so a later decision finds it decided, or expired).
  const path = join(stateDir, APPROVALS_DIR, `${id}.json`);
  try {
    writeFileSync(`${path}.decided`, String(process.pid), { mode: 0o600, flag: 'wx' });
  } catch {
    return { ok: false, reason: 'raced', message: `approval ${id} was decided by another process` };
  }
  const again = readApprovalById(stateDir, id);
  if (!again || again.tampered || again.approval.status !== 'pending' || again.approval.mac !== approval.mac) {
    return { ok: false, reason: 'raced', message: `approval ${id} changed while it was being decided` };
  }
  const secret = approvalSecret(stateDir);
  const ttl = options.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  const decided = writeSealed(
    stateDir,
    {
      ...approval,
      status: decision === 'grant' ? 'granted' : 'denied',
      confirmedBy: decision === 'grant' ? 'approve-command' : null,
      decidedAt: now.toISOString(),
      expiresAt: decision === 'grant' ? new Date(now.getTime() + ttl * 1000).toISOString() : approval.expiresAt,
    },
    secret,
  );
  return { ok: true, approval: decided };
}

/** The pending approval lifetime: CLERK_BAPI_PENDING_TTL, else 15 minutes. */
export function pendingTtl(env: Record<string, string | undefined>): number {
  const raw = env[PENDING_TTL_VARIABLE];
  return raw !== undefined && raw !== '' ? parseTtl(raw, PENDING_TTL_VARIABLE) : DEFAULT_PENDING_TTL_SECONDS;
}
