import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { approvalStore } from '../lib/guard/approval-files.js';
import type { IO } from '../lib/core/io.js';
import { authorizeWrite } from '../lib/guard/authorize.js';
import { evaluate, SCOPE_REFUSAL, verdictError, type GuardRequest, type Verdict } from '../lib/guard/policy.js';
import { runGuard } from '../lib/guard/run-guard.js';
import { whoIs } from '../lib/guard/who.js';
import { describeSecretKey, keyFingerprint, type KeyInfo } from '../lib/guard/key.js';
import { visibleEndpoints } from '../lib/spec/index.js';
import { sharedIndex } from './helpers/spec-fixtures.js';

// 2025-11-10: the last version whose PATCH /users/{user_id} takes metadata (the replace cases below).
const VERSION = '2025-11-10';
const index = sharedIndex(VERSION);
const spec = { endpoints: visibleEndpoints(index.summary, false), detail: index.detail, version: VERSION };

// Generated per run: no realistic key literal is committed, and every output is searched for them.
const TEST_KEY = `sk_test_${randomBytes(20).toString('hex')}`;
const LIVE_KEY = `sk_live_${randomBytes(20).toString('hex')}`;
const MALFORMED_KEY = `sk_test_${randomBytes(3).toString('hex')}`;
const SECRETS = [TEST_KEY, LIVE_KEY, MALFORMED_KEY];

function assertNoKey(text: string, where: string): void {
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `${where} contains a secret key`);
    const middle = secret.slice(8, -4);
    if (middle.length >= 12) assert.ok(!text.includes(middle), `${where} contains the middle of a secret key`);
  }
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

interface FakeIO extends IO {
  out: string[];
  err: string[];
}

function fakeIO(env: Record<string, string | undefined>, options: { tty?: boolean; cwd?: string; stdin?: string[] } = {}): FakeIO {
  const out: string[] = [];
  const err: string[] = [];
  const chunks = options.stdin ?? [];
  return {
    stdin: Object.assign((async function* () { for (const c of chunks) yield c; })(), { isTTY: options.tty ?? false }),
    stdout: { write: (s: string) => out.push(s), isTTY: options.tty ?? false },
    stderr: { write: (s: string) => err.push(s), isTTY: options.tty ?? false },
    env,
    cwd: options.cwd ?? tempDir('guard-cwd-'),
    out,
    err,
  };
}

type KeyCase = 'missing' | 'malformed' | 'test' | 'live' | 'dotenv';

function keyInfo(kind: KeyCase): KeyInfo {
  switch (kind) {
    case 'missing':
      return describeSecretKey(null).info;
    case 'malformed':
      return describeSecretKey(MALFORMED_KEY).info;
    case 'test':
      return describeSecretKey(TEST_KEY).info;
    case 'live':
      return describeSecretKey(LIVE_KEY).info;
    case 'dotenv':
      return describeSecretKey(TEST_KEY, '/some/repo/.env').info;
  }
}

const REQUESTS: Record<string, { request: GuardRequest; destructive: boolean }> = {
  'GET /users': { request: { method: 'GET', path: '/users', query: [['limit', '5']], body: undefined }, destructive: false },
  'POST /users': { request: { method: 'POST', path: '/users', query: [], body: { email_address: ['ada@example.com'], first_name: 'Ada' } }, destructive: false },
  'PATCH /users/{id}': { request: { method: 'PATCH', path: '/users/user_1', query: [], body: { first_name: 'Ada' } }, destructive: false },
  'PUT /users/{id}/metadata': { request: { method: 'PUT', path: '/users/user_1/metadata', query: [], body: { private_metadata: { a: 1 } } }, destructive: true },
  'POST /users/{id}/ban': { request: { method: 'POST', path: '/users/user_1/ban', query: [], body: undefined }, destructive: true },
  'DELETE /users/{id}': { request: { method: 'DELETE', path: '/users/user_1', query: [], body: undefined }, destructive: true },
};

