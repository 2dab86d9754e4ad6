// bapi-curl end to end: the built executable against the fake Clerk, counting what reaches the network.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { noStackTrace } from './helpers/cli-assert.js';
import { cleanEnv, type CliResult, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';
import { sharedVersions } from './helpers/spec-fixtures.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const specsDir = SHARED_STORE;
const outputs: CliResult[] = [];
const stateDirs: string[] = [];

let fake: FakeClerk;
let stateDir: string;
let workDir: string;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({
    CLERK_API_URL: fake.url,
    CLERK_SECRET_KEY: KEY,
    CLERK_SPECS_DIR: specsDir,
    CLERK_BAPI_STATE_DIR: stateDir,
    CLERK_BAPI_RETRY_DELAY_MS: '20',
    HOME: workDir,
    ...extra,
  });
}

async function curl(args: string[], extra: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  const result = await runCli('bapi-curl', args, { env: env(extra), cwd: workDir, ...(input !== undefined ? { input } : {}) });
  outputs.push(result);
  return result;
}

async function guard(args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  const result = await runCli('bapi-guard', args, { env: env(extra), cwd: workDir });
  outputs.push(result);
  return result;
}

/** How many requests reached the fake during `action`. */
async function counting<T>(action: () => Promise<T>, method?: string, path?: string): Promise<{ result: T; count: number }> {
  const before = fake.received(method, path).length;
  const result = await action();
  return { result, count: fake.received(method, path).length - before };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 3000 });
});

after(async () => {
  await fake.close();
  // The key never appears in anything we printed or wrote.
  for (const result of outputs) {
    assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY), 'the key is absent from every output');
  }
  for (const dir of [...stateDirs, specsDir]) {
    for (const file of filesUnder(dir)) assert.ok(!readFileSync(file, 'utf8').includes(KEY), `the key is absent from ${file}`);
  }
});

beforeEach(() => {
  stateDir = join(tempDir('bapi-curl-state-'), 'state');
  stateDirs.push(stateDir);
  workDir = tempDir('bapi-curl-cwd-');
  fake.clearFaults();
});

describe('bapi-curl reads', () => {
  it('sends the key, Accept, Clerk-API-Version and a User-Agent, and prints the body', async () => {
    const { result, count } = await counting(() => curl(['GET', '/users', '-q', 'limit=3']));
    assert.equal(result.exitCode, 0, result.stderr);
    const users = JSON.parse(result.stdout) as Array<{ id: string }>;
    assert.equal(users.length, 3);
    assert.equal(count, 1);
    const request = fake.requests.at(-1)!;
    assert.equal(request.url, '/v1/users?limit=3');
    assert.equal(request.headers.authorization, `Bearer ${KEY}`);
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['clerk-api-version'], sharedVersions().at(-1));
    assert.match(String(request.headers['user-agent']), /^clerk-bapi-toolkit\/\d/);
  });

  it('--api-version is sent as Clerk-API-Version; -i prints status and headers; PATH alone is a GET', async () => {
    const result = await curl(['/v1/users/count', '-i', '--api-version', '2025-04-10.yml']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(result.stdout, /\ncontent-type: application\/json\n/);
    assert.match(result.stdout, /\n\n\{"object":"total_count","total_count":\d+\}\n$/);
    assert.equal(fake.requests.at(-1)!.headers['clerk-api-version'], '2025-04-10');
  });

  it('an HTTP error: body on stdout, one line of Clerk error on stderr, exit 1', async () => {
    const result = await curl(['GET', '/users/user_missing']);
    assert.equal(result.exitCode, 1);
    const body = JSON.parse(result.stdout);
    assert.equal(body.errors[0].code, 'resource_not_found');
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^bapi-curl: HTTP 404 Not Found: resource_not_found: not found — The requested resource was not found\. \(clerk_trace_id [0-9a-f]{32}\)$/);
    assert.ok(lines[0]!.includes(body.clerk_trace_id));
  });

  it('a missing or malformed key: exit 3 and nothing sent', async () => {
    for (const key of [undefined, 'sk_test_short', 'pk_test_abcdefghijklmnopqrstuvwxyz']) {
      const { result, count } = await counting(() => curl(['GET', '/users'], { CLERK_SECRET_KEY: key }));
      assert.equal(result.exitCode, 3, result.stderr);
      assert.equal(count, 0);
      assert.match(result.stderr, /CLERK_SECRET_KEY/);
      noStackTrace(result.stderr);
    }
  });

  it('reads the key from a .env file', async () => {
    writeFileSync(join(workDir, '.env'), `CLERK_SECRET_KEY=${KEY}\n`);
    const result = await curl(['GET', '/users/count', '--jq', '.total_count'], { CLERK_SECRET_KEY: undefined });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^\d+\n$/);
  });

  it('--jq filters the response, with native jq and with the built-in one', async () => {
    for (const jq of ['/usr/bin/jq', 'wasm']) {
      if (jq !== 'wasm' && !existsSync(jq)) continue;
      const result = await curl(['GET', '/users', '-q', 'limit=2', '-q', 'order_by=+created_at', '--jq', '.[] | {id, first_name}'], { CLERK_BAPI_JQ: jq });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, '{"id":"user_seed0000000","first_name":"First0"}\n{"id":"user_seed0000001","first_name":"First1"}\n');
      const strings = await curl(['GET', '/users', '-q', 'limit=1', '-q', 'order_by=+created_at', '--jq', '.[0].id'], { CLERK_BAPI_JQ: jq });
      assert.equal(strings.stdout, 'user_seed0000000\n', 'strings are raw');
      const bad = await curl(['GET', '/users/count', '--jq', '.['], { CLERK_BAPI_JQ: jq });
      assert.equal(bad.exitCode, 2, bad.stderr);
      assert.match(bad.stderr, /--jq: .*syntax error/);
      noStackTrace(bad.stderr);
    }
  });
});

