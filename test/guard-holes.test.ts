// The holes an attack run found between what the guard judges and what reaches the API: each one
// against the built executables and a fake Clerk that counts what it receives. Every test here
// failed before its fix.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { approvalStore } from '../lib/guard/approval-files.js';
import { keyFingerprint } from '../lib/guard/key.js';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { noStackTrace } from './helpers/cli-assert.js';
import { cleanEnv, runCli, tempDir, type CliResult } from './helpers/run-cli.js';
import { SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const specsDir = tempDir('holes-specs-');
const outputs: CliResult[] = [];

let fake: FakeClerk;
let stateDir: string;
let workDir: string;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({
    CLERK_API_URL: fake.url,
    CLERK_SECRET_KEY: KEY,
    CLERK_SPECS_DIR: specsDir,
    CLERK_BAPI_STATE_DIR: stateDir,
    CLERK_BAPI_RETRY_DELAY_MS: '10',
    HOME: workDir,
    ...extra,
  });
}

async function run(command: 'bapi-curl' | 'bapi-guard' | 'extract-tags', args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  const result = await runCli(command, args, { env: env(extra), cwd: workDir });
  outputs.push(result);
  return result;
}

/** What reached the fake (and its other host) during `action`, as `METHOD rawurl` lines. */
async function arrivals<T>(action: () => Promise<T>): Promise<{ result: T; sent: string[]; other: string[] }> {
  const before = fake.requests.length;
  const otherBefore = fake.otherHost.requests.length;
  const result = await action();
  return {
    result,
    sent: fake.requests.slice(before).map((r) => `${r.method} ${r.url}`),
    other: fake.otherHost.requests.slice(otherBefore).map((r) => `${r.method} ${r.url}`),
  };
}

const writes = (lines: string[]) => lines.filter((line) => !line.startsWith('GET '));

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 40 });
});

after(async () => {
  await fake.close();
  for (const result of outputs) assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY), 'the key is in no output');
});

beforeEach(() => {
  stateDir = join(tempDir('holes-state-'), 'state');
  workDir = tempDir('holes-cwd-');
  fake.clearFaults();
});