const SCOPES: Record<string, { env: string | undefined; admin: boolean }> = {
  none: { env: undefined, admin: false },
  write: { env: 'write', admin: false },
  'write+delete': { env: 'write,delete', admin: false },
  narrowed: { env: 'users:write users:delete', admin: false },
  'narrowed-elsewhere': { env: 'organizations:write,organizations:delete', admin: false },
  admin: { env: undefined, admin: true },
};

// The oracle, written from the contract rather than from the code.
function expected(name: string, scope: string, key: KeyCase, interactive: boolean, yes: boolean): { exit: number; pending: boolean } {
  const { request, destructive } = REQUESTS[name]!;
  if (key === 'missing' || key === 'malformed') return { exit: 3, pending: false };
  const method = request.method;
  const write = method !== 'GET';
  if (write) {
    const granted = new Set((SCOPES[scope]!.env ?? '').split(/[ ,]+/).filter(Boolean).map((s) => s.replace(/^users:/, '')));
    if (SCOPES[scope]!.env?.includes('organizations:')) granted.clear();
    const ok = method === 'DELETE' ? granted.has('write') && granted.has('delete') : granted.has('write');
    // At a terminal with no flag given, a person is asked whether to bypass the scopes once (issue 23).
    if (!ok && !SCOPES[scope]!.admin) return interactive && !yes ? { exit: 4, pending: true } : { exit: 3, pending: false };
  }
  const needsConfirmation = write && (destructive || key === 'live');
  if (!needsConfirmation || yes) return { exit: 0, pending: false };
  return { exit: 4, pending: interactive };
}

function run(name: string, scope: string, key: KeyCase, interactive: boolean, yes: boolean): Verdict {
  return evaluate(REQUESTS[name]!.request, {
    ...spec,
    env: SCOPES[scope]!.env === undefined ? {} : { CLERK_BAPI_SCOPES: SCOPES[scope]!.env },
    keyInfo: keyInfo(key),
    admin: SCOPES[scope]!.admin,
    yes,
    interactive,
  });
}

describe('guard: the decision matrix', () => {
  test('methods × scopes × keys × TTY × --yes: exit codes, messages, checks in order', () => {
    let cases = 0;
    for (const name of Object.keys(REQUESTS)) {
      for (const scope of Object.keys(SCOPES)) {
        for (const key of ['missing', 'malformed', 'test', 'live', 'dotenv'] as const) {
          for (const interactive of [false, true]) {
            for (const yes of [false, true]) {
              const label = `${name} scopes=${scope} key=${key} tty=${interactive} yes=${yes}`;
              const verdict = run(name, scope, key, interactive, yes);
              const want = expected(name, scope, key, interactive, yes);
              cases++;
              assert.equal(verdict.exitCode, want.exit, label);
              assert.equal(verdict.allowed, want.exit === 0, label);
              assert.equal(verdict.confirmation.pending, want.pending, label);
              assert.deepEqual(verdict.checks.map((c) => c.id), ['key', 'request', 'scopes', 'destruction', 'metadata', 'confirmation'], label);
              assert.equal(verdict.approval, null, 'the pure function never issues an approval');
              const text = JSON.stringify(verdict);
              assertNoKey(text, label);
              if (key === 'missing') assert.match(verdict.reason ?? '', /CLERK_SECRET_KEY is not set/, label);
              if (key === 'malformed') assert.match(verdict.reason ?? '', /not a well-formed Clerk secret key/, label);
              if (want.exit === 3 && key !== 'missing' && key !== 'malformed') {
                assert.ok(verdict.reason?.startsWith(SCOPE_REFUSAL), label);
                assert.match(verdict.hints.join('\n'), /CLERK_BAPI_SCOPES=(write|write,delete) or CLERK_BAPI_SCOPES=users:write/, label);
              }
              if (want.exit === 4 && !want.pending) assert.match(verdict.reason ?? '', /needs confirmation.*--yes/, label);
              if (REQUESTS[name]!.destructive) {
                assert.ok(verdict.destroys.length > 0, label);
                assert.ok(verdict.checks[3]!.message.startsWith('IRREVERSIBLE'), label);
              } else assert.deepEqual(verdict.destroys, [], label);
              if (key === 'dotenv' && want.exit === 0) assert.match(verdict.checks[0]!.message, /from \/some\/repo\/\.env$/, label);
              if (scope === 'admin' && name !== 'GET /users' && key !== 'missing' && key !== 'malformed') assert.match(verdict.checks[2]!.message, /bypassed by --admin/, label);
            }
          }
        }
      }
    }
    assert.equal(cases, 6 * 6 * 5 * 2 * 2);
  });

  test('GET passes after the key check, needs no scope and no confirmation, even with a live key', () => {
    const verdict = run('GET /users', 'none', 'live', false, false);
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.write, false);
    assert.deepEqual(verdict.request, { method: 'GET', path: '/users', query: [['limit', '5']], body: null });
  });

  test('the scope refusal is the contract\'s text exactly, and --admin bypasses only that', () => {
    assert.equal(SCOPE_REFUSAL, 'This is a write operation and your current scopes may not allow it. Rerun with --admin to bypass?');
    const refused = run('DELETE /users/{id}', 'write', 'test', false, true);
    assert.equal(refused.exitCode, 3);
    assert.equal(refused.checks[2]!.ok, false);
    assert.deepEqual(refused.scopes?.wouldAllow, ['write,delete', 'users:write,users:delete']);
    const admin = run('DELETE /users/{id}', 'admin', 'test', false, false);
    assert.equal(admin.exitCode, 4, '--admin does not confirm');
    assert.equal(run('DELETE /users/{id}', 'admin', 'missing', false, true).exitCode, 3, '--admin does not replace the key');
  });
});

