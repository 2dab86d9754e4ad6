// The ApprovalStore protocol, held to every implementation: the state directory's (approval-files) and
// one process's (approval-memory). Issued for one exact request, claimed once, decided once by a
// person, listed, watched; expiries never believed beyond the maximum lifetime.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalJson, requestDigest } from '../lib/guard/approval-digest.js';
import { approvalStore } from '../lib/guard/approval-files.js';
import { memoryApprovalStore } from '../lib/guard/approval-memory.js';
import type { ApprovalStore } from '../lib/guard/approvals.js';
import { keyFingerprint } from '../lib/guard/key.js';
import { APPROVAL_KEY as key, approvalRequest as request } from './helpers/approval-fixtures.js';

const IMPLEMENTATIONS: Array<[string, () => ApprovalStore]> = [
  ['the state directory (approval-files)', () => approvalStore(join(mkdtempSync(join(tmpdir(), 'approval-store-')), 'state'))],
  ['memory (approval-memory)', () => memoryApprovalStore()],
];

for (const [label, make] of IMPLEMENTATIONS) {
  describe(`ApprovalStore: ${label}`, () => {
    test('consumed once by the exact request; a second use fails', () => {
      const store = make();
      const approval = store.create(request());
      // Same request with reordered query, reordered body keys and a /v1 prefix is the same request.
      const same = request({ path: '/v1/users/user_1/', query: [['b', '2'], ['a', '1']], body: { public_metadata: { y: [1, 2], x: 1 }, first_name: 'Ada' } });
      const first = store.claim(same);
      assert.equal(first.ok, true);
      assert.equal(first.ok && first.approval.id, approval.id);
      const second = store.claim(same);
      assert.equal(second.ok, false);
      assert.equal(!second.ok && second.reason, 'none');
    });

    test('bound to method, path, query, body, spec version and key', () => {
      const store = make();
      store.create(request());
      const other = `sk_test_${randomBytes(20).toString('hex')}`;
      for (const changed of [
        request({ method: 'PUT' }),
        request({ path: '/users/user_2' }),
        request({ query: [['a', '1']] }),
        request({ body: { first_name: 'Eve', public_metadata: { x: 1, y: [1, 2] } } }),
        request({ body: { first_name: 'Ada', public_metadata: { x: 1, y: [2, 1] } } }),
        request({ body: undefined }),
        request({ version: '2025-04-10' }),
        request({ specDigest: 'file:fedcba9876543210fedcba9876543210fedcba98' }),
        request({ origin: 'http://127.0.0.1:8080' }),
        request({ keyFingerprint: keyFingerprint(other) }),
      ]) {
        assert.notEqual(requestDigest(changed), requestDigest(request()));
        assert.equal(store.claim(changed).ok, false);
      }
      assert.equal(store.claim(request()).ok, true);
    });

    test('a "__proto__" key in the body is bound like any other key', () => {
      const plain = request({ body: JSON.parse('{"first_name":"Ada"}') });
      const polluted = request({ body: JSON.parse('{"first_name":"Ada","__proto__":{"public_metadata":{"role":"admin"}}}') });
      assert.notEqual(requestDigest(polluted), requestDigest(plain));
      assert.match(canonicalJson(polluted.body), /"__proto__":\{"public_metadata"/);
      const store = make();
      store.create(plain);
      assert.equal(store.claim(polluted).ok, false);
      assert.equal(({} as Record<string, unknown>).public_metadata, undefined, 'no prototype was touched');
    });

    test('an expiry beyond the maximum lifetime is read as the maximum', () => {
      const store = make();
      const now = new Date('2030-01-01T00:00:00Z');
      store.create(request(), { now, ttlSeconds: 10 * 365 * 86400 });
      const later = store.claim(request(), { now: new Date(now.getTime() + 3601_000) });
      assert.equal(!later.ok && later.reason, 'expired');
      const future = make().create(request(), { now: new Date(now.getTime() + 86400_000) });
      assert.ok(future.createdAt > now.toISOString());
      const store2 = make();
      store2.create(request(), { now: new Date(now.getTime() + 86400_000) });
      assert.equal(store2.claim(request(), { now }).ok, false, 'an approval created in the future is not believed');
    });

    test('an explicit id for another request is a mismatch and stays usable', () => {
      const store = make();
      const approval = store.create(request());
      const wrong = store.claim(request({ path: '/users/user_2' }), { id: approval.id });
      assert.equal(!wrong.ok && wrong.reason, 'mismatch');
      assert.equal(store.claim(request(), { id: approval.id }).ok, true);
      assert.equal(!store.claim(request(), { id: 'apv_../../etc' }).ok, true);
    });

    test('expired approvals are refused', () => {
      const store = make();
      const now = new Date('2030-01-01T00:00:00Z');
      store.create(request(), { now, ttlSeconds: 60 });
      const late = store.claim(request(), { now: new Date(now.getTime() + 61_000) });
      assert.equal(late.ok, false);
      assert.equal(!late.ok && late.reason, 'expired');
      assert.equal(store.claim(request(), { now: new Date(now.getTime() + 59_000) }).ok, true);
    });

    test('pending: claimed as pending until a person grants it; then once; a denial or another key is final', () => {
      const store = make();
      const pending = store.create(request(), { status: 'pending', expected: 'yes' });
      assert.match(pending.id, /^apr_[0-9a-f]{24}$/);
      const early = store.claim(request());
      assert.equal(!early.ok && early.reason, 'pending');
      assert.equal(store.findOpen(request())?.id, pending.id, 'asking again finds the same pending approval');
      const otherKey = store.decide(pending.id, 'grant', { keyFingerprint: keyFingerprint(`sk_test_${randomBytes(20).toString('hex')}`) });
      assert.equal(!otherKey.ok && otherKey.reason, 'key');
      const granted = store.decide(pending.id, 'grant', { keyFingerprint: keyFingerprint(key) });
      assert.equal(granted.ok && granted.approval.status, 'granted');
      assert.equal(granted.ok && granted.approval.confirmedBy, 'approve-command');
      const twice = store.decide(pending.id, 'deny', { keyFingerprint: null });
      assert.equal(!twice.ok && twice.reason, 'decided');
      assert.equal(store.claim(request()).ok, true);
      assert.equal(store.claim(request()).ok, false);
      const denied = store.create(request({ path: '/users/user_3' }), { status: 'pending' });
      assert.equal(store.decide(denied.id, 'deny', { keyFingerprint: null }).ok, true);
      const refused = store.claim(request({ path: '/users/user_3' }));
      assert.equal(!refused.ok && refused.reason, 'denied');
    });

    test('listed newest first with their state now; watched until a person decides', async () => {
      const store = make();
      const now = Date.now();
      const used = store.create(request({ path: '/users/a' }), { now: new Date(now - 2000) });
      store.claim(request({ path: '/users/a' }));
      const open = store.create(request({ path: '/users/b' }), { now: new Date(now - 1000) });
      const pending = store.create(request({ path: '/users/c' }), { status: 'pending' });
      const listed = store.list();
      assert.deepEqual(listed.map((a) => [a.id, a.status]), [[pending.id, 'pending'], [open.id, 'granted'], [used.id, 'used']]);
      assert.equal(await store.watch(pending.id, 50), 'timeout');
      const watching = store.watch(pending.id, 5000);
      setTimeout(() => store.decide(pending.id, 'grant', { keyFingerprint: keyFingerprint(key) }), 30);
      assert.equal(await watching, 'granted');
      assert.equal(await store.watch('apr_000000000000000000000000', 50), 'expired');
      assert.equal(store.get(pending.id)?.approval.status, 'granted');
    });
  });
}

test('canonical JSON sorts keys at every level and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: undefined, c: [2, { z: 1, y: 0 }] } }), '{"a":{"c":[2,{"y":0,"z":1}]},"b":1}');
});
