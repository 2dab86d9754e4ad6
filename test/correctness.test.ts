// Everyday correctness: what trying the toolkit as a new user would found (issue list of round 2),
// each against the built executables and the fake Clerk counting what it receives.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { validateValue } from '../lib/endpoint/validate.js';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { noStackTrace } from './helpers/cli-assert.js';
import { SHARED_SPECS_DIR, sharedVersions } from './helpers/spec-fixtures.js';
import { cleanEnv, type CliResult, runAtTerminal, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const specsDir = SHARED_STORE;
const stateDir = join(tempDir('correct-state-'), 'state');
const outputs: CliResult[] = [];
let fake: FakeClerk;

function env(extra: Record<string, string | undefined> = {}) {
  return cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: stateDir, ...extra });
}

async function run(command: string, args: string[], options: { extra?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  const result = await runCli(command, args, { env: env(options.extra), cwd: tempDir('correct-cwd-'), ...(options.input !== undefined ? { input: options.input } : {}) });
  outputs.push(result);
  noStackTrace(result.stderr);
  return result;
}

async function sent<T>(action: () => Promise<T>): Promise<{ result: T; requests: string[] }> {
  const before = fake.requests.length;
  const result = await action();
  return { result, requests: fake.requests.slice(before).map((r) => `${r.method} ${r.url}`) };
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 5 });
});

after(async () => {
  await fake.close();
  for (const result of outputs) assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY));
});

describe('requests that are not what they look like', () => {
  it('2. bapi-curl METHOD with no PATH, or a bare word, sends nothing: exit 2', async () => {
    for (const args of [['DELETE'], ['help'], ['post']]) {
      const { result, requests } = await sent(() => run('bapi-curl', args));
      assert.equal(result.exitCode, 2, result.stderr);
      assert.deepEqual(requests, []);
    }
    const missing = await run('bapi-curl', ['DELETE']);
    assert.match(missing.stderr, /missing PATH after DELETE/);
  });

  it("3. the toolkit's own placeholders are not ids: fill in user_id", async () => {
    for (const path of ['/users/<user_id>', '/users/{user_id}']) {
      const guard = await run('bapi-guard', ['DELETE', path, '--yes'], { extra: { CLERK_BAPI_SCOPES: 'write,delete' } });
      assert.equal(guard.exitCode, 2, guard.stderr);
      assert.match(guard.stderr, /user_id/);
      const { result, requests } = await sent(() => run('bapi-curl', ['DELETE', path, '--yes'], { extra: { CLERK_BAPI_SCOPES: 'write,delete' } }));
      assert.equal(result.exitCode, 2, result.stderr);
      assert.deepEqual(requests, []);
    }
    assert.match((await run('bapi-guard', ['DELETE', '/users/<user_id>'])).stderr, /fill in user_id/);
  });

  it("4. a refused verdict piped into bapi-curl repeats the reason and exits with the verdict's code", async () => {
    const verdict = await run('bapi-guard', ['DELETE', '/users/user_seed0000001', '--json']);
    assert.equal(verdict.exitCode, 3);
    const { result, requests } = await sent(() => run('bapi-curl', [], { input: verdict.stdout }));
    assert.equal(result.exitCode, 3, result.stderr);
    assert.match(result.stderr, /does not allow this request .*scopes may not allow it/);
    assert.deepEqual(requests, []);
    const confirm = await run('bapi-guard', ['DELETE', '/users/user_seed0000001', '--json'], { extra: { CLERK_BAPI_SCOPES: 'write,delete' } });
    assert.equal(confirm.exitCode, 4);
    assert.equal((await run('bapi-curl', [], { input: confirm.stdout })).exitCode, 4);
  });

  it('6. HEAD and OPTIONS are refused, not sent', async () => {
    for (const method of ['OPTIONS', 'HEAD']) {
      const { result, requests } = await sent(() => run('bapi-curl', [method, '/users']));
      assert.equal(result.exitCode, 2, result.stderr);
      assert.match(result.stderr, /not supported/);
      assert.deepEqual(requests, []);
    }
  });

  it("8. path parameters are checked against the spec's schema", async () => {
    const bad = await run('bapi-guard', ['GET', '/api_keys/zzz', '--json', '--api-version', '2021-02-05']);
    assert.equal(bad.exitCode, 2, bad.stderr);
    assert.ok(JSON.parse(bad.stdout).problems.some((p: { path: string }) => p.path === 'path.apiKeyID' || p.path.startsWith('path.')));
    const good = await run('bapi-guard', ['GET', `/api_keys/ak_${'0'.repeat(32)}`, '--api-version', '2021-02-05']);
    assert.equal(good.exitCode, 0, good.stderr);
  });

  it('9. date-time and uri formats as RFC 3339 and RFC 3986 have them', () => {
    const dateTime = { type: 'string', format: 'date-time' };
    assert.equal(validateValue('2025-02-30T00:00:00Z', dateTime, {}).length, 1, 'February 30th does not exist');
    assert.deepEqual(validateValue('2024-02-29t12:00:00z', dateTime, {}), [], 'lower-case t and z, a leap day');
    assert.deepEqual(validateValue('2025-01-02T03:04:05.123+02:00', dateTime, {}), []);
    assert.equal(validateValue('2025-01-02T25:00:00Z', dateTime, {}).length, 1);
    const uri = { type: 'string', format: 'uri' };
    assert.equal(validateValue('https://exa mple.com', uri, {}).length, 1);
    assert.deepEqual(validateValue('https://example.com/a?b=c', uri, {}), []);
    assert.equal(validateValue('2025-02-29', { type: 'string', format: 'date' }, {}).length, 1);
  });
});