describe('guard: the request against the spec', () => {
  const ctx = { ...spec, env: { CLERK_BAPI_SCOPES: 'write,delete' }, keyInfo: keyInfo('test'), admin: false, yes: true, interactive: false };

  test('an unknown endpoint is exit 2 with the closest ones', () => {
    const verdict = evaluate({ method: 'POST', path: '/userz', query: [], body: {} }, ctx);
    assert.equal(verdict.exitCode, 2);
    assert.equal(verdict.endpoint, null);
    assert.match(verdict.reason ?? '', /no endpoint POST \/userz/);
    assert.ok(verdict.hints.some((h) => h.includes('POST /users')));
  });

  test('each body problem at its JSON path; nothing approved', () => {
    const verdict = evaluate({ method: 'POST', path: '/users', query: [], body: { email_address: [42], first_name: 7, bogus: 1 } }, ctx);
    assert.equal(verdict.exitCode, 2);
    assert.deepEqual(verdict.problems.map((p) => p.path), ['$.email_address[0]', '$.first_name', '$.bogus']);
    assert.equal(verdict.checks[1]!.ok, false);
    assert.ok(verdictError(verdict) !== null && verdictError(verdict)!.exitCode === 2);
  });

  test('required body, unexpected body, template placeholders, required and typed query parameters', () => {
    assert.match(evaluate({ method: 'POST', path: '/users/ban', query: [], body: undefined }, ctx).reason ?? '', /request body is required/);
    assert.match(evaluate({ method: 'DELETE', path: '/users/user_1', query: [], body: { a: 1 } }, ctx).reason ?? '', /takes no request body/);
    const template = evaluate({ method: 'DELETE', path: '/users/{user_id}', query: [], body: undefined }, ctx);
    assert.equal(template.exitCode, 2);
    assert.equal(template.problems[0]?.path, 'path.user_id');
    const limit = evaluate({ method: 'GET', path: '/users?limit=many', query: [], body: undefined }, ctx);
    assert.equal(limit.exitCode, 2);
    assert.equal(limit.problems[0]?.path, 'query.limit');
    const ok = evaluate({ method: 'GET', path: '/v1/users?limit=5', query: [['offset', '10'], ['nonsense', '1']], body: undefined }, ctx);
    assert.equal(ok.exitCode, 0);
    assert.deepEqual(ok.request.query, [['limit', '5'], ['offset', '10'], ['nonsense', '1']]);
    assert.ok(ok.warnings.some((w) => w.includes('nonsense')));
    const required = Object.values(index.detail.endpoints).find((e) => (e.parameters as Array<{ in?: string; required?: boolean }>).some((p) => p.in === 'query' && p.required === true) && !e.path.includes('{'));
    if (required) assert.equal(evaluate({ method: required.method, path: required.path, query: [], body: undefined }, ctx).problems.some((p) => p.path.startsWith('query.')), true);
  });

  test('another host, or a dot segment, is refused', () => {
    assert.equal(evaluate({ method: 'GET', path: 'https://evil.example/v1/users', query: [], body: undefined }, ctx).exitCode, 2);
    assert.equal(evaluate({ method: 'GET', path: 'https://api.clerk.com/v1/users', query: [], body: undefined }, ctx).exitCode, 0);
    assert.equal(evaluate({ method: 'GET', path: '/users/../jwks', query: [], body: undefined }, ctx).exitCode, 2);
  });

  test('metadata: which type, whether the keys fit, replace vs merge', () => {
    const replace = evaluate({ method: 'PATCH', path: '/users/user_1', query: [], body: { public_metadata: { stripe_customer_id: 'cus_1' } } }, { ...ctx, yes: false });
    assert.equal(replace.exitCode, 4, 'replacing a metadata object destroys its other keys: confirm');
    assert.ok(replace.warnings.some((w) => w.includes('stripe_customer_id') && w.includes('private_metadata')));
    assert.ok(replace.warnings.some((w) => w.includes('replaces each metadata object')));
    assert.ok(replace.destroys.some((d) => d.includes('public_metadata')));
    const merge = evaluate({ method: 'PATCH', path: '/users/user_1/metadata', query: [], body: { private_metadata: { stripe_customer_id: 'cus_1' } } }, { ...ctx, yes: false });
    assert.equal(merge.exitCode, 0);
    assert.equal(merge.metadata?.semantics, 'merge');
    assert.match(merge.checks[4]!.message, /private_metadata \(merged\); the keys fit/);
  });

  test('the verdict has the contract\'s fields', () => {
    const verdict = evaluate({ method: 'DELETE', path: '/users/user_1', query: [], body: undefined }, ctx);
    for (const field of ['allowed', 'request', 'endpoint', 'checks', 'destroys', 'warnings', 'approval']) assert.ok(field in verdict, field);
    assert.deepEqual(verdict.endpoint, { method: 'DELETE', path: '/users/{user_id}', operationId: 'DeleteUser' });
    assert.equal(verdict.confirmation.expected, 'user_1');
  });
});

