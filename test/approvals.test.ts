import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { approvalTtl, canonicalJson, consumeApproval, createApproval, parseTtl, requestDigest, type ApprovalRequest } from '../lib/guard/approvals.js';
import { keyFingerprint } from '../lib/guard/key.js';
import { defaultStateDir } from '../lib/core/state-dir.js';

const key = `sk_test_${randomBytes(20).toString('hex')}`;

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    method: 'PATCH',
    path: '/users/user_1',
    query: [['a', '1'], ['b', '2']],
    body: { first_name: 'Ada', public_metadata: { x: 1, y: [1, 2] } },
    version: '2025-11-10',
    specDigest: 'store:0123456789abcdef0123456789abcdef01234567',
    origin: 'https://api.clerk.com',
    keyFingerprint: keyFingerprint(key),
    ...overrides,
  };
}

function stateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'guard-approvals-')), 'state');
}

describe('approvals', () => {
  test('stored privately (dir 0700, files 0600), without the key or the body', () => {
    const dir = stateDir();
    const approval = createApproval(dir, request({ body: { password: 'hunter2-secret' } }));
    assert.match(approval.id, /^apv_[0-9a-f]{24}$/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'approvals')).mode & 0o777, 0o700);
    const file = join(dir, 'approvals', `${approval.id}.json`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'approval-secret')).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(key) && !text.includes('hunter2-secret'));
    assert.equal(Date.parse(approval.expiresAt) - Date.parse(approval.createdAt), 300_000);
  });

  test('consumed once by the exact request; a second use fails', () => {
    const dir = stateDir();
    const approval = createApproval(dir, request());
    // Same request with reordered query, reordered body keys and a /v1 prefix is the same request.
    const same = request({ path: '/v1/users/user_1/', query: [['b', '2'], ['a', '1']], body: { public_metadata: { y: [1, 2], x: 1 }, first_name: 'Ada' } });
    const first = consumeApproval(dir, same);
    assert.equal(first.ok, true);
    assert.equal(first.ok && first.approval.id, approval.id);
    const second = consumeApproval(dir, same);
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.reason, 'none');
    assert.equal(readdirSync(join(dir, 'approvals')).length, 0);
  });

  test('bound to method, path, query, body, spec version and key', () => {
    const dir = stateDir();
    createApproval(dir, request());
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
      assert.equal(consumeApproval(dir, changed).ok, false);
    }
    assert.equal(consumeApproval(dir, request()).ok, true);
  });

  test('a "__proto__" key in the body is bound like any other key', () => {
    const plain = request({ body: JSON.parse('{"first_name":"Ada"}') });
    const polluted = request({ body: JSON.parse('{"first_name":"Ada","__proto__":{"public_metadata":{"role":"admin"}}}') });
    assert.notEqual(requestDigest(polluted), requestDigest(plain));
    assert.match(canonicalJson(polluted.body), /"__proto__":\{"public_metadata"/);
    const dir = stateDir();
    createApproval(dir, plain);
    assert.equal(consumeApproval(dir, polluted).ok, false);
    assert.equal(({} as Record<string, unknown>).public_metadata, undefined, 'no prototype was touched');
  });

  test('single use per id: a copied or restored approval file is refused', () => {
    const dir = stateDir();
    const approval = createApproval(dir, request());
    const file = join(dir, 'approvals', `${approval.id}.json`);
    const text = readFileSync(file, 'utf8');
    assert.equal(consumeApproval(dir, request()).ok, true);
    writeFileSync(file, text, { mode: 0o600 });
    writeFileSync(join(dir, 'approvals', `copy.json`), text, { mode: 0o600 });
    const again = consumeApproval(dir, request());
    assert.equal(!again.ok && again.reason, 'consumed');
    assert.equal(consumeApproval(dir, request(), { id: approval.id }).ok, false);
  });

  test('an expiry beyond the maximum lifetime is read as the maximum', () => {
    const dir = stateDir();
    const now = new Date('2030-01-01T00:00:00Z');
    // Sealed with the directory's own secret, as a forger who can read it would.
    createApproval(dir, request(), { now, ttlSeconds: 10 * 365 * 86400 });
    const later = consumeApproval(dir, request(), { now: new Date(now.getTime() + 3601_000) });
    assert.equal(!later.ok && later.reason, 'expired');
    const future = createApproval(stateDir(), request(), { now: new Date(now.getTime() + 86400_000) });
    assert.ok(future.createdAt > now.toISOString());
    const dir2 = stateDir();
    createApproval(dir2, request(), { now: new Date(now.getTime() + 86400_000) });
    assert.equal(consumeApproval(dir2, request(), { now }).ok, false, 'an approval created in the future is not believed');
  });

  test('an explicit id for another request is a mismatch and stays usable', () => {
    const dir = stateDir();
    const approval = createApproval(dir, request());
    const wrong = consumeApproval(dir, request({ path: '/users/user_2' }), { id: approval.id });
    assert.equal(!wrong.ok && wrong.reason, 'mismatch');
    assert.equal(consumeApproval(dir, request(), { id: approval.id }).ok, true);
    assert.equal(!consumeApproval(dir, request(), { id: 'apv_../../etc' }).ok, true);
  });

  test('expired approvals are refused', () => {
    const dir = stateDir();
    const now = new Date('2030-01-01T00:00:00Z');
    createApproval(dir, request(), { now, ttlSeconds: 60 });
    const late = consumeApproval(dir, request(), { now: new Date(now.getTime() + 61_000) });
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.reason, 'expired');
    assert.equal(consumeApproval(dir, request(), { now: new Date(now.getTime() + 59_000) }).ok, true);
  });

  test('an edited approval is refused (HMAC)', () => {
    const dir = stateDir();
    const approval = createApproval(dir, request());
    const file = join(dir, 'approvals', `${approval.id}.json`);
    const edited = { ...JSON.parse(readFileSync(file, 'utf8')), expiresAt: '2999-01-01T00:00:00.000Z' };
    writeFileSync(file, JSON.stringify(edited));
    const result = consumeApproval(dir, request());
    assert.equal(!result.ok && result.reason, 'tampered');
    // Rewriting it for another request (digest and path) does not work either.
    const forged = createApproval(dir, request());
    const forgedFile = join(dir, 'approvals', `${forged.id}.json`);
    const target = request({ path: '/users/user_9' });
    writeFileSync(forgedFile, JSON.stringify({ ...forged, path: '/users/user_9', digest: requestDigest(target) }));
    const attempt = consumeApproval(dir, target);
    assert.equal(!attempt.ok && attempt.reason, 'tampered');
    assert.ok(existsSync(join(dir, 'approval-secret')));
  });

  test('consumption is atomic: of many concurrent processes exactly one wins', async () => {
    const dir = stateDir();
    createApproval(dir, request());
    const module = new URL('../lib/guard/approvals.ts', import.meta.url).href;
    const script = `import { consumeApproval } from ${JSON.stringify(module)};
      const request = JSON.parse(process.env.REQUEST);
      await new Promise((r) => setTimeout(r, Number(process.env.START_AT) - Date.now()));
      process.stdout.write(consumeApproval(process.env.STATE, request).ok ? 'won' : 'lost');`;
    const startAt = String(Date.now() + 1500);
    const runs = Array.from({ length: 8 }, () =>
      execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, STATE: dir, REQUEST: JSON.stringify(request()), START_AT: startAt },
        reject: false,
      }),
    );
    const outputs = (await Promise.all(runs)).map((r) => String(r.stdout));
    assert.deepEqual(outputs.filter((o) => o !== 'won' && o !== 'lost'), [], 'every process ran');
    assert.equal(outputs.filter((o) => o === 'won').length, 1);
  });

  test('TTL: flag, then CLERK_BAPI_APPROVAL_TTL, then 5 minutes; bounded', () => {
    assert.equal(approvalTtl(undefined, {}), 300);
    assert.equal(approvalTtl(undefined, { CLERK_BAPI_APPROVAL_TTL: '90' }), 90);
    assert.equal(approvalTtl('2m', { CLERK_BAPI_APPROVAL_TTL: '90' }), 120);
    assert.equal(parseTtl('1h'), 3600);
    assert.throws(() => parseTtl('2h'), /out of range/);
    assert.throws(() => parseTtl('soon'), /not a duration/);
    assert.throws(() => approvalTtl(undefined, { CLERK_BAPI_APPROVAL_TTL: '0' }), /CLERK_BAPI_APPROVAL_TTL/);
  });

  test('state directory: CLERK_BAPI_STATE_DIR, else XDG_STATE_HOME, else ~/.local/state', () => {
    assert.equal(defaultStateDir({ CLERK_BAPI_STATE_DIR: '/x/y', XDG_STATE_HOME: '/s' }), '/x/y');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/s', HOME: '/h' }), '/s/clerk-bapi');
    assert.equal(defaultStateDir({ HOME: '/h' }), '/h/.local/state/clerk-bapi');
    assert.equal(canonicalJson({ b: 1, a: { d: undefined, c: [2, { z: 1, y: 0 }] } }), '{"a":{"c":[2,{"y":0,"z":1}]},"b":1}');
  });
});
