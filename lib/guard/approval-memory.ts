// Approvals held in one process's memory: nothing on disk grants anything. For a process that judges
// requests for others (a key-custody broker) and for tests; the same protocol as the state
// directory's store, which test/approval-store.test.ts holds both to.
import { requestDigest } from './approval-digest.js';
import { approvalRecord, claimFailures, decidedRecord, decisionRefusal, whyUnusable, isUnusable, listingOf, pollDecision, type Approval, type ApprovalListing, type ApprovalRequest, type ApprovalStore, type ConsumeOptions, type ConsumeResult, type CreateApprovalOptions, type DecisionResult, type PersonDesk } from './approvals.js';

export interface MemoryStoreOptions {
  /** Where a person decides its pending approvals (a broker's terminal); default: bapi-guard approve. */
  person?: PersonDesk;
  /** Told of each new pending approval, once, as it is created (a broker puts it before its person). */
  onPending?: (approval: Approval) => void;
}

/** A store of approvals in this process's memory; `used` ids are remembered for its lifetime. */
export function memoryApprovalStore(storeOptions: MemoryStoreOptions = {}): ApprovalStore {
  const approvals = new Map<string, Approval>();
  const get = (id: string) => {
    const approval = approvals.get(id);
    return approval ? { approval, tampered: false } : null;
  };
  return {
    create(request: ApprovalRequest, options: CreateApprovalOptions = {}): Approval {
      const approval: Approval = { ...approvalRecord(request, options), mac: '' };
      approvals.set(approval.id, approval);
      if (approval.status === 'pending') storeOptions.onPending?.(approval);
      return approval;
    },
    claim(request: ApprovalRequest, options: ConsumeOptions = {}): ConsumeResult {
      const now = options.now ?? new Date();
      const digest = requestDigest(request);
      const candidates = options.id !== undefined ? [approvals.get(options.id)].filter((a): a is Approval => a !== undefined) : [...approvals.values()].filter((a) => a.digest === digest);
      const { fail, result } = claimFailures(options.id);
      for (const approval of candidates) {
        const unusable = whyUnusable(approval, digest, now, options.id !== undefined);
        if (unusable) fail(unusable.reason, unusable.message);
        else {
          // Claimed synchronously: no other caller in this process can see it granted after this line.
          approvals.set(approval.id, { ...approval, status: 'used' });
          return { ok: true, approval };
        }
      }
      return result();
    },
    decide(id, decision, decideOptions): DecisionResult {
      const now = decideOptions.now ?? new Date();
      const approval = approvals.get(id);
      if (!approval) return { ok: false, reason: 'unknown', message: `there is no approval ${id}` };
      const refusal = decisionRefusal(approval, decision, decideOptions.keyFingerprint, now);
      if (refusal) return refusal;
      const decided = decidedRecord(approval, decision, now, decideOptions.ttlSeconds, storeOptions.person?.by);
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
    ...(storeOptions.person ? { person: storeOptions.person } : {}),
  };
}