describe('1. backslashes and dot segments in a path', () => {
  it('a full URL whose backslashes a URL parser turns into ../ban is refused, and nothing is sent', async () => {
    const path = `${fake.url}/v1/sessions/sess_1/tokens/x\\..\\..\\..\\..\\users\\user_seed0000007\\ban`;
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', path, '--yes'], { CLERK_BAPI_SCOPES: 'sessions:write,users:write' }));
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /backslash/);
    assert.deepEqual(sent, []);
  });

  it('a URL with a space after its host (which a URL parser strips) is refused by both: the fuzz found the executor sending it', async () => {
    const path = `${fake.url} /users/user_seed0000001`;
    const { result, sent } = await arrivals(() => run('bapi-curl', ['DELETE', path, '-q', 'x=y', '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' }));
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /invalid host/);
    assert.deepEqual(sent, []);
    const guard = await run('bapi-guard', ['DELETE', path, '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' });
    assert.equal(guard.exitCode, 2, guard.stderr);
  });

  it('DELETE /users/user_4\\..\\user_5 --yes deletes nobody', async () => {
    const { result, sent } = await arrivals(() => run('bapi-curl', ['DELETE', '/users/user_seed0000004\\..\\user_seed0000005', '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' }));
    assert.equal(result.exitCode, 2, result.stderr);
    assert.deepEqual(sent, []);
    const guard = await run('bapi-guard', ['DELETE', '/users/user_seed0000004\\..\\user_seed0000005', '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' });
    assert.equal(guard.exitCode, 2, guard.stderr);
  });

  it('/v1/v1/users/… is refused by both, not approved by one and doubled by the other', async () => {
    const guard = await run('bapi-guard', ['PATCH', '/v1/v1/users/user_seed0000001', '-d', '{"first_name":"A"}'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(guard.exitCode, 2, guard.stderr);
    const { result, sent } = await arrivals(() => run('bapi-curl', ['PATCH', '/v1/v1/users/user_seed0000001', '-d', '{"first_name":"A"}'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(result.exitCode, 2, result.stderr);
    assert.deepEqual(sent, []);
  });
});

describe('2–3. prototype keys', () => {
  it("-f '__proto__[CLERK_BAPI_SCOPES]=write,delete' grants nothing: exit 2, nothing sent", async () => {
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', '/users', '-f', 'first_name=a', '-f', '__proto__[CLERK_BAPI_SCOPES]=write,delete']));
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /not allowed in a field name/);
    assert.deepEqual(sent, []);
  });

  it('a "__proto__" key added to an approved body does not match the approval', async () => {
    const path = '/users/user_seed0000002';
    const approved = await run('bapi-guard', ['PATCH', path, '-d', '{"first_name":"Ada"}', '--json'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(approved.exitCode, 0, approved.stderr);
    const { result, sent } = await arrivals(() => run('bapi-curl', ['PATCH', path, '-d', '{"first_name":"Ada","__proto__":{"last_name":"Eve"}}']));
    // No scopes here: only a (wrong) approval could let it through; the inline guard refuses it (the body is invalid, too).
    assert.ok([2, 3].includes(result.exitCode), result.stderr);
    assert.doesNotMatch(result.stderr, /using approval/);
    assert.deepEqual(writes(sent), []);
  });
});

describe('4. multipart approvals bind the content', () => {
  it('a file edited after approval is not sent under it; the unedited file is sent as approved', async () => {
    const file = join(workDir, 'avatar.png');
    writeFileSync(file, Buffer.from('first image bytes'));
    const path = '/users/user_seed0000003/profile_image';
    const approved = await run('bapi-guard', ['POST', path, '--form', 'file=@avatar.png', '--json'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(approved.exitCode, 0, approved.stderr);
    assert.match(JSON.parse(approved.stdout).request.body.file, /sha256:[0-9a-f]{64}/);
    writeFileSync(file, Buffer.from('other image bytes'));
    const edited = await arrivals(() => run('bapi-curl', ['POST', path, '--form', 'file=@avatar.png']));
    assert.equal(edited.result.exitCode, 3, edited.result.stderr);
    assert.deepEqual(writes(edited.sent), []);

    writeFileSync(file, Buffer.from('first image bytes'));
    const duplicate = await arrivals(() => run('bapi-curl', ['POST', path, '--form', 'file=@avatar.png', '--form', 'file=@avatar.png']));
    assert.equal(duplicate.result.exitCode, 2, duplicate.result.stderr);
    assert.deepEqual(writes(duplicate.sent), []);

    const same = await arrivals(() => run('bapi-curl', ['POST', path, '--form', 'file=@avatar.png']));
    assert.match(same.result.stderr, /using approval apv_/);
    assert.equal(writes(same.sent).length, 1);
    const body = fake.requests.at(-1)!.body;
    assert.match(body, /first image bytes/);
    assert.match(body, /Content-Type: image\/png/i);
  });
});

describe('5. a crafted --spec', () => {
  const crafted = () => {
    const dir = tempDir('holes-crafted-');
    const file = join(dir, '2025-11-10.yml');
    writeFileSync(
      file,
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'crafted', version: '1' },
        paths: { '/users/{user_id}/{action}': { post: { operationId: 'Harmless', summary: 'Does nothing', tags: ['Users'], parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'action', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'ok' } } } } },
      }),
    );
    return file;
  };

  it('an approval made against it is not used by a plain bapi-curl', async () => {
    // --yes: the ban is destructive whatever the crafted template says (round 2, below).
    const approved = await run('bapi-guard', ['POST', '/users/user_seed0000012/ban', '--spec', crafted(), '--api-version', '2025-11-10', '--json', '--yes'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(approved.exitCode, 0, approved.stderr);
    assert.match(approved.stderr, /checked against a spec given with --spec/);
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', '/users/user_seed0000012/ban', '--api-version', '2025-11-10']));
    assert.notEqual(result.exitCode, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /using approval/);
    assert.deepEqual(writes(sent), []);
  });

  it('under a live key, a write checked against a --spec file needs confirmation', async () => {
    const live = `sk_live_${randomBytes(24).toString('hex')}`;
    const verdict = await run('bapi-guard', ['POST', '/users/user_seed0000012/ban', '--spec', crafted(), '--json'], { CLERK_SECRET_KEY: live, CLERK_BAPI_SCOPES: 'write' });
    assert.equal(verdict.exitCode, 4, verdict.stderr);
    assert.ok(JSON.parse(verdict.stdout).confirmation.reasons.some((r: string) => /--spec file/.test(r)));
    assert.ok(!verdict.stdout.includes(live) && !verdict.stderr.includes(live));
  });
});

describe('6. unbounded input', () => {
  it('an answer that never ends stops at CLERK_BAPI_MAX_RESPONSE_MB: exit 1 with a message', async () => {
    fake.fault({ kind: 'endless', path: '/v1/users' });
    const result = await run('bapi-curl', ['GET', '/users', '--api-version', '2025-11-10'], { CLERK_BAPI_MAX_RESPONSE_MB: '8' });
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /larger than 8 MB/);
    noStackTrace(result.stderr);
  });

  it('a store file that is /dev/zero, or a directory, is rebuilt; a spec over 16 MB is refused', async () => {
    const first = await run('extract-tags', ['--api-version', '2025-11-10']);
    assert.equal(first.exitCode, 0, first.stderr);
    const index = join(specsDir, 'index');
    const files = readdirSync(index).filter((name) => name.endsWith('.summary.json'));
    assert.ok(files.length > 0);
    for (const name of files) {
      rmSync(join(index, name));
      symlinkSync('/dev/zero', join(index, name));
    }
    const zero = await run('extract-tags', ['--api-version', '2025-11-10']);
    assert.equal(zero.exitCode, 0, zero.stderr);
    assert.equal(zero.stdout, first.stdout);
    for (const name of files) {
      rmSync(join(index, name), { force: true });
      mkdirSync(join(index, name));
    }
    const directory = await run('extract-tags', ['--api-version', '2025-11-10']);
    assert.equal(directory.exitCode, 0, directory.stderr);
    assert.equal(directory.stdout, first.stdout);

    const big = join(workDir, 'big.yml');
    writeFileSync(big, `openapi: 3.0.3\npaths: {}\nx: "${'a'.repeat(17 * 1024 * 1024)}"\n`);
    const large = await run('extract-tags', ['--spec', big]);
    assert.equal(large.exitCode, 2, large.stderr);
    assert.match(large.stderr, /larger than 16 MB are refused/);
    const device = await run('extract-tags', ['--spec', '/dev/zero']);
    assert.equal(device.exitCode, 2, device.stderr);
    assert.match(device.stderr, /not a regular file/);
  });
});

describe('7. the state directory is checked before a write is sent', () => {
  it('a state directory under a file: a clear error naming it, exit 1, nothing sent', async () => {
    const file = join(workDir, 'not-a-dir');
    writeFileSync(file, '');
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=Acme'], { CLERK_BAPI_SCOPES: 'write', CLERK_BAPI_STATE_DIR: join(file, 'state') }));
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /state directory .*not-a-dir\/state.*ENOTDIR|cannot create the state directory .*not-a-dir\/state/);
    assert.doesNotMatch(result.stderr, /internal error/);
    assert.deepEqual(sent, []);
  });

  it('an audit log that cannot be written (a full disk: /dev/full): nothing sent', async () => {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    symlinkSync('/dev/full', join(stateDir, 'audit.log'));
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=Acme'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /cannot write the audit log .*ENOSPC.*nothing was sent/);
    assert.deepEqual(sent, []);
  });

  it('a world-writable (1777) state directory is refused, not silently chmod-ed', async () => {
    mkdirSync(stateDir, { recursive: true });
    chmodSync(stateDir, 0o1777);
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=Acme'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /writable by other users \(mode 1777\)/);
    assert.deepEqual(sent, []);
  });
});

describe('8. a server that echoes the key', () => {
  it('the key is in no output, audit line or backup', async () => {
    fake.fault({ kind: 'echo-key', path: '/v1/organizations', method: 'POST' });
    const error = await run('bapi-curl', ['POST', '/organizations', '-f', 'name=Echo'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(error.exitCode, 1, error.stderr);
    assert.match(error.stderr, /the key sk_test_…/);
    fake.fault({ kind: 'echo-key', path: '/v1/users', html: true, status: 401 });
    const html = await run('bapi-curl', ['GET', '/users', '--api-version', '2025-11-10', '-i']);
    assert.equal(html.exitCode, 1);
    fake.fault({ kind: 'echo-key', path: '/v1/users/user_seed0000020', method: 'GET', status: 200 });
    const deleted = await run('bapi-curl', ['DELETE', '/users/user_seed0000020', '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' });
    assert.equal(deleted.exitCode, 0, deleted.stderr);
    const files = filesUnder(stateDir);
    assert.ok(files.some((f) => f.includes('backups')), 'a backup was written');
    for (const file of files) assert.ok(!readFileSync(file, 'utf8').includes(KEY), `the key is not in ${file}`);
    for (const result of [error, html, deleted]) assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY));
  });
});

describe('9. terminal escapes', () => {
  it('a body key, a server message and --api-version cannot drive the terminal', async () => {
    const hostile = '\u001b[40A\u001b[J';
    const guard = await run('bapi-guard', ['PATCH', '/users/user_seed0000009/metadata', '-d', JSON.stringify({ public_metadata: { [`${hostile}password`]: 1 } })], { CLERK_BAPI_SCOPES: 'write' });
    assert.doesNotMatch(guard.stderr, /\u001b/);
    assert.match(guard.stderr, /\\x1b\[40A\\x1b\[Jpassword/, 'the key is shown, escaped');
    const version = await run('bapi-curl', ['GET', '/users', '--api-version', `2025-11-10${hostile}`]);
    assert.equal(version.exitCode, 2);
    assert.doesNotMatch(version.stderr, /\u001b/);
    fake.fault({ kind: 'status', status: 500, path: '/v1/users' });
    const method = await run('bapi-curl', [`GE${hostile}T`, '/users']);
    assert.equal(method.exitCode, 2);
    assert.doesNotMatch(method.stderr, /\u001b/);
  });
});

describe('10. redirects', () => {
  it('a write follows none: not a 307 to another host, not a same-origin 308, not a loop', async () => {
    fake.fault({ kind: 'redirect', status: 307, path: '/v1/users', method: 'POST' });
    const cross = await arrivals(() => run('bapi-curl', ['POST', '/users', '-f', 'password=hunter2hunter2', '-F', 'email_address[]=x@example.com'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(cross.result.exitCode, 1, cross.result.stderr);
    assert.match(cross.result.stderr, /never follows a redirect/);
    assert.deepEqual(cross.other, []);
    assert.equal(writes(cross.sent).length, 1);

    fake.fault({ kind: 'redirect', status: 308, path: '/v1/organizations', method: 'POST', location: '/v1/users/user_seed0000001/ban' });
    const same = await arrivals(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=R'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(same.result.exitCode, 1, same.result.stderr);
    assert.deepEqual(writes(same.sent), ['POST /v1/organizations']);

    fake.fault({ kind: 'redirect', status: 307, path: '/v1/organizations', method: 'POST', location: '/v1/organizations', times: 10 });
    const loop = await arrivals(() => run('bapi-curl', ['POST', '/organizations', '-f', 'name=L'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(loop.result.exitCode, 1);
    assert.equal(writes(loop.sent).length, 1);
    fake.clearFaults();
  });

  it('the backup before a DELETE follows no redirect to another host, and then nothing is deleted', async () => {
    fake.fault({ kind: 'redirect', status: 302, path: '/v1/users/user_seed0000021', method: 'GET' });
    const { result, sent, other } = await arrivals(() => run('bapi-curl', ['DELETE', '/users/user_seed0000021', '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' }));
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /nothing was deleted/);
    assert.deepEqual(other, []);
    assert.deepEqual(writes(sent), []);
  });
});

describe('11. approvals', () => {
  it('a restored approval file is not used twice', async () => {
    const path = '/users/user_seed0000022';
    const approved = await run('bapi-guard', ['DELETE', path, '--yes', '--json'], { CLERK_BAPI_SCOPES: 'write,delete' });
    assert.equal(approved.exitCode, 0, approved.stderr);
    const id = JSON.parse(approved.stdout).approval.id as string;
    const file = join(stateDir, 'approvals', `${id}.json`);
    const saved = readFileSync(file);
    const first = await arrivals(() => run('bapi-curl', ['DELETE', path, '--no-backup']));
    assert.equal(first.result.exitCode, 0, first.result.stderr);
    writeFileSync(file, saved, { mode: 0o600 });
    const second = await arrivals(() => run('bapi-curl', ['DELETE', path, '--no-backup']));
    assert.equal(second.result.exitCode, 3, second.result.stderr);
    assert.match(second.result.stderr, /already used/);
    assert.deepEqual(writes(second.sent), []);
  });

  it('an approval sealed for ten years is read as expired after the maximum lifetime', async () => {
    const detail = await run('bapi-guard', ['DELETE', '/users/user_seed0000023', '--yes', '--json'], { CLERK_BAPI_SCOPES: 'write,delete', CLERK_BAPI_STATE_DIR: join(stateDir, 'scratch') });
    const verdict = JSON.parse(detail.stdout);
    // The same binding the guard made, sealed with this state directory's secret (as a forger who can read it would).
    const scratch = approvalStore(join(stateDir, 'scratch')).get(verdict.approval.id)!.approval;
    approvalStore(stateDir).create(
      { method: 'DELETE', path: '/users/user_seed0000023', query: [], body: undefined, version: verdict.version, specDigest: scratch.specDigest, origin: scratch.origin, keyFingerprint: keyFingerprint(KEY) },
      { ttlSeconds: 10 * 365 * 86400, now: new Date(Date.now() - 2 * 3600_000) },
    );
    const { result, sent } = await arrivals(() => run('bapi-curl', ['DELETE', '/users/user_seed0000023']));
    assert.equal(result.exitCode, 3, result.stderr);
    assert.match(result.stderr, /expired/);
    assert.deepEqual(writes(sent), []);
  });

  it('an approval is bound to CLERK_API_URL, and -H cannot change the approved version or content type', async () => {
    const path = '/users/user_seed0000024';
    const approved = await run('bapi-guard', ['PATCH', path, '-d', '{"first_name":"B"}'], { CLERK_BAPI_SCOPES: 'write', CLERK_API_URL: 'http://127.0.0.1:9' });
    assert.equal(approved.exitCode, 0, approved.stderr);
    const moved = await arrivals(() => run('bapi-curl', ['PATCH', path, '-d', '{"first_name":"B"}']));
    assert.equal(moved.result.exitCode, 3, moved.result.stderr);
    assert.deepEqual(writes(moved.sent), []);
    for (const header of ['Clerk-API-Version: 2021-02-05', 'Content-Type: text/plain', 'X-HTTP-Method-Override: DELETE']) {
      const { result, sent } = await arrivals(() => run('bapi-curl', ['PATCH', path, '-d', '{"first_name":"B"}', '-H', header], { CLERK_BAPI_SCOPES: 'write' }));
      assert.equal(result.exitCode, 2, result.stderr);
      assert.deepEqual(sent, []);
    }
  });
});

describe('12–14. locks, flags and bad input', () => {
  it('a lock left by a killed process is taken over at once', async () => {
    const store = tempDir('holes-lock-store-');
    const dead = await runCli('extract-tags', ['--version'], { env: cleanEnv() });
    assert.equal(dead.exitCode, 0);
    // A PID that no longer runs: a child that has exited.
    const { execa } = await import('execa');
    const child = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = String(child.stdout);
    const listing = readdirSync(join(SHARED_SPECS_DIR, 'bapi')).filter((n) => /^\d{4}-\d{2}-\d{2}\.yml$/.test(n)).sort().at(-1)!;
    const { gitBlobSha } = await import('../lib/spec/git-blob.js');
    const sha = gitBlobSha(readFileSync(join(SHARED_SPECS_DIR, 'bapi', listing)));
    mkdirSync(join(store, 'locks'), { recursive: true });
    writeFileSync(join(store, 'locks', `${sha}.lock`), pid);
    const started = Date.now();
    const result = await run('extract-tags', [], { CLERK_SPECS_DIR: store });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok(Date.now() - started < 60_000, 'did not wait for the 120 s staleness limit');
  });

  it('--no-backup skips the backup GET', async () => {
    const { result, sent } = await arrivals(() => run('bapi-curl', ['DELETE', '/users/user_seed0000025', '--yes', '--no-backup'], { CLERK_BAPI_SCOPES: 'write,delete' }));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(sent, ['DELETE /v1/users/user_seed0000025']);
  });

  it('deep JSON is exit 2, a huge --timeout is exit 2, a server of endless full pages ends', async () => {
    const deep = `{"first_name":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    const guard = await run('bapi-guard', ['PATCH', '/users/user_seed0000026', '-d', deep], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(guard.exitCode, 2, guard.stderr);
    const curl = await arrivals(() => run('bapi-curl', ['PATCH', '/users/user_seed0000026', '-d', deep], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(curl.result.exitCode, 2, curl.result.stderr);
    assert.deepEqual(curl.sent, []);
    const timeout = await run('bapi-curl', ['GET', '/users', '--timeout', '2147484']);
    assert.equal(timeout.exitCode, 2, timeout.stderr);
    assert.match(timeout.stderr, /at most 86400 seconds/);
    fake.fault({ kind: 'same-page', path: '/v1/users', times: Infinity });
    const pages = await run('bapi-curl', ['GET', '/users', '--paginate', '-q', 'limit=5']);
    fake.clearFaults();
    assert.equal(pages.exitCode, 1, pages.stderr);
    assert.match(pages.stderr, /same page twice/);
    for (const result of [guard, curl.result, timeout, pages]) noStackTrace(result.stderr);
  });
});

describe('7b. an outcome that cannot be audited', () => {
  it('still prints the answer, says the write happened, and exits as the API answered', async () => {
    const { parseArgs } = await import('../scripts/bapi-curl.js');
    const { executeRequest: runCurl } = await import('../lib/http/execute.js');
    const { createHttpClient } = await import('../lib/http/client.js');
    const { selectSpec } = await import('../lib/spec/select.js');
    const options = parseArgs(['POST', '/organizations', '-f', 'name=Audited'], {});
    assert.ok(typeof options === 'object');
    const out: string[] = [];
    const err: string[] = [];
    let calls = 0;
    const audit = join(stateDir, 'audit.log');
    const code = await runCurl(options, {
      io: { stdin: Object.assign((async function* () {})(), { isTTY: false }), stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: env({ CLERK_BAPI_SCOPES: 'write' }), cwd: workDir },
      createClient: createHttpClient,
      selectSpec,
      // The second audit line is built after the answer came: the disk is full by then.
      now: () => {
        if (++calls === 2) {
          rmSync(audit);
          symlinkSync('/dev/full', audit);
        }
        return new Date();
      },
    });
    assert.equal(code, 0, err.join(''));
    assert.equal(JSON.parse(out.join('')).name, 'Audited');
    assert.match(err.join(''), /the POST was sent and answered HTTP 200, but its outcome could not be added to the audit log/);
  });
});

// Round 2: a second attack run found ways around the promise that a person decides, and ways to
// deceive that person. Each case failed before its fix, against the same counting fake.
describe('round 2, 1. a crafted spec cannot remove the need for consent', () => {
  const evilSpec = (dir = tempDir('holes-evil-'), name = 'evil.yml') => {
    const file = join(dir, name);
    const parameter = (n: string) => ({ name: n, in: 'path', required: true, schema: { type: 'string' } });
    writeFileSync(
      file,
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'crafted', version: '1' },
        paths: { '/users/{a}/{b}': { post: { operationId: 'UpdateUserSetting', summary: 'Update a user setting', tags: ['Organizations'], parameters: [parameter('a'), parameter('b')], responses: { 200: { description: 'ok' } } } } },
      }),
    );
    return file;
  };
  const person = { CLAUDECODE: '1', CLERK_BAPI_SCOPES: 'organizations:write' };

  it('in person mode, --spec evil.yml sends no ban and no remove_password: a person must approve', async () => {
    const spec = evilSpec();
    for (const action of ['ban', 'remove_password']) {
      const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', `/users/user_seed0000013/${action}`, '--spec', spec, '--api-version', '2025-11-10', '--yes', '--admin'], person));
      assert.equal(result.exitCode, 4, result.stderr);
      assert.deepEqual(writes(sent), [], `${action} was sent`);
      assert.match(result.stderr, /IRREVERSIBLE|REVERSIBLE/);
      assert.match(result.stderr, /not a published version of Clerk's spec/);
    }
  });

  it('the newest file of a CLERK_SPECS_SOURCE directory, with no flag: the ban is judged on its path and waits for a person', async () => {
    const source = tempDir('holes-evil-source-');
    mkdirSync(join(source, 'bapi'));
    writeFileSync(join(source, 'bapi', '2025-11-10.yml'), readFileSync(join(SHARED_SPECS_DIR, 'bapi', '2025-11-10.yml')));
    evilSpec(join(source, 'bapi'), '2099-01-01.yml');
    const extra = { ...person, CLERK_SPECS_SOURCE: source, CLERK_SPECS_DIR: tempDir('holes-evil-store-') };
    const verdict = await run('bapi-guard', ['POST', '/users/user_seed0000013/ban', '--json'], extra);
    assert.equal(verdict.exitCode, 4, verdict.stderr);
    const parsed = JSON.parse(verdict.stdout);
    assert.equal(parsed.endpoint.path, '/users/{a}/{b}');
    assert.ok(parsed.destroys.some((d: string) => /sessions/.test(d)), 'the curated list, matched on the concrete path');
    assert.ok(parsed.confirmation.reasons.some((r: string) => /unverified spec/.test(r)));
    assert.equal(parsed.scopes.personNeeded, true, 'a crafted tag grants no scope');
    const { result, sent } = await arrivals(() => run('bapi-curl', ['POST', '/users/user_seed0000013/ban'], extra));
    assert.equal(result.exitCode, 4, result.stderr);
    assert.deepEqual(writes(sent), []);
  });

  it('in flag mode a crafted tag grants no scope, and the verdict names what the path destroys', async () => {
    const verdict = await run('bapi-guard', ['POST', '/users/user_seed0000013/ban', '--spec', evilSpec(), '--json'], { CLERK_BAPI_SCOPES: 'organizations:write' });
    assert.equal(verdict.exitCode, 3, verdict.stderr);
    const parsed = JSON.parse(verdict.stdout);
    assert.ok(parsed.destroys.some((d: string) => /sessions/.test(d)));
    assert.ok(parsed.warnings.some((w: string) => /not a published version/.test(w)));
  });

  it('a --spec file that is a published version is judged as published', async () => {
    const copy = join(tempDir('holes-published-'), 'clerk.yml');
    writeFileSync(copy, readFileSync(join(SHARED_SPECS_DIR, 'bapi', '2025-11-10.yml')));
    const verdict = await run('bapi-guard', ['POST', '/organizations', '-f', 'name=Acme', '--spec', copy, '--api-version', '2025-11-10', '--json'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(verdict.exitCode, 0, verdict.stderr);
    assert.ok(!JSON.parse(verdict.stdout).warnings.some((w: string) => /published/.test(w)));
  });
});

describe('round 2, 2. nothing a request holds can drive the approval screen', () => {
  const hostile = '\u001b[2J\u001b[H';
  it('a control or bidi character in a -q name or value, or in a body key (also in a batch line), is exit 2 naming the input', async () => {
    for (const args of [
      ['GET', '/users', '-q', `${hostile}limit=1`],
      ['DELETE', '/users/user_seed0000014', '-q', `x=a${hostile}`],
      ['PATCH', '/users/user_seed0000014/metadata', '-d', JSON.stringify({ public_metadata: { [`plan${hostile}`]: 1 } })],
      ['PATCH', '/users/user_seed0000014/metadata', '-d', JSON.stringify({ public_metadata: { ['plan\u202e']: 1 } })],
    ]) {
      const { result, sent } = await arrivals(() => run('bapi-guard', args, { CLERK_BAPI_SCOPES: 'write,delete' }));
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /control or bidirectional-override character/);
      assert.doesNotMatch(result.stderr, /\u001b\[2J|\u202e/);
      assert.deepEqual(sent, []);
    }
    const batch = join(workDir, 'hostile.ndjson');
    writeFileSync(batch, `${JSON.stringify({ method: 'PATCH', path: '/users/user_seed0000014/metadata', body: { public_metadata: { [`x${hostile}`]: 1 } } })}\n`);
    const batched = await run('bapi-guard', ['--batch', batch], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(batched.exitCode, 2, batched.stderr);
    assert.doesNotMatch(batched.stderr, /\u001b\[2J/);
  });

  it('a pending approval stores its report escaped, whatever reached it', () => {
    const approval = approvalStore(stateDir).create({ method: 'DELETE', path: '/users/u1', query: [], body: undefined, version: 'v', specDigest: 's', origin: 'o', keyFingerprint: keyFingerprint(KEY) }, { status: 'pending', report: `PATCH user_1${hostile}\u001b[8mIRREVERSIBLE\u202e` });
    assert.doesNotMatch(approval.report, /[\u001b\u202e]/);
    assert.match(approval.report, /\\x1b\[2J/);
  });
});

describe('round 2, 6–8. numbers, ; and URLs: one decision for the guard and the executor', () => {
  it('1e400 is refused (it would be sent as null), by -d, -F and a batch line', async () => {
    for (const args of [['PATCH', '/users/user_seed0000015/metadata', '-d', '{"public_metadata":{"plan":1e400}}'], ['PATCH', '/users/user_seed0000015/metadata', '-F', 'public_metadata={"plan":1e400}']]) {
      for (const command of ['bapi-guard', 'bapi-curl'] as const) {
        const { result, sent } = await arrivals(() => run(command, [...args, '--yes'], { CLERK_BAPI_SCOPES: 'write' }));
        assert.equal(result.exitCode, 2, `${command} ${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /too large for JSON/);
        assert.deepEqual(writes(sent), []);
      }
    }
    const batch = join(workDir, 'infinite.ndjson');
    writeFileSync(batch, '{"method":"PATCH","path":"/users/user_seed0000015/metadata","body":{"public_metadata":{"plan":1e400}}}\n');
    const { result, sent } = await arrivals(() => run('bapi-curl', ['--batch', batch, '--yes'], { CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /too large for JSON/);
    assert.deepEqual(writes(sent), []);
  });

  it('a ; in a path segment is refused by both, and says why', async () => {
    for (const path of ['/users/user_seed0000016;x=y', '/users/user_seed0000016%3Bx']) {
      for (const command of ['bapi-guard', 'bapi-curl'] as const) {
        const { result, sent } = await arrivals(() => run(command, ['DELETE', path, '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' }));
        assert.equal(result.exitCode, 2, `${command} ${path}: ${result.stderr}`);
        assert.match(result.stderr, /path parameters/);
        assert.deepEqual(writes(sent), []);
      }
    }
  });

  it('a zero-padded port, a leading /// and a #fragment get the same decision from bapi-guard and bapi-curl', async () => {
    const port = new URL(fake.url).port;
    const padded = `http://127.0.0.1:0${port}/v1/organizations`;
    const guard = await run('bapi-guard', ['POST', padded, '-f', 'name=Padded'], { CLERK_BAPI_SCOPES: 'write' });
    const curl = await run('bapi-curl', ['POST', padded, '-f', 'name=Padded'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(guard.exitCode, 0, guard.stderr);
    assert.equal(curl.exitCode, 0, curl.stderr);
    for (const path of ['///users/user_seed0000017', '/users/user_seed0000017#frag']) {
      const decisions = [];
      for (const command of ['bapi-guard', 'bapi-curl'] as const) {
        const { result, sent } = await arrivals(() => run(command, ['DELETE', path, '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' }));
        decisions.push(result.exitCode);
        assert.deepEqual(writes(sent), []);
      }
      assert.deepEqual(decisions, [2, 2], path);
    }
  });
});

describe('round 2, 9. a key echoed JSON-escaped', () => {
  it('is redacted on stdout as the literal one is', async () => {
    const escaped = [...KEY].map((c, i) => (i % 2 === 0 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
    fake.fault({ kind: 'echo-key', path: '/v1/users/user_seed0000018', method: 'GET', status: 200, escaped: true });
    const result = await run('bapi-curl', ['GET', '/users/user_seed0000018']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok(!result.stdout.includes(escaped), 'the escaped key is on stdout');
    assert.ok(!JSON.stringify(JSON.parse(result.stdout)).includes(KEY), 'the key, decoded, is on stdout');
    assert.match(result.stdout, /sk_test_…/);
  });
});
