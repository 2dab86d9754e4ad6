// One request to approve, as the approval tests bind it: every field set, the key a fresh test key.
import { randomBytes } from 'node:crypto';
import type { ApprovalRequest } from '../../lib/guard/approvals.js';
import { keyFingerprint } from '../../lib/guard/key.js';

/** The secret key the approvals are asked for with (fresh per test process; never printed). */
export const APPROVAL_KEY = `sk_test_${randomBytes(20).toString('hex')}`;

/** A PATCH with a query and a body, bound to APPROVAL_KEY; `overrides` change one field at a time. */
export function approvalRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    method: 'PATCH',
    path: '/users/user_1',
    query: [['a', '1'], ['b', '2']],
    body: { first_name: 'Ada', public_metadata: { x: 1, y: [1, 2] } },
    version: '2025-11-10',
    specDigest: 'store:0123456789abcdef0123456789abcdef01234567',
    origin: 'https://api.clerk.com',
    keyFingerprint: keyFingerprint(APPROVAL_KEY),
    ...overrides,
  };
}