describe('a metadata replace is judged on what it loses', () => {
  it('10. bapi-curl reads the user first: a body that keeps every key passes; one that drops keys names them', async () => {
    const path = '/users/user_seed0000004';
    const scopes = { extra: { CLERK_BAPI_SCOPES: 'write' } };
    assert.equal((await run('bapi-curl', ['PATCH', `${path}/metadata`, '-d', '{"public_metadata":{"plan":"pro","team":{"id":"t1","role":"admin"}}}'], scopes)).exitCode, 0);
    const keeps = await sent(() => run('bapi-curl', ['PATCH', path, '--api-version', '2025-11-10', '-d', '{"public_metadata":{"plan":"max","team":{"id":"t1","role":"admin"},"new":1}}'], scopes));
    assert.equal(keeps.result.exitCode, 0, keeps.result.stderr);
    assert.match(keeps.result.stderr, /read \/users\/user_seed0000004 first/);
    assert.match(keeps.result.stderr, /keeps every key it has now: nothing is lost/);
    assert.deepEqual(keeps.requests, [`GET /v1${path}`, `PATCH /v1${path}`]);
    const drops = await sent(() => run('bapi-curl', ['PATCH', path, '--api-version', '2025-11-10', '-d', '{"public_metadata":{"plan":"free","team":{"id":"t1"}}}'], scopes));
    assert.equal(drops.result.exitCode, 4, drops.result.stderr);
    assert.match(drops.result.stderr, /public_metadata keys not in the body: team\.role, new/);
    assert.deepEqual(drops.requests, [`GET /v1${path}`], 'nothing written');
  });
});

describe('pagination that knows Clerk', () => {
  it('GET /users pages by the starting_after cursor, and prints exactly what an offset walk prints', async () => {
    const before = fake.requests.length;
    // One cursor (several, over time ranges, are test/split-walk.test.ts's).
    const cursor = await run('bapi-curl', ['GET', '/users', '--paginate', '--concurrency', '1', '-q', 'limit=2', '--jq', '.id']);
    assert.equal(cursor.exitCode, 0, cursor.stderr);
    const pages = fake.requests.slice(before).filter((r) => r.path === '/v1/users');
    assert.ok(pages.length >= 3);
    assert.equal(pages[0]!.query.get('starting_after'), null);
    assert.ok(pages.slice(1).every((r) => r.query.get('starting_after') !== null && r.query.get('offset') === null), 'cursor pages carry no offset');
    const offset = await run('bapi-curl', ['GET', '/users', '--paginate', '-q', 'limit=2', '-q', 'offset=0', '--jq', '.id']);
    assert.match(offset.stderr, /an offset was given: paging by offset/);
    assert.equal(cursor.stdout, offset.stdout);
    assert.equal(new Set(cursor.stdout.trim().split('\n')).size, cursor.stdout.trim().split('\n').length, 'each user once');
    const other = await run('bapi-curl', ['GET', '/users', '--paginate', '-q', 'order_by=-updated_at', '--max-items', '3']);
    assert.equal(other.exitCode, 0, other.stderr);
    assert.match(other.stderr, /order_by=-updated_at cannot use the starting_after cursor/);
    assert.equal(other.stdout.trim().split('\n').length, 3, '--max-items stops early');
  });

  it('a walk that fails half way with --jq prints what came before and ends (the jq process is not left waiting)', async () => {
    const { execa } = await import('execa');
    fake.fault({ kind: 'same-page', path: '/v1/users', times: Infinity });
    try {
      const env = cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: tempDir('jq-end-state-') });
      for (const jq of [[], ['CLERK_BAPI_JQ', 'wasm']]) {
        const result = await execa(process.execPath, [scriptPath('bapi-curl'), 'GET', '/users', '--paginate', '-q', 'limit=2', '--jq', '.id'], { env: { ...env, ...(jq.length ? { [jq[0]!]: jq[1]! } : {}) }, extendEnv: false, reject: false, timeout: 20_000, stdin: 'ignore' });
        assert.equal(result.timedOut, false, 'it ended');
        assert.equal(result.exitCode, 1, String(result.stderr));
        assert.match(String(result.stderr), /same page twice/);
        assert.deepEqual(String(result.stdout).trim().split('\n'), ['user_same0', 'user_same1']);
      }
    } finally {
      fake.clearFaults();
    }
  });

  it('a starting_after of the user\'s own starts the walk there, and is never sent twice', async () => {
    const all = (await run('bapi-curl', ['GET', '/users', '--paginate', '-q', 'limit=2', '--jq', '.id'])).stdout.trim().split('\n');
    const from = all[2]!;
    const before = fake.requests.length;
    const rest = await run('bapi-curl', ['GET', '/users', '--paginate', '-q', 'limit=2', '-q', `starting_after=${from}`, '--jq', '.id']);
    assert.equal(rest.exitCode, 0, rest.stderr);
    assert.deepEqual(rest.stdout.trim().split('\n'), all.slice(3));
    const pages = fake.requests.slice(before).filter((r) => r.path === '/v1/users');
    assert.ok(pages.every((r) => r.query.getAll('starting_after').length === 1), pages.map((r) => r.url).join('\n'));
    assert.equal(pages[0]!.query.get('starting_after'), from);
  });
});

