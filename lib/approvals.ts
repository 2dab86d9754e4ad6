// Approvals: the guard's permission for one exact write. Bound to the method, concrete path, query,
// body, spec version and the digest of the spec that judged it, the API origin and the key
// fingerprint; single-use (claimed by an atomic rename, and its id recorded as used so that a copy
// or a restored file is refused too), short-lived (an expiry is never read as later than the
// maximum lifetime), and sealed with an HMAC under a per-state-directory secret so an edited
// approval is refused.
import { linkSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import { ensurePrivateDir, stateSubdir, writePrivateFile } from './state-dir.js';
import { crypto } from './builtins.js';

export const APPROVAL_TTL_VARIABLE = 'CLERK_BAPI_APPROVAL_TTL';
export const DEFAULT_APPROVAL_TTL_SECONDS = 300;
export const MAX_APPROVAL_TTL_SECONDS = 3600;
const APPROVAL_FORMAT = 2;
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
  /** Hash of all the bound fields: what a later request must reproduce. */
  digest: string;
  mac: string;
}

export type ConsumeFailure = 'none' | 'expired' | 'tampered' | 'mismatch' | 'consumed';

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
}

/** Writes a new approval for `request` into the state directory and returns it. */
export function createApproval(stateDir: string, request: ApprovalRequest, options: CreateApprovalOptions = {}): Approval {
  const now = options.now ?? new Date();
  const ttl = options.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  const secret = approvalSecret(stateDir);
  const dir = stateSubdir(stateDir, APPROVALS_DIR);
  const unsealed: Omit<Approval, 'mac'> = {
    format: APPROVAL_FORMAT,
    id: `apv_${crypto().randomBytes(12).toString('hex')}`,
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

/** When it really expires: its expiry, but never later than the maximum lifetime after its creation. */
function effectiveExpiry(approval: Approval): number {
  const created = Date.parse(approval.createdAt);
  const expires = Date.parse(approval.expiresAt);
  if (Number.isNaN(created) || Number.isNaN(expires)) return -Infinity;
  return Math.min(expires, created + MAX_APPROVAL_TTL_SECONDS * 1000);
}

function isExpired(approval: Approval, now: Date): boolean {
  return effectiveExpiry(approval) <= now.getTime();
}

/** Expired, or not believable: created in the future. */
function isUnusable(approval: Approval, now: Date): boolean {
  return isExpired(approval, now) || Date.parse(approval.createdAt) > now.getTime() + CLOCK_SKEW_MS;
}

const ID_PATTERN = /^apv_[0-9a-f]{24}$/;

/** Records `id` as used; false when it already was (a copied or restored approval file). */
function markUsed(stateDir: string, id: string): boolean {
  const dir = stateSubdir(stateDir, USED_DIR);
  try {
    writeFileSync(join(dir, id), '', { mode: 0o600, flag: 'wx' });
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
  const rank: Record<ConsumeFailure, number> = { none: 0, mismatch: 1, expired: 2, consumed: 3, tampered: 4 };
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
    if (approval.digest !== digest) {
      if (options.id !== undefined) fail('mismatch', `approval ${approval.id} is for ${approval.method} ${approval.path} (spec ${approval.version}), not for this exact request (method, path, query, body, spec version and key must all match)`);
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
    if (!markUsed(stateDir, approval.id)) {
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