describe('bapi-curl writes', () => {
  it('are refused by the guard without scopes: exit 3, nothing sent', async () => {
    const { result, count } = await counting(() => curl(['POST', '/users', '-f', 'email_address[]=x@example.com']), 'POST');
    assert.equal(result.exitCode, 3, result.stderr);
    assert.equal(count, 0);
    assert.match(result.stderr, /This is a write operation and your current scopes may not allow it\. Rerun with --admin to bypass\?/);
    assert.match(result.stderr, /^bapi-curl \(guard\) POST \/users {2}→ {2}POST \/users /m, 'the inline guard says who is reporting');
    assert.ok(!existsSync(join(stateDir, 'audit.log')), 'nothing sent, nothing audited');
  });

  it('an invalid body is refused with exit 2 before anything is sent', async () => {
    const { result, count } = await counting(() => curl(['POST', '/users', '-d', '{"not_a_field": 1}'], { CLERK_BAPI_SCOPES: 'write' }), 'POST');
    assert.equal(result.exitCode, 2, result.stderr);
    assert.equal(count, 0);
  });

  it('pass with scopes (inline guard), type -F by the spec, and are audited without body values', async () => {
    const { result, count } = await counting(
      () =>
        curl(
          ['POST', '/users', '-F', 'email_address[]=grace@example.com', '-F', 'first_name=1906', '-F', 'public_metadata={"plan":"pro"}', '-f', 'password=hunter2hunter2'],
          { CLERK_BAPI_SCOPES: 'write' },
        ),
      'POST',
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(count, 1);
    const sent = JSON.parse(fake.requests.at(-1)!.body);
    assert.deepEqual(sent, { email_address: ['grace@example.com'], first_name: '1906', public_metadata: { plan: 'pro' }, password: 'hunter2hunter2' });
    const user = JSON.parse(result.stdout);
    assert.equal(user.first_name, '1906');
    const lines = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    // One line reserved before the write left, one with its outcome.
    assert.deepEqual(lines.map((line) => line.event), ['sending', 'answered']);
    assert.equal(lines[0].status, null);
    assert.equal(lines[0].path, '/v1/users');
    const audit = lines.slice(1);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].method, 'POST');
    assert.equal(audit[0].path, '/v1/users');
    assert.equal(audit[0].status, 200);
    assert.match(audit[0].clerk_trace_id, /^[0-9a-f]{32}$/);
    assert.match(audit[0].key_fingerprint, /^sha256:/);
    assert.equal(audit[0].approval_id, null);
    assert.deepEqual(audit[0].body_fields, ['email_address', 'first_name', 'password', 'public_metadata']);
    assert.ok(!JSON.stringify(audit).includes('hunter2'), 'no body values in the audit log');
    assert.equal(statSync(join(stateDir, 'audit.log')).mode & 0o777, 0o600);
  });

  it('a DELETE needs confirmation: exit 4 without --yes, nothing sent', async () => {
    const { result, count } = await counting(() => curl(['DELETE', '/users/user_seed0000010'], { CLERK_BAPI_SCOPES: 'write,delete' }), 'DELETE');
    assert.equal(result.exitCode, 4, result.stderr);
    assert.equal(count, 0);
    assert.match(result.stderr, /IRREVERSIBLE/);
  });

  it('consumes a bapi-guard approval once, backs the resource up first, and audits the approval', async () => {
    const id = 'user_seed0000011';
    const approved = await guard(['DELETE', `/users/${id}`, '--yes', '--json'], { CLERK_BAPI_SCOPES: 'write,delete' });
    assert.equal(approved.exitCode, 0, approved.stderr);
    const verdict = JSON.parse(approved.stdout);
    assert.match(verdict.approval.id, /^apv_/);

    // No scopes and no --yes here: only the approval lets it through.
    const { result, count } = await counting(() => curl(['DELETE', `/users/${id}`]), 'DELETE');
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(count, 1);
    assert.deepEqual(JSON.parse(result.stdout), { object: 'user', id, deleted: true });
    const backupLine = /saved \/users\/user_seed0000011 to (\S+) before deleting it/.exec(result.stderr);
    assert.ok(backupLine, result.stderr);
    const backup = JSON.parse(readFileSync(backupLine[1]!, 'utf8'));
    assert.equal(backup.resource.id, id);
    assert.equal(backup.resource.email_addresses[0].email_address, 'user11@example.com');
    assert.equal(backup.path, `/v1/users/${id}`);
    assert.equal(statSync(backupLine[1]!).mode & 0o777, 0o600);
    const [sending, audit] = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(sending.event, 'sending');
    assert.equal(sending.approval_id, verdict.approval.id);
    assert.equal(audit.event, 'answered');
    assert.equal(audit.approval_id, verdict.approval.id);
    assert.equal(audit.backup, backupLine[1]);

    const again = await counting(() => curl(['DELETE', `/users/${id}`]), 'DELETE');
    assert.equal(again.result.exitCode, 3, 'the approval was single use; the inline guard refuses');
    assert.equal(again.count, 0);
  });

  it('takes the guard verdict on stdin and an approval for another request does not apply', async () => {
    const approved = await guard(['PATCH', '/users/user_seed0000012/metadata', '-d', '{"public_metadata":{"plan":"pro"}}', '--json'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(approved.exitCode, 0, approved.stderr);

    const other = await counting(() => curl(['PATCH', '/users/user_seed0000012/metadata', '-d', '{"public_metadata":{"plan":"free"}}']), 'PATCH');
    assert.equal(other.result.exitCode, 3, 'a different body is not approved');
    assert.equal(other.count, 0);

    const piped = await counting(() => curl([], {}, approved.stdout), 'PATCH');
    assert.equal(piped.result.exitCode, 0, piped.result.stderr);
    assert.equal(piped.count, 1);
    assert.deepEqual(JSON.parse(piped.result.stdout).public_metadata, { plan: 'pro' });
    assert.match(piped.result.stderr, /using approval apv_/);

    const replay = await counting(() => curl([], {}, approved.stdout), 'PATCH');
    assert.notEqual(replay.result.exitCode, 0);
    assert.equal(replay.count, 0);
  });

  it('--dry-run prints the request and a curl line reading $CLERK_SECRET_KEY, and sends nothing', async () => {
    const { result, count } = await counting(() => curl(['POST', '/organizations', '-f', 'name=Acme', '--dry-run']));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(count, 0);
    assert.match(result.stdout, new RegExp(`^POST ${fake.url}/v1/organizations\n`));
    assert.match(result.stdout, /\ncurl -sS -X POST .*-H "Authorization: Bearer \$CLERK_SECRET_KEY".*--data-raw '\{"name":"Acme"\}'\n$/);
  });
});

describe('bapi-curl --paginate', () => {
  it('streams every user as NDJSON in pages of the spec maximum', async () => {
    // One cursor: the pages of a sequential walk (several cursors are test/split-walk.test.ts's).
    const { result, count } = await counting(() => curl(['GET', '/users', '--paginate', '--concurrency', '1']), 'GET', '/v1/users');
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    const total = fake.userCount();
    assert.equal(lines.length, total);
    assert.equal(new Set(lines.map((line) => JSON.parse(line).id)).size, total);
    assert.equal(count, Math.floor(total / 500) + 1);
    // GET /users has Clerk's cursor: pages after the first name the last user seen, never an offset.
    assert.match(fake.requests.at(-1)!.url, /limit=500&starting_after=user_\w+$/);
  });

  it('a reader that stops early (| head) ends it quietly, with and without --jq', async () => {
    const { execa } = await import('execa');
    for (const jq of [[], ['--jq', '.id']]) {
      const script = `node ${JSON.stringify(scriptPath('bapi-curl'))} GET /users --paginate ${jq.join(' ')} | head -2; echo "status=\${PIPESTATUS[0]}" >&2`;
      const result = await execa('bash', ['-c', script], { env: env(), extendEnv: false, reject: false, cwd: workDir, stdin: 'ignore' });
      assert.equal(String(result.stdout).split('\n').length, 2, String(result.stdout));
      assert.match(String(result.stderr), /^status=0$/m, String(result.stderr));
      noStackTrace(String(result.stderr));
    }
  });

  it('--slurp makes one array; --jq applies per item; a start offset and filters are kept', async () => {
    const slurp = await curl(['GET', '/users', '--paginate', '--slurp', '-q', 'limit=200', '-q', 'offset=100']);
    assert.equal(slurp.exitCode, 0, slurp.stderr);
    assert.equal((JSON.parse(slurp.stdout) as unknown[]).length, fake.userCount() - 100);
    for (const jq of ['wasm', '/usr/bin/jq']) {
      const ids = await curl(['GET', '/users', '--paginate', '--jq', '.id', '-q', 'limit=300'], { CLERK_BAPI_JQ: jq });
      assert.equal(ids.exitCode, 0, ids.stderr);
      const lines = ids.stdout.trim().split('\n');
      assert.equal(lines.length, fake.userCount());
      assert.match(lines[0]!, /^user_/);
    }
    const counted = await curl(['GET', '/users', '--paginate', '--slurp', '--jq', 'length', '-q', 'limit=500']);
    assert.equal(counted.stdout, `${fake.userCount()}\n`);
  });

  it('follows {data, total_count} pages', async () => {
    for (let i = 0; i < 5; i++) {
      const created = await curl(['POST', '/organizations', '-f', `name=Org ${i}`], { CLERK_BAPI_SCOPES: 'write' });
      assert.equal(created.exitCode, 0, created.stderr);
    }
    const { result, count } = await counting(() => curl(['GET', '/organizations', '--paginate', '-q', 'limit=2', '--jq', '.name']), 'GET', '/v1/organizations');
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 5);
    assert.equal(count, 3, 'stops when total_count is reached');
  });

  it('stops at an HTTP error with the items so far printed and exit 1', async () => {
    fake.fault({ kind: 'status', status: 500, path: '/v1/users' });
    const result = await curl(['GET', '/users', '--paginate', '-q', 'offset=2900']);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /HTTP 500/);
  });
});

