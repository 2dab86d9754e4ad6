// The state directory's approvals: one sealed JSON file per approval in approvals/ (0600, in a 0700
// directory), sealed with an HMAC under approval-secret so an edited file is refused; claimed by an
// atomic rename, and its id recorded as used in approvals-used/ by an exclusive create, so a copied
// or restored file is refused too; decided once, by whoever creates its `.decided` marker.
import { linkSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crypto } from '../core/builtins.js';
import { ensurePrivateDir, stateSubdir, writePrivateFile } from '../core/state-dir.js';
import { hmacMatches, hmacOf, requestDigest } from './approval-digest.js';
import { APPROVAL_FORMAT, approvalRecord, claimFailures, decidedRecord, decisionRefusal, whyUnusable, CLOCK_SKEW_MS, ID_PATTERN, isExpired, isUnusable, listingOf, MAX_APPROVAL_TTL_SECONDS, pollDecision, type Approval, type ApprovalListing, type ApprovalRequest, type ApprovalStore, type ConsumeOptions, type ConsumeResult, type CreateApprovalOptions, type DecisionResult } from './approvals.js';

const SECRET_FILE = 'approval-secret';
const APPROVALS_DIR = 'approvals';
/** One empty file per approval id that was used: created exclusively, so an id is used once however many copies of its file exist. */
const USED_DIR = 'approvals-used';

/** The approvals of a state directory. */
export function approvalStore(stateDir: string): ApprovalStore {
  return {
    create: (request, options) => createApproval(stateDir, request, options),
    claim: (request, options) => consumeApproval(stateDir, request, options),
    decide: (id, decision, options) => decideApproval(stateDir, id, decision, options),
    get: (id) => readApprovalById(stateDir, id),
    findOpen: (request, now) => findOpenApproval(stateDir, request, now),
    list: (now) => listApprovals(stateDir, now),
    watch: (id, waitMs) => pollDecision({ get: (one) => readApprovalById(stateDir, one) }, id, waitMs),
  };
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
  return (record) => hmacOf(secret, record);
}

/** True when `mac` is `record`'s seal under this state directory's secret. */
export function sealMatches(stateDir: string, record: unknown, mac: unknown): boolean {
  return hmacMatches(approvalSecret(stateDir), record, mac);
}

function sealed(approval: Omit<Approval, 'mac'>, secret: Buffer): string {
  return hmacOf(secret, approval);
}

function macMatches(approval: Approval, secret: Buffer): boolean {
  if (typeof approval.mac !== 'string') return false;
  const { mac, ...rest } = approval;
  const expected = Buffer.from(sealed(rest, secret), 'hex');
  const actual = Buffer.from(mac, 'hex');
  return actual.length === expected.length && crypto().timingSafeEqual(actual, expected);
}

/** Writes a new approval for `request` into the state directory and returns it. */
function createApproval(stateDir: string, request: ApprovalRequest, options: CreateApprovalOptions = {}): Approval {
  const secret = approvalSecret(stateDir);
  const dir = stateSubdir(stateDir, APPROVALS_DIR);
  const unsealed = approvalRecord(request, options);
  const approval: Approval = { ...unsealed, mac: sealed(unsealed, secret) };
  writePrivateFile(join(dir, `${approval.id}.json`), `${JSON.stringify(approval, null, 2)}\n`);
  pruneApprovals(stateDir, options.now ?? new Date());
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

/**
 * Consumes the approval for `request`: verifies its seal, its binding and its expiry, then claims it
 * by renaming it away (only one process can win) and deletes it. Never throws for a missing,
 * expired, edited or mismatched approval: it says why instead.
 */
function consumeApproval(stateDir: string, request: ApprovalRequest, options: ConsumeOptions = {}): ConsumeResult {
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
  const { fail, result } = claimFailures(options.id);
  for (const name of names) {
    const path = join(dir, name);
    const read = readApproval(path);
    if (!read) continue;
    const { approval, text } = read;
    if (!macMatches(approval, secret) || approval.format !== APPROVAL_FORMAT) {
      if (options.id !== undefined || approval.digest === digest) fail('tampered', `approval ${name.slice(0, -5)} was modified after the guard issued it; it is refused`);
      continue;
    }
    const unusable = whyUnusable(approval, digest, now, options.id !== undefined);
    if (unusable) {
      fail(unusable.reason, unusable.message);
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
  return result();
}

function writeSealed(stateDir: string, approval: Approval | Omit<Approval, 'mac'>, secret: Buffer): Approval {
  const { mac: _mac, ...unsealed } = approval as Approval;
  const record: Approval = { ...unsealed, mac: sealed(unsealed, secret) };
  writePrivateFile(join(stateSubdir(stateDir, APPROVALS_DIR), `${record.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** One approval by id, verified (seal and format); null when there is none or it was edited. */
function readApprovalById(stateDir: string, id: string): { approval: Approval; tampered: boolean } | null {
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

/** Every approval in the state directory that is sealed correctly, newest first. */
function listApprovals(stateDir: string, now = new Date()): ApprovalListing[] {
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
function findOpenApproval(stateDir: string, request: ApprovalRequest, now = new Date()): Approval | null {
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

/**
 * A person's decision on a pending approval: `grant` makes it usable once for `ttlSeconds`, `deny`
 * ends it. Claimed by an atomic rename, so of two racing decisions exactly one wins.
 */
function decideApproval(
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
  const refusal = decisionRefusal(approval, decision, options.keyFingerprint, now);
  if (refusal) return refusal;
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
  const decided = writeSealed(stateDir, decidedRecord(approval, decision, now, options.ttlSeconds), secret);
  return { ok: true, approval: decided };
}