describe('guard: runGuard and authorizeWrite (I/O around the decision)', () => {
  test('an allowed write issues an approval that the executor consumes once', async () => {
    const state = tempDir('guard-state-');
    const io = fakeIO({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write', HOME: '/nonexistent' });
    const request = REQUESTS['POST /users']!.request;
    const outcome = await runGuard(request, spec, io, { stateDir: state });
    assert.equal(outcome.exitCode, 0);
    assert.ok(outcome.verdict.approval);
    assert.match(outcome.verdict.approval.id, /^apv_/);
    assertNoKey(io.err.join(''), 'stderr');
    assertNoKey(JSON.stringify(outcome.verdict), 'verdict');
    for (const name of readdirSync(join(state, 'approvals'))) assertNoKey(readFileSync(join(state, 'approvals', name), 'utf8'), name);
    const first = await authorizeWrite(request, spec, io, { stateDir: state, prompter: null });
    assert.equal(first.allowed, true);
    assert.equal(first.approval?.id, outcome.verdict.approval.id);
    assert.equal(first.verdict, null, 'no inline guard needed');
    // Used up: the executor must run the guard inline now (and it passes, with no new approval file).
    const second = await authorizeWrite(request, spec, io, { stateDir: state, prompter: null });
    assert.equal(second.approval, null);
    assert.equal(second.verdict?.allowed, true);
    assert.deepEqual(readdirSync(join(state, 'approvals')), []);
  });

  test('a key pasted into the body is never echoed, but the approval still binds the real body', async () => {
    const state = tempDir('guard-state-');
    const io = fakeIO({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write', HOME: '/nonexistent' });
    const request: GuardRequest = { method: 'PATCH', path: '/users/user_1', query: [], body: { first_name: `oops ${TEST_KEY}` } };
    const outcome = await runGuard(request, spec, io, { stateDir: state });
    assert.equal(outcome.exitCode, 0);
    assertNoKey(io.err.join('') + JSON.stringify(outcome.verdict), 'output');
    assert.equal((await authorizeWrite(request, spec, io, { stateDir: state, prompter: null })).approval?.id, outcome.verdict.approval?.id);
  });

  test('a GET issues no approval; a refused write issues none either', async () => {
    const state = tempDir('guard-state-');
    const io = fakeIO({ CLERK_SECRET_KEY: TEST_KEY, HOME: '/nonexistent' });
    assert.equal((await runGuard(REQUESTS['GET /users']!.request, spec, io, { stateDir: state })).verdict.approval, null);
    const refused = await runGuard(REQUESTS['POST /users']!.request, spec, io, { stateDir: state });
    assert.equal(refused.exitCode, 3);
    assert.match(io.err.join(''), /This is a write operation and your current scopes may not allow it\. Rerun with --admin to bypass\?/);
    assert.deepEqual(readdirSync(state).filter((n) => n === 'approvals'), []);
  });

  test('at a terminal, a DELETE asks for the resource id; declining is exit 4', async () => {
    const env = { CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write,delete', HOME: '/nonexistent', NO_COLOR: '1' };
    const request = REQUESTS['DELETE /users/{id}']!.request;
    for (const [answer, exit] of [['user_1', 0], ['yes', 4], ['', 4], [null, 4]] as const) {
      const state = tempDir('guard-state-');
      const io = fakeIO(env, { tty: true });
      const questions: string[] = [];
      const outcome = await runGuard(request, spec, io, { stateDir: state, prompter: async (q) => (questions.push(q), answer) });
      assert.equal(outcome.exitCode, exit, `answer ${answer}`);
      assert.match(questions[0] ?? '', /Type user_1 to confirm/);
      const stderr = io.err.join('');
      assert.match(stderr, /IRREVERSIBLE/);
      assert.ok(!stderr.includes('\u001b['), 'NO_COLOR: no escape codes');
      assert.equal(outcome.verdict.approval === null, exit !== 0);
      assertNoKey(stderr, 'stderr');
    }
  });

  test('a DELETE at a terminal says who it deletes, from the resource read first; nothing said when it cannot be read', async () => {
    const env = { CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write,delete', HOME: '/nonexistent', NO_COLOR: '1' };
    const request = REQUESTS['DELETE /users/{id}']!.request;
    const ada = { id: 'user_1', first_name: 'Ada', last_name: 'Lovelace', primary_email_address_id: 'idn_2', email_addresses: [{ id: 'idn_1', email_address: 'old@example.com' }, { id: 'idn_2', email_address: 'ada@example.com' }] };
    for (const [resource, said] of [[ada, /This deletes Ada Lovelace <ada@example\.com> \(\/users\/user_1\)\./], [undefined, null]] as const) {
      const io = fakeIO(env, { tty: true });
      let reads = 0;
      const outcome = await runGuard(request, spec, io, { stateDir: tempDir('guard-state-'), prompter: async () => 'user_1', describeTarget: async () => (reads++, resource) });
      assert.equal(outcome.exitCode, 0);
      assert.equal(reads, 1);
      if (said) assert.match(io.err.join(''), said);
      else assert.doesNotMatch(io.err.join(''), /This deletes/);
    }
    assert.equal(whoIs({ name: 'Acme', slug: 'acme' }), 'Acme (acme)');
    assert.equal(whoIs({ email_address: 'x@example.com' }), 'x@example.com');
    assert.equal(whoIs({ id: 'sess_1' }), null);
    assert.equal(whoIs({ name: 'n'.repeat(500) })?.length, 200);
  });

  test('a typo at the prompt is asked again (twice at most); an empty answer or no declines at once', async () => {
    const env = { CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write,delete', HOME: '/nonexistent', NO_COLOR: '1' };
    const request = REQUESTS['DELETE /users/{id}']!.request;
    for (const [answers, exit, asked] of [[['user_l', 'user_1'], 0, 2], [['x', 'y', 'z', 'user_1'], 4, 3], [['', 'user_1'], 4, 1], [['no', 'user_1'], 4, 1]] as const) {
      const io = fakeIO(env, { tty: true });
      let calls = 0;
      const outcome = await runGuard(request, spec, io, { stateDir: tempDir('guard-state-'), prompter: async () => answers[calls++] ?? null });
      assert.equal(outcome.exitCode, exit, answers.join(','));
      assert.equal(calls, asked, answers.join(','));
      if (asked > 1) assert.match(io.err.join(''), /That is not user_1; type it again/);
    }
  });

  test('the real terminal prompt reads the answer from stdin; IRREVERSIBLE is bold red on a TTY', async () => {
    const state = tempDir('guard-state-');
    const io = fakeIO({ CLERK_SECRET_KEY: LIVE_KEY, CLERK_BAPI_SCOPES: 'write', HOME: '/nonexistent' }, { tty: true, stdin: ['yes\n'] });
    const outcome = await runGuard(REQUESTS['POST /users/{id}/ban']!.request, spec, io, { stateDir: state });
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.verdict.confirmation.by, 'prompt');
    assert.match(io.err.join(''), /\u001b\[31m\u001b\[1mIRREVERSIBLE|\u001b\[1m\u001b\[31mIRREVERSIBLE/);
    assertNoKey(io.err.join(''), 'stderr');
  });

  test('the key from .env is used and named; never printed', async () => {
    const root = tempDir('guard-repo-');
    mkdirSync(join(root, '.git'));
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, '.env'), `CLERK_SECRET_KEY=${TEST_KEY}\n`);
    const state = tempDir('guard-state-');
    const io = fakeIO({ CLERK_BAPI_SCOPES: 'write', HOME: '/nonexistent' }, { cwd: join(root, 'sub') });
    const outcome = await runGuard(REQUESTS['PATCH /users/{id}']!.request, spec, io, { stateDir: state });
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.key.info.source, join(root, '.env'));
    assert.equal(outcome.verdict.key.fingerprint, keyFingerprint(TEST_KEY));
    assertNoKey(io.err.join('') + JSON.stringify(outcome.verdict), 'output');
    // The approval is bound to this key: another key cannot use it.
    const other = approvalStore(state).claim({
      method: 'PATCH', path: '/users/user_1', query: [], body: { first_name: 'Ada' }, version: VERSION, specDigest: `store:${spec.detail.sha}`, origin: 'https://api.clerk.com', keyFingerprint: keyFingerprint(LIVE_KEY),
    });
    assert.equal(other.ok, false);
  });

  test('authorizeWrite: a read with a bad key is exit 3; an edited approval is reported and the guard runs inline', async () => {
    const io = fakeIO({ CLERK_SECRET_KEY: MALFORMED_KEY, HOME: '/nonexistent' });
    await assert.rejects(authorizeWrite(REQUESTS['GET /users']!.request, spec, io), (error: Error & { exitCode?: number }) => error.exitCode === 3 && !error.message.includes(MALFORMED_KEY));
    const state = tempDir('guard-state-');
    const good = fakeIO({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write,delete', HOME: '/nonexistent' });
    const request = REQUESTS['DELETE /users/{id}']!.request;
    const issued = await runGuard(request, spec, good, { stateDir: state, yes: true });
    const file = join(state, 'approvals', `${issued.verdict.approval!.id}.json`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"destructive": true', '"destructive": false'));
    const inline = await authorizeWrite(request, spec, good, { stateDir: state, prompter: null });
    assert.equal(inline.allowed, false);
    assert.equal(inline.exitCode, 4);
    assert.match(inline.approvalProblem ?? '', /modified/);
  });
});