describe('bapi-curl faults', () => {
  it('429: waits for Retry-After and retries, for a POST too', async () => {
    fake.fault({ kind: 'rate-limit', retryAfter: 0, times: 2, path: '/v1/organizations' });
    const { result, count } = await counting(() => curl(['POST', '/organizations', '-f', 'name=Limited'], { CLERK_BAPI_SCOPES: 'write' }), 'POST');
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(count, 3);
    assert.match(result.stderr, /rate limited \(429\); retrying in 0\.0s \(1\/3\)/);
  });

  it('429 beyond the retries: exit 1 with Clerk error line', async () => {
    fake.fault({ kind: 'rate-limit', retryAfter: 0, times: 10 });
    const { result, count } = await counting(() => curl(['GET', '/users/count'], { CLERK_BAPI_MAX_RETRIES: '1' }));
    assert.equal(result.exitCode, 1);
    assert.equal(count, 2);
    assert.match(result.stderr, /HTTP 429 Too Many Requests: too_many_requests/);
  });

  it('503 and a reset connection are retried for GET and DELETE', async () => {
    fake.fault({ kind: 'status', status: 503, times: 2 });
    const unavailable = await curl(['GET', '/users/count']);
    assert.equal(unavailable.exitCode, 0, unavailable.stderr);
    assert.match(unavailable.stderr, /HTTP 503; retrying/);

    fake.fault({ kind: 'reset', path: '/v1/users' });
    const reset = await curl(['GET', '/users', '-q', 'limit=1']);
    assert.equal(reset.exitCode, 0, reset.stderr);
    assert.match(reset.stderr, /closed before the answer was complete; retrying/);
  });

  it('a POST is never retried after a 503 or a reset', async () => {
    fake.fault({ kind: 'status', status: 503, path: '/v1/organizations' });
    const unavailable = await counting(() => curl(['POST', '/organizations', '-f', 'name=Once'], { CLERK_BAPI_SCOPES: 'write' }), 'POST');
    assert.equal(unavailable.result.exitCode, 1);
    assert.equal(unavailable.count, 1);
    assert.match(unavailable.result.stderr, /HTTP 503 Service Unavailable: service_unavailable/);

    fake.fault({ kind: 'reset', path: '/v1/organizations' });
    const reset = await counting(() => curl(['POST', '/organizations', '-f', 'name=Twice'], { CLERK_BAPI_SCOPES: 'write' }), 'POST');
    assert.equal(reset.result.exitCode, 5, reset.result.stderr);
    assert.equal(reset.count, 1);
    assert.match(reset.result.stderr, /never retried automatically/);
    noStackTrace(reset.result.stderr);
    const audit = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(audit.at(-1).status, null);
    assert.match(audit.at(-1).error, /closed before the answer was complete/);
  });

  it('a slow answer past --timeout: exit 5', async () => {
    fake.fault({ kind: 'slow', delayMs: 1500 });
    const result = await curl(['GET', '/users/count', '--timeout', '0.3'], { CLERK_BAPI_MAX_RETRIES: '0' });
    assert.equal(result.exitCode, 5, result.stderr);
    assert.match(result.stderr, /no complete answer from 127\.0\.0\.1:\d+ within 0\.3s/);
    noStackTrace(result.stderr);
  });

  it('invalid JSON and an HTML error page: a clean message and exit 1', async () => {
    fake.fault({ kind: 'invalid-json' });
    const invalid = await curl(['GET', '/users']);
    assert.equal(invalid.exitCode, 1);
    assert.match(invalid.stderr, /^bapi-curl: HTTP 200, but the body is not valid JSON/);
    noStackTrace(invalid.stderr);

    fake.fault({ kind: 'html', times: 10 });
    const html = await curl(['GET', '/users'], { CLERK_BAPI_MAX_RETRIES: '1' });
    assert.equal(html.exitCode, 1);
    assert.match(html.stderr, /HTTP 502 Bad Gateway: the body is text\/html, not JSON: 502 Bad Gateway/);
    assert.match(html.stdout, /<html>/);
  });

  it('a redirect to another host never carries the key', async () => {
    fake.fault({ kind: 'redirect' });
    const before = fake.otherHost.requests.length;
    const result = await curl(['GET', '/users', '-q', 'limit=1']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(fake.otherHost.requests.length, before + 1);
    assert.equal(fake.otherHost.requests.at(-1)!.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(result.stdout), { other_host: true, received_authorization: false });
  });

  it('an unreachable API: exit 5 with a clear line', async () => {
    const result = await curl(['GET', '/users'], { CLERK_API_URL: 'http://127.0.0.1:9', CLERK_BAPI_MAX_RETRIES: '0' });
    assert.equal(result.exitCode, 5);
    assert.match(result.stderr, /^bapi-curl: cannot connect to 127\.0\.0\.1:9: connection refused\n/);
    noStackTrace(result.stderr);
  });
});

describe('bapi-curl refuses unsafe targets before sending anything', () => {
  const cases: Array<[string, string[], Record<string, string>]> = [
    ['plain http to another host', ['GET', '/users'], { CLERK_API_URL: 'http://api.example.com' }],
    ['a PATH naming another host', ['GET', 'https://evil.example.com/v1/users'], {}],
    ['a protocol-relative PATH', ['GET', '//evil.example.com/v1/users'], {}],
    ['.. segments', ['GET', '/users/../organizations'], {}],
    ['encoded .. segments', ['GET', '/users/%2e%2e/organizations'], {}],
    ['control characters', ['GET', '/users/user_1\r\nX-Evil: 1'], {}],
    ['an Authorization header', ['GET', '/users', '-H', 'Authorization: Bearer other'], {}],
    ['an unknown flag', ['GET', '/users', '--frobnicate'], {}],
  ];
  for (const [name, args, extra] of cases) {
    it(`${name}: exit 2`, async () => {
      const { result, count } = await counting(() => curl(args, extra));
      assert.equal(result.exitCode, 2, result.stderr);
      assert.equal(count, 0);
      noStackTrace(result.stderr);
    });
  }
});

describe('bapi-curl keeps the key from child processes', () => {
  it('a native jq gets the filter in argv and the data on stdin, never the key', async () => {
    if (!existsSync('/usr/bin/jq')) return;
    const log = join(workDir, 'jq-spy.log');
    const spy = join(workDir, 'jq');
    writeFileSync(spy, `#!/bin/sh\n{ printf '%s\\n' "$@"; env; } > '${log}'\nexec /usr/bin/jq "$@"\n`);
    chmodSync(spy, 0o755);
    const result = await curl(['GET', '/users/count', '--jq', '.total_count'], { CLERK_BAPI_JQ: spy });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^\d+\n$/);
    const seen = readFileSync(log, 'utf8');
    assert.match(seen, /\.total_count/);
    assert.ok(!seen.includes(KEY), 'the key is not in the child argv or environment');
    assert.doesNotMatch(seen, /CLERK_/);
  });
});
