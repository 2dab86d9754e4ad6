// The consent step (guard/authorize.authorize) for one request and for a batch alike, in process with
// a memory approval store: the same outcome kinds and failure codes for the same request alone and
// as a one-line batch, a person's decision awaited for either, and a batch verdict's stable code.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { memoryApprovalStore } from '../lib/guard/approval-memory.js';
import { authorizeRequest } from '../lib/guard/authorize.js';
import { authorizeBatchRequest, runBatchGuard } from '../lib/guard/batch.js';
import { type BatchLine } from '../lib/guard/batch-verdict.js';
import type { Consent } from '../lib/guard/consent.js';
import { findSecretKey } from '../lib/guard/key.js';
import type { GuardSpec } from '../lib/guard/run-guard.js';
import { visibleEndpoints } from '../lib/spec/index.js';
import { memoryIO } from './helpers/in-process.js';
import { sharedIndex } from './helpers/spec-fixtures.js';

const VERSION = '2025-11-10';
const index = sharedIndex(VERSION);
const spec: GuardSpec = { endpoints: visibleEndpoints(index.summary, false), detail: index.detail, version: VERSION, published: true };
const KEY = `sk_test_${randomBytes(20).toString('hex')}`;
const env = { CLERK_SECRET_KEY: KEY, CLERK_BAPI_SCOPES: 'users:write' };
const person: Consent = { mode: 'person', reasons: ['test'], agent: 'test-agent', warnings: [] };
const flag: Consent = { mode: 'flag', reasons: [], agent: null, warnings: [] };

function line(method: string, path: string, body?: unknown): BatchLine {
  return { line: 1, method, path, query: [], ...(body !== undefined ? { body } : {}) } as BatchLine;
}

/** The same request alone and as a one-line batch, through the same consent step. */
async function both(method: string, path: string, consent: Consent, body?: unknown) {
  const io = memoryIO(env, '/');
  const key = findSecretKey(io.env, io.cwd);
  const common = { key, prompter: null, explain: false, consent, store: memoryApprovalStore() };
  const single = await authorizeRequest({ method, path, query: [], body }, spec, io, common);
  const batch = await authorizeBatchRequest([line(method, path, body)], spec, io, { ...common, store: memoryApprovalStore(), source: 'test' });
  return { single, batch };
}

const codeOf = (outcome: { kind: string; failure?: { code: string; exitCode: number } }) => (outcome.kind === 'allowed' ? 'allowed' : `${outcome.failure?.code} ${outcome.failure?.exitCode}`);

describe('authorize: one request and a batch through the same consent step', () => {
  it('gives the same outcome and failure for a request alone and as a one-line batch', async () => {
    const cases: Array<[string, string, Consent, unknown?]> = [
      ['PATCH', '/users/user_1', flag, { first_name: 'Ada' }],
      ['DELETE', '/users/user_1', person],
      ['DELETE', '/organizations/org_1', flag],
      ['POST', '/users', flag, { email_address: 'not-an-array' }],
      ['POST', '/no_such_thing', flag, {}],
    ];
    const seen: string[] = [];
    for (const [method, path, consent, body] of cases) {
      const { single, batch } = await both(method, path, consent, body);
      assert.equal(codeOf(batch), codeOf(single), `${method} ${path} (${consent.mode})`);
      seen.push(codeOf(single));
    }
    // The cases cover an allowed write, a pending approval, a scope refusal and an invalid request.
    assert.ok(seen.includes('allowed'));
    assert.ok(seen.includes('approval_pending 4'));
    assert.ok(seen.includes('scope_denied 3'));
    assert.ok(seen.some((s) => s.endsWith(' 2')));
  });

  it("waits for a person's decision on either: granted is sent once with the person's consent, denied is declined", async () => {
    for (const decision of ['granted', 'denied'] as const) {
      for (const kind of ['single', 'batch'] as const) {
        const io = memoryIO(env, '/');
        const key = findSecretKey(io.env, io.cwd);
        const store = memoryApprovalStore({
          // The person answers as soon as the approval is pending.
          onPending: (approval) => setTimeout(() => store.decide(approval.id, decision === 'granted' ? 'grant' : 'deny', { keyFingerprint: key.info.fingerprint }), 5),
        });
        const options = { key, prompter: null, explain: false, consent: person, store, waitApprovalMs: 2_000 };
        const outcome =
          kind === 'single'
            ? await authorizeRequest({ method: 'DELETE', path: '/users/user_9', query: [], body: undefined }, spec, io, options)
            : await authorizeBatchRequest([line('DELETE', '/users/user_9')], spec, io, { ...options, source: 'test' });
        if (decision === 'granted') {
          assert.equal(outcome.kind, 'allowed', `${kind}: ${codeOf(outcome as never)}`);
          assert.equal(outcome.kind === 'allowed' && outcome.consent.consentMode, 'person');
          // Claimed: a second authorization finds no approval and is pending again.
          const again = kind === 'single' ? await authorizeRequest({ method: 'DELETE', path: '/users/user_9', query: [], body: undefined }, spec, io, { ...options, waitApprovalMs: null }) : await authorizeBatchRequest([line('DELETE', '/users/user_9')], spec, io, { ...options, waitApprovalMs: null, source: 'test' });
          assert.equal(again.kind, 'pending', kind);
        } else {
          assert.equal(codeOf(outcome as never), 'declined 4', kind);
        }
      }
    }
  });

  it("a batch verdict carries its failure's stable code, as a single request's does (bapi-guard --batch --json)", async () => {
    const io = memoryIO(env, '/');
    const key = findSecretKey(io.env, io.cwd);
    const run = async (lines: BatchLine[], consent: Consent, prompter: ((q: string) => Promise<string | null>) | null = null, on = io) =>
      (await runBatchGuard(lines, [], spec, on, { key, consent, prompter, explain: false, issuePending: true, store: memoryApprovalStore(), source: 'test' })).verdict;
    assert.equal((await run([line('PATCH', '/users/user_1', { first_name: 'Ada' })], flag)).code, null);
    assert.equal((await run([line('DELETE', '/users/user_1')], person)).code, 'approval_pending');
    assert.equal((await run([line('DELETE', '/organizations/org_1')], flag)).code, 'scope_denied');
    assert.equal((await run([line('POST', '/users', { email_address: 'x' })], flag)).code, 'request_invalid');
    assert.equal((await run([line('POST', '/no_such_thing', {})], flag)).code, 'not_found');
    const declined = await run([line('DELETE', '/users/user_1')], flag, async () => 'no', memoryIO({ ...env, CLERK_BAPI_SCOPES: 'users:write,users:delete' }, '/'));
    assert.equal(declined.code, 'declined');
    assert.equal(declined.confirmation.declined, true);
  });
});