describe('reads checked against the spec', () => {
  it('20. an unknown GET warns and names the closest; a limit over the maximum is exit 2, nothing sent', async () => {
    const unknown = await sent(() => run('bapi-curl', ['GET', '/userz']));
    assert.match(unknown.result.stderr, /warning: no endpoint GET \/userz .*\/users/);
    assert.equal(unknown.requests.length, 1, 'sent anyway: Clerk may know an endpoint the spec does not');
    const over = await sent(() => run('bapi-curl', ['GET', '/users', '-q', 'limit=501']));
    assert.equal(over.result.exitCode, 2, over.result.stderr);
    assert.match(over.result.stderr, /limit: must be at most 500 .*without an error/s);
    assert.deepEqual(over.requests, []);
    const odd = await run('bapi-curl', ['GET', '/users', '-q', 'colour=blue', '-q', 'limit=2']);
    assert.equal(odd.exitCode, 0, odd.stderr);
    assert.match(odd.stderr, /warning: query parameter colour is not in the spec/);
  });
});

describe('the same request, however it is given', () => {
  it('17. bapi-guard takes -f/-F as bapi-curl does', async () => {
    const verdict = await run('bapi-guard', ['POST', '/organizations', '-f', 'name=Acme', '-F', 'max_allowed_memberships=5', '--json'], { extra: { CLERK_BAPI_SCOPES: 'write' } });
    assert.equal(verdict.exitCode, 0, verdict.stderr);
    assert.deepEqual(JSON.parse(verdict.stdout).request.body, { name: 'Acme', max_allowed_memberships: 5 });
    const { result, requests } = await sent(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=Acme', '-F', 'max_allowed_memberships=5']));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stderr, /using approval apv_/);
    assert.equal(requests.length, 1);
  });

  it('18. bapi-curl reads a METHOD<TAB>PATH record on stdin, as extract-tag-endpoints prints it', async () => {
    const { result, requests } = await sent(() => run('bapi-curl', [], { input: 'GET\t/users/count\tGetUsersCount\tCount users\n' }));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(requests, ['GET /v1/users/count']);
  });

  it('24. --api-version latest is the newest version', async () => {
    const result = await run('bapi-curl', ['GET', '/users/count', '--api-version', 'latest']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(String(fake.requests.at(-1)!.headers['clerk-api-version']), /^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('flags and output as a curl or gh user expects', () => {
  it('13. a mistyped flag gets a suggestion; curl habits are taken or explained; -v shows the exchange', async () => {
    const typo = await run('extract-tags', ['--josn']);
    assert.equal(typo.exitCode, 2);
    assert.match(typo.stderr, /Did you mean --json\?/);
    assert.match((await run('bapi-curl', ['GET', '/users', '--paginte'])).stderr, /Did you mean --paginate\?/);
    const silent = await run('bapi-curl', ['-s', 'GET', '/users/count']);
    assert.equal(silent.exitCode, 2);
    assert.match(silent.stderr, /-s: not needed/);
    const { result, requests } = await sent(() => run('bapi-curl', ['-X', 'POST', '/organizations', '-f', 'name=Curl habit'], { extra: { CLERK_BAPI_SCOPES: 'write' } }));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(requests.filter((r) => r.startsWith('POST /v1/organizations')).length, 1);
    const verbose = await run('bapi-curl', ['-v', 'GET', '/users/count']);
    assert.equal(verbose.exitCode, 0, verbose.stderr);
    assert.match(verbose.stderr, /^> GET http:\/\/127\.0\.0\.1:\d+\/v1\/users\/count$/m);
    assert.match(verbose.stderr, /^> Authorization: Bearer sk_test_…\w{4}$/m);
    assert.match(verbose.stderr, /^< HTTP 200 OK$/m);
  });

  it('21. --dry-run shows what the guard would decide, and approves nothing', async () => {
    const { approvalStore } = await import('../lib/guard/approval-files.js');
    const approvalsBefore = approvalStore(stateDir).list().length;
    const { result, requests } = await sent(() => run('bapi-curl', ['DELETE', '/users/user_seed0000002', '--dry-run']));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stderr, /IRREVERSIBLE/);
    assert.match(result.stderr, /nothing was sent and nothing approved; the guard would refuse it \(exit 3\)/);
    assert.deepEqual(requests, []);
    const allowed = await run('bapi-curl', ['PATCH', '/users/user_seed0000002/metadata', '-d', '{"public_metadata":{"a":1}}', '--dry-run'], { extra: { CLERK_BAPI_SCOPES: 'write' } });
    assert.match(allowed.stderr, /the guard would allow it/);
    assert.equal(approvalStore(stateDir).list().length, approvalsBefore, 'no approval was issued');
  });

  it('22. in a pipe the body ends with a newline; on a terminal JSON is coloured', async () => {
    const piped = await run('bapi-curl', ['GET', '/users/count']);
    assert.match(piped.stdout, /\}\n$/);
    const { colorJson } = await import('../lib/http/print.js');
    const { colorsFor } = await import('../lib/core/io.js');
    const coloured = colorJson('{\n  "a": "b",\n  "n": 1\n}', colorsFor({ isTTY: true, write: () => true }, {}));
    assert.match(coloured, /\u001b\[36m"a"\u001b\[39m: \u001b\[32m"b"\u001b\[39m/);
    assert.equal(colorJson('{"a": 1}', colorsFor({ isTTY: true, write: () => true }, { NO_COLOR: '1' })), '{"a": 1}');
  });
});

describe('bapi-write', () => {
  it('19. --json leaves stdout one JSON document: the response (the verdict goes to stderr)', async () => {
    const { execa } = await import('execa');
    const { COMMANDS } = await import('../lib/cli/flags.js');
    const { mkdirSync, symlinkSync } = await import('node:fs');
    const { scriptPath } = await import('./helpers/run-cli.js');
    const bins = join(tempDir('correct-bins-'), 'bin');
    mkdirSync(bins);
    for (const command of COMMANDS) symlinkSync(scriptPath(command), join(bins, command));
    const shell = join(process.cwd(), 'lib', 'shell', 'bapi.sh');
    const result = await execa('bash', ['-c', `source '${shell}'; bapi-write PATCH /users/user_seed0000003/metadata -d '{"public_metadata":{"w":1}}' --json`], {
      env: { ...env({ CLERK_BAPI_SCOPES: 'write' }), PATH: `${bins}:${process.env.PATH}` },
      extendEnv: false,
      reject: false,
    });
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.equal(JSON.parse(String(result.stdout)).id, 'user_seed0000003');
    assert.match(String(result.stderr), /"allowed": true/);
  });
});

describe('explorers', () => {
  it('1. a spec on stdin that a command will not read is named; an empty pipe into extract-tags is too', async () => {
    const { execa } = await import('execa');
    const { scriptPath } = await import('./helpers/run-cli.js');
    const { SHARED_BAPI_DIR } = await import('./helpers/spec-fixtures.js');
    const spec = join(SHARED_BAPI_DIR, '2025-04-10.yml');
    for (const [command, args] of [['extract-endpoint-detail', ['POST', '/users', '--json']], ['extract-tag-endpoints', ['Users']]] as const) {
      const result = await execa('sh', ['-c', `"$0" "$@" < '${spec}'`, process.execPath, scriptPath(command), ...args], { env: env(), extendEnv: false, reject: false });
      assert.equal(result.exitCode, 0, String(result.stderr));
      assert.match(String(result.stderr), /stdin holds an OpenAPI spec, but it is not read: this answer is from spec \d{4}-\d{2}-\d{2}\. Add --spec -/, command);
    }
    const used = await execa('sh', ['-c', `"$0" "$@" POST /users --json --spec - --api-version 2025-04-10 < '${spec}'`, process.execPath, scriptPath('extract-endpoint-detail')], { env: env(), extendEnv: false, reject: false });
    assert.equal(JSON.parse(String(used.stdout)).version, '2025-04-10');
    assert.doesNotMatch(String(used.stderr), /not read/);
    const empty = await execa('sh', ['-c', `true | "$0" "$@"`, process.execPath, scriptPath('extract-tags')], { env: env(), extendEnv: false, reject: false });
    assert.equal(empty.exitCode, 0);
    assert.match(String(empty.stderr), /stdin was empty, so no spec came through it/);
  });

  it('25. a spec of platform endpoints only says how to see them', async () => {
    const file = join(tempDir('correct-platform-'), 'platform.json');
    writeFileSync(file, JSON.stringify({ openapi: '3.0.3', info: { title: 't', version: '1' }, paths: { '/platform/apps': { get: { operationId: 'ListApps', tags: ['Platform'], responses: { 200: { description: 'ok' } } } } } }));
    for (const command of ['extract-tags', 'extract-tag-endpoints']) {
      const result = await run(command, ['--spec', file]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /platform endpoints, hidden by default: add --include-platform/);
      assert.doesNotMatch((await run(command, ['--spec', file, '--include-platform'])).stderr, /hidden by default/);
    }
  });

  it("7. a spec whose paths start with /v1/ (the Frontend API's) is looked up and guarded by its own templates", async () => {
    const file = join(tempDir('correct-fapi-'), 'fapi.json');
    writeFileSync(file, JSON.stringify({ openapi: '3.0.3', info: { title: 'f', version: '1' }, paths: {
      '/v1/client': { get: { operationId: 'GetClient', tags: ['Client'], responses: { 200: { description: 'ok' } } } },
      '/v1/client/sessions/{session_id}': { delete: { operationId: 'EndSession', tags: ['Sessions'], parameters: [{ name: 'session_id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'ok' } } } },
    } }));
    const listed = await run('extract-tag-endpoints', ['--spec', file]);
    assert.match(listed.stdout, /^GET\t\/v1\/client\t/m);
    for (const path of ['/v1/client', '/client']) {
      const detail = await run('extract-endpoint-detail', ['GET', path, '--spec', file]);
      assert.equal(detail.exitCode, 0, detail.stderr);
      assert.match(detail.stdout, /^GET \/v1\/client {2}GetClient/);
    }
    const piped = await run('extract-endpoint-detail', ['--spec', file], { input: listed.stdout.split('\n')[1] ?? '' });
    assert.equal(piped.exitCode, 0, piped.stderr);
    const guard = await run('bapi-guard', ['DELETE', '/v1/client/sessions/sess_1', '--spec', file, '--json']);
    assert.equal(JSON.parse(guard.stdout).endpoint?.path, '/v1/client/sessions/{session_id}');
  });

  it('26. --depth 0 shows the top-level names and types only', async () => {
    const full = await run('extract-endpoint-detail', ['POST', '/users']);
    const brief = await run('extract-endpoint-detail', ['POST', '/users', '--depth', '0']);
    assert.equal(brief.exitCode, 0, brief.stderr);
    assert.ok(brief.stdout.split('\n').length < full.stdout.split('\n').length, 'shorter');
    assert.match(brief.stdout, /^ {2}email_address {2}string\[\]/m);
    assert.doesNotMatch(brief.stdout, /^ {6}\S/m, 'no description lines under the fields');
  });
});

describe('a state directory that cannot be made', () => {
  it('under /proc: a read still works, a write is refused at once (Node\'s recursive mkdir would loop for ever)', { skip: !existsSync('/proc/self') && 'needs /proc' }, async () => {
    const { execa } = await import('execa');
    const env = cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: '/proc/clerk-bapi-nope/state', CLERK_BAPI_SCOPES: 'write,delete' });
    const read = await execa(process.execPath, [scriptPath('bapi-curl'), 'GET', '/users', '-q', 'limit=1'], { env, extendEnv: false, reject: false, timeout: 20_000, stdin: 'ignore' });
    assert.equal(read.exitCode, 0, String(read.stderr));
    const write = await execa(process.execPath, [scriptPath('bapi-curl'), 'DELETE', '/users/user_nope', '--yes'], { env, extendEnv: false, reject: false, timeout: 20_000, stdin: 'ignore' });
    assert.equal(write.exitCode, 1, String(write.stderr));
    assert.match(String(write.stderr), /cannot create the state directory \/proc\/clerk-bapi-nope\/state \(ENOENT\); nothing was sent/);
  });
});

describe('the rate-limit governor (issue 13, first part)', () => {
  it('reads CLERK_BAPI_RATE_LIMIT, with the instance defaults', async () => {
    const { rateLimitFor } = await import('../lib/http/governor.js');
    assert.deepEqual(rateLimitFor({}, 'test'), { requests: 100, windowMs: 10_000 });
    assert.deepEqual(rateLimitFor({}, 'live'), { requests: 1000, windowMs: 10_000 });
    assert.deepEqual(rateLimitFor({ CLERK_BAPI_RATE_LIMIT: '50/1m' }, 'live'), { requests: 50, windowMs: 60_000 });
    assert.deepEqual(rateLimitFor({ CLERK_BAPI_RATE_LIMIT: '5/500ms' }, 'test'), { requests: 5, windowMs: 500 });
    assert.throws(() => rateLimitFor({ CLERK_BAPI_RATE_LIMIT: 'fast' }, 'test'), /N\/Ws/);
  });

  it('a 429 pauses everyone for its Retry-After and shrinks the budget for five windows', async () => {
    const { governor } = await import('../lib/http/governor.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'governor-'));
    let clock = 1_000_000;
    const slept: number[] = [];
    const options = { now: () => clock, sleep: async (ms: number) => void (slept.push(ms), (clock += ms)) };
    const budget = governor(dir, 'sha256:abc', { requests: 10, windowMs: 1000 }, options);
    for (let i = 0; i < 10; i++) await budget.acquire();
    budget.pause(2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Another process with the same key sees the pause and the lower ceiling.
    const other = governor(dir, 'sha256:abc', { requests: 10, windowMs: 1000 }, options);
    const started = clock;
    await other.acquire();
    assert.ok(clock - started >= 2000, `waited out the Retry-After (${clock - started} ms)`);
    let inWindow = 1;
    const windowStart = clock;
    while (clock - windowStart < 1000 && inWindow < 20) {
      const before = clock;
      await other.acquire();
      if (clock - windowStart < 1000 && clock === before) inWindow++;
      else break;
    }
    assert.equal(inWindow, 9, 'nine per window now, not ten');
    clock += 6000;
    const fresh = governor(dir, 'sha256:abc', { requests: 10, windowMs: 1000 }, options);
    const at = clock;
    for (let i = 0; i < 10; i++) await fresh.acquire();
    assert.equal(clock, at, 'five windows later the whole budget is back');
  });

  it('never writes through a link planted at the budget file: the request goes on, the target is untouched', async () => {
    const { governor } = await import('../lib/http/governor.js');
    const { mkdirSync, mkdtempSync, readFileSync: read, symlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'governor-link-'));
    mkdirSync(join(dir, 'rate'), { mode: 0o700 });
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    symlinkSync(victim, join(dir, 'rate', 'sha256abc.json'));
    const settle = await governor(dir, 'sha256:abc', { requests: 10, windowMs: 1000 }).acquire();
    await settle();
    assert.equal(read(victim, 'utf8'), 'keep me\n');
  });

  it('two processes on one key share one budget: they wait for it and meet no 429', async () => {
    fake.rateLimit = { requests: 8, windowMs: 1000 };
    fake.tooManyRequests = 0;
    try {
      const walk = () => run('bapi-curl', ['GET', '/users', '--paginate', '-q', 'limit=1', '--max-items', '5', '--jq', '.id'], { extra: { CLERK_BAPI_RATE_LIMIT: '8/1s', CLERK_BAPI_MAX_RETRIES: '0' } });
      const first = fake.requests.length;
      const [a, b, c] = await Promise.all([walk(), walk(), walk()]);
      const seen = fake.requests.slice(first).map((r) => `${r.time! - fake.requests[first]!.time!}${r.fault ? ' 429' : ''} ${r.url}`).join('\n');
      for (const result of [a!, b!, c!]) assert.equal(result.exitCode, 0, `${result.stderr}\n${seen}`);
      assert.equal(fake.tooManyRequests, 0, 'no request met a 429');
      assert.ok([a!, b!, c!].some((r) => /waiting \d+\.\ds for the rate limit \(8 per 1s/.test(r.stderr)), 'someone waited for budget');
    } finally {
      fake.rateLimit = null;
    }
  });
});

// Issue 23 (everyday use, round 3): each item as a user met it.
describe('everyday use, round 3', () => {
  it('3. the store remembers where it was filled from: without CLERK_SPECS_SOURCE, and with GitHub out of reach, it answers from itself, saying so once', async () => {
    const store = tempDir('remember-store-');
    const filled = await run('api-specs-context', [], { extra: { CLERK_SPECS_DIR: store } });
    assert.equal(filled.exitCode, 0, filled.stderr);
    const away = { CLERK_SPECS_DIR: store, CLERK_SPECS_SOURCE: undefined, GITHUB_API_URL: 'http://127.0.0.1:9' };
    const context = await run('api-specs-context', ['--json'], { extra: away });
    assert.equal(context.exitCode, 0, context.stderr);
    const parsed = JSON.parse(context.stdout) as { source: string; versions: string[] };
    assert.equal(parsed.source, SHARED_SPECS_DIR);
    assert.deepEqual(parsed.versions, sharedVersions());
    assert.match(context.stderr, /answering from the versions this store was filled with from/);
    for (const [command, args] of [['extract-tags', []], ['extract-endpoint-detail', ['DELETE', '/users/user_1']], ['api-specs-context', ['--offline']]] as const) {
      const again = await run(command, [...args], { extra: away });
      assert.equal(again.exitCode, 0, `${command}: ${again.stderr}`);
      assert.equal(again.stderr, '', `${command}: said once`);
    }
  });

  it('4. a pinned version (CLERK_API_VERSION, as eval "$(api-specs-context --shell)" exports it) keeps the read checks and must exist', async () => {
    const pinned = { extra: { CLERK_API_VERSION: '2025-11-10' } };
    const over = await sent(() => run('bapi-curl', ['GET', '/users', '-q', 'limit=1000'], pinned));
    assert.equal(over.result.exitCode, 2, over.result.stderr);
    assert.deepEqual(over.requests, []);
    const typo = await run('bapi-curl', ['GET', '/users', '-q', 'limt=5'], pinned);
    assert.match(typo.stderr, /query parameter limt is not in the spec/);
    const unknown = await sent(() => run('bapi-curl', ['GET', '/users', '--api-version', '2025-11-11']));
    assert.equal(unknown.result.exitCode, 2, unknown.result.stderr);
    assert.match(unknown.result.stderr, /unknown spec version 2025-11-11/);
    assert.deepEqual(unknown.requests, []);
  });

  it('5. extract-endpoint-detail --diff latest compares with the newest version, as extract-tag-endpoints --diff latest does', async () => {
    const result = await run('extract-endpoint-detail', ['GET', '/users/{user_id}', '--api-version', '2025-04-10', '--diff', 'latest', '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).to, sharedVersions().at(-1));
  });

  it('6. under 2026-05-12, metadata on PATCH /users/{id} is refused, saying where it moved and how to send it', async () => {
    const result = await run('bapi-guard', ['PATCH', '/users/user_1', '-d', '{"public_metadata":{"plan":"pro"}}', '--api-version', '2026-05-12', '--json'], { extra: { CLERK_BAPI_SCOPES: 'write' } });
    assert.equal(result.exitCode, 2, result.stderr);
    const verdict = JSON.parse(result.stdout) as { checks: Array<{ id: string; message: string }>; hints: string[] };
    assert.match(verdict.checks.find((c) => c.id === 'metadata')!.message, /public_metadata moved in spec 2026-05-12: .*PATCH \/users\/\{user_id\}\/metadata merges it, PUT \/users\/\{user_id\}\/metadata replaces it/);
    assert.ok(verdict.hints.some((h) => h.includes("bapi-curl PATCH /users/user_1/metadata -d '{\"public_metadata\":")), verdict.hints.join('\n'));
  });

  it('7. the first write at a terminal, with no scopes set, is a question a person answers: yes sends it once (a scope bypass by a person), anything else nothing', { skip: !existsSync('/usr/bin/script') && 'needs script(1)' }, async () => {
    const before = fake.received('POST', '/v1/organizations').length;
    const declined = await runAtTerminal('bapi-curl', ['POST', '/organizations', '-f', 'name=Asked'], 'no', /Type yes to confirm/, { env: env() });
    assert.equal(declined.exitCode, 4, declined.stdout);
    assert.match(declined.stdout, /asking at the terminal whether to bypass it once/);
    assert.equal(fake.received('POST', '/v1/organizations').length, before);
    const agreed = await runAtTerminal('bapi-curl', ['POST', '/organizations', '-f', 'name=Asked'], 'yes', /Type yes to confirm/, { env: env() });
    assert.equal(agreed.exitCode, 0, agreed.stdout);
    assert.equal(fake.received('POST', '/v1/organizations').length, before + 1);
    const audit = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(audit.at(-1)!.scope_bypass, 'terminal');
    // Not at a terminal, or under an agent: the refusal as before.
    const piped = await sent(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=Asked']));
    assert.equal(piped.result.exitCode, 3, piped.result.stderr);
    assert.deepEqual(piped.requests, []);
  });

  it('14. a DELETE asked at the terminal says who it deletes, read as the backup reads it; no sends nothing', { skip: !existsSync('/usr/bin/script') && 'needs script(1)' }, async () => {
    const id = 'user_seed0000003';
    const before = fake.received('DELETE', `/v1/users/${id}`).length;
    const curl = await runAtTerminal('bapi-curl', ['DELETE', `/users/${id}`], 'no', /to confirm/, { env: env({ CLERK_BAPI_SCOPES: 'write,delete', NO_COLOR: '1' }) });
    assert.equal(curl.exitCode, 4, curl.stdout);
    assert.match(curl.stdout, /This deletes First3 Last3 <user3@example\.com> \(\/users\/user_seed0000003\)/);
    assert.equal(fake.received('DELETE', `/v1/users/${id}`).length, before);
    const guard = await runAtTerminal('bapi-guard', ['DELETE', `/users/${id}`], id, /to confirm/, { env: env({ CLERK_BAPI_SCOPES: 'write,delete', NO_COLOR: '1' }) });
    assert.equal(guard.exitCode, 0, guard.stdout);
    assert.match(guard.stdout, /This deletes First3 Last3 <user3@example\.com>/);
    assert.equal(fake.received('DELETE', `/v1/users/${id}`).length, before);
  });

  it("15. gh and curl habits are recognised and pointed at the toolkit's way: -q FILTER, --input, --limit, -sL, -d a=b, any unknown flag", async () => {
    const cases: Array<[string[], RegExp]> = [
      [['GET', '/users', '-q', '.[0].id'], /looks like a jq filter \(gh api -q\): give it with --jq/],
      [['POST', '/users', '--input', 'body.json'], /give the body with -d @FILE/],
      [['GET', '/users', '--limit', '5'], /-q limit=N/],
      [['GET', '/users', '-sL'], /-s: not needed.*; -L: not needed/],
      [['POST', '/organizations', '-d', 'name=Acme'], /use -f name=value/],
      [['GET', '/users', '--jqq', '.x'], /Did you mean --jq\?/],
      [['GET', '/users', '--bogusflag'], /Run with --help for the options \(the nearest by spelling: --/],
    ];
    for (const [args, hint] of cases) {
      const { result, requests } = await sent(() => run('bapi-curl', args));
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, hint, args.join(' '));
      assert.deepEqual(requests, []);
    }
  });

  it('16. messages say what to do: quote several --grep words, a misspelt body field, a missing file in words, a key in quotes', async () => {
    const grep = await run('extract-tag-endpoints', ['--grep', 'user', 'metadata']);
    assert.equal(grep.exitCode, 2);
    assert.match(grep.stderr, /quote them: --grep 'user metadata'/);
    const field = await run('bapi-guard', ['PATCH', '/users/user_1', '-d', '{"frist_name":"Ada"}'], { extra: { CLERK_BAPI_SCOPES: 'write' } });
    assert.equal(field.exitCode, 2);
    assert.match(field.stderr, /\$\.frist_name: is not an allowed property; did you mean first_name\?/);
    const missing = await run('extract-tags', ['--spec', 'nofile.yml']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /cannot read --spec nofile\.yml: there is no such file/);
    const quoted = await run('bapi-guard', ['GET', '/users'], { extra: { CLERK_SECRET_KEY: `"${KEY}"` } });
    assert.equal(quoted.exitCode, 3);
    assert.match(quoted.stderr, /wrapped in quotes that are part of its value: remove them/);
  });

  it('18. an empty batch is nothing to do (exit 0); a batch approval is listed by what it holds', async () => {
    const empty = join(tempDir('empty-batch-'), 'empty.ndjson');
    writeFileSync(empty, '\n\n');
    for (const command of ['bapi-guard', 'bapi-curl']) {
      const result = await run(command, ['--batch', empty]);
      assert.equal(result.exitCode, 0, `${command}: ${result.stderr}`);
      assert.match(result.stderr, /has no requests: nothing to do/);
    }
    const file = join(tempDir('listed-batch-'), 'two.ndjson');
    writeFileSync(file, '{"method":"DELETE","path":"/users/user_x1"}\n{"method":"DELETE","path":"/users/user_x2"}\n');
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'], { extra: { CLERK_BAPI_SCOPES: 'write,delete' } })).exitCode, 0);
    const listed = await run('bapi-guard', ['approvals']);
    assert.match(listed.stdout, /\tbatch of 2: 2× DELETE \/users\/\{user_id\}\t/);
    assert.doesNotMatch(listed.stdout, /BATCH \/batch/);
  });

  it('8. a GET with a placeholder (<user_id>, {user_id}) is refused as a write is: exit 2, nothing sent', async () => {
    for (const path of ['/users/<user_id>', '/users/{user_id}', '/users/%3Cuser_id%3E']) {
      const { result, requests } = await sent(() => run('bapi-curl', ['GET', path, '--api-version', '2025-11-10']));
      assert.equal(result.exitCode, 2, `${path}: ${result.stderr}`);
      assert.match(result.stderr, /fill in user_id: .* is a placeholder, not an id/);
      assert.deepEqual(requests, []);
    }
  });

  it('10. --batch <(…) reads a pipe (process substitution) once', async () => {
    const result = await execa('bash', ['-c', `node ${scriptPath('bapi-curl')} --batch <(printf '{"method":"GET","path":"/users?limit=1"}\\n')`], { env: env() as NodeJS.ProcessEnv, extendEnv: false, reject: false, stdin: 'ignore' });
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.equal(String(result.stdout).trim().split('\n').length, 1);
    assert.equal(JSON.parse(String(result.stdout)).status, 200);
  });

  it('11. an HTTP error body ends with a newline, as a success does', async () => {
    const result = await run('bapi-curl', ['GET', '/users/user_nobody', '--api-version', '2025-11-10']);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.ok(result.stdout.endsWith('\n'), JSON.stringify(result.stdout.slice(-20)));
  });
});
