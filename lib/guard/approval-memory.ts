// Approvals held in one process's memory: nothing on disk grants anything. For a process that judges
// requests for others (a key-custody broker) and for tests; the same protocol as the state
// directory's store, which test/approval-store.test.ts holds both to.
import { requestDigest } from './approval-digest.js';
import {
  approvalRecord,
  DEFAULT_APPROVAL_TTL_SECONDS,
  effectiveExpiry,
  isUnusable,
  listingOf,
  pollDecision,
  type Approval,
  type ApprovalListing,
  type ApprovalRequest,
  type ApprovalStore,
  type ConsumeFailure,
  type ConsumeOptions,
  type ConsumeResult,
  type CreateApprovalOptions,
  type DecisionResult,
} from './approvals.js';

/** A store of approvals in this process's memory; `used` ids are remembered for its lifetime. */
export function memoryApprovalStore(): ApprovalStore {
  const approvals = new Map<string, Approval>();
  const get = (id: string) => {
    const approval = approvals.get(id);
    return approval ? { approval, tampered: false } : null;
  };
  return {
    create(request: ApprovalRequest, options: CreateApprovalOptions = {}): Approval {
      const approval: Approval = { ...approvalRecord(request, options), mac: '' };
      approvals.set(approval.id, approval);
      return approval;
    },
    claim(request: ApprovalRequest, options: ConsumeOptions = {}): ConsumeResult {
      const now = options.now ?? new Date();
      const digest = requestDigest(request);
      const candidates = options.id !== undefined ? [approvals.get(options.id)].filter((a): a is Approval => a !== undefined) : [...approvals.values()].filter((a) => a.digest === digest);
      let failure: { reason: ConsumeFailure; message: string } = { reason: 'none', message: options.id !== undefined ? `approval ${options.id} does not exist (already used, or never issued)` : 'no approval for this request' };
      // The most telling reason wins, as in the state directory's store.
      const rank: Record<ConsumeFailure, number> = { none: 0, mismatch: 1, expired: 2, pending: 3, denied: 4, consumed: 5, tampered: 6 };
      const fail = (reason: ConsumeFailure, message: string) => {
        if (rank[reason] >= rank[failure.reason]) failure = { reason, message };
      };
      for (const approval of candidates) {
        if (approval.status === 'used') {
          if (options.id !== undefined) fail('consumed', `approval ${approval.id} was already used; an approval is good for one request`);
        } else if (approval.digest !== digest) fail('mismatch', `approval ${approval.id} is for ${approval.method} ${approval.path} (spec ${approval.version}), not for this exact request`);
        else if (approval.status === 'denied') fail('denied', `approval ${approval.id} was denied by a person`);
        else if (approval.status === 'pending') {
          if (isUnusable(approval, now)) fail('expired', `approval ${approval.id} expired before a person approved it`);
          else fail('pending', `approval ${approval.id} is waiting for a person`);
        } else if (isUnusable(approval, now)) fail('expired', `approval ${approval.id} expired at ${new Date(Math.max(0, effectiveExpiry(approval))).toISOString()}`);
        else {
          // Claimed synchronously: no other caller in this process can see it granted after this line.
          approvals.set(approval.id, { ...approval, status: 'used' });
          return { ok: true, approval };
        }
      }
      return { ok: false, ...failure };
    },
    decide(id, decision, options): DecisionResult {
      const now = options.now ?? new Date();
      const approval = approvals.get(id);
      if (!approval) return { ok: false, reason: 'unknown', message: `there is no approval ${id}` };
      if (approval.status !== 'pending') return { ok: false, reason: 'decided', message: `approval ${id} is not pending: it is ${listingOf(approval, now).status}` };
      if (isUnusable(approval, now)) return { ok: false, reason: 'expired', message: `approval ${id} expired at ${approval.expiresAt}; ask for it again` };
      if (decision === 'grant' && options.keyFingerprint !== approval.keyFingerprint) return { ok: false, reason: 'key', message: `approval ${id} was asked for with another secret key` };
      const ttl = options.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
      const decided: Approval = {
        ...approval,
        status: decision === 'grant' ? 'granted' : 'denied',
        confirmedBy: decision === 'grant' ? 'approve-command' : null,
        decidedAt: now.toISOString(),
        expiresAt: decision === 'grant' ? new Date(now.getTime() + ttl * 1000).toISOString() : approval.expiresAt,
      };
      approvals.set(id, decided);
      return { ok: true, approval: decided };
    },
    get,
    findOpen(request: ApprovalRequest, now = new Date()): Approval | null {
      const digest = requestDigest(request);
      return [...approvals.values()].find((a) => a.digest === digest && (a.status === 'pending' || a.status === 'granted') && !isUnusable(a, now)) ?? null;
    },
    list(now = new Date()): ApprovalListing[] {
      return [...approvals.values()].map((a) => listingOf(a, now)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    },
    watch: (id, waitMs) => pollDecision({ get }, id, waitMs, 20),
  };
}
