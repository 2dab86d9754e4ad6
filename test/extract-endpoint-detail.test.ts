import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { cleanEnv, runCli, SHARED_STORE, tempDir } from './helpers/run-cli.js';
import { PROJECT_DIR, sharedSpecText } from './helpers/spec-fixtures.js';
import { noStackTrace, withoutYaml } from './helpers/cli-assert.js';
import { randomBytes } from 'node:crypto';

const golden = (name: string) => JSON.parse(readFileSync(join(PROJECT_DIR, 'test', 'golden', name), 'utf8')) as Record<string, unknown>;

describe('extract-endpoint-detail', () => {
  let env: Record<string, string | undefined>;
  const detail = (args: string[], input?: string, extra: Record<string, string> = {}) =>
    runCli('extract-endpoint-detail', args, { env: { ...env, ...extra }, ...(input !== undefined ? { input } : {}) });
  before(async () => {
    // The goldens and the texts below are 2025-11-10's; other versions are named where a test uses them.
    env = cleanEnv({ CLERK_SPECS_DIR: SHARED_STORE, CLERK_API_VERSION: '2025-11-10' });
    await runCli('api-specs-context', [], { env });
  });

  it('--json prints the golden document, from the index alone', async () => {
    const result = await runCli('extract-endpoint-detail', ['POST', '/users', '--json'], { env: withoutYaml(env) });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), golden('post-users.json'));
    const upload = await detail(['post', '/users/{user_id}/profile_image', '--json']);
    assert.deepEqual(JSON.parse(upload.stdout), golden('post-users-user_id-profile_image.json'));
  });

  it('answers a repeated question from the store, and keeps no answers for concrete ids', async () => {
    const own = cleanEnv({ CLERK_SPECS_DIR: tempDir() });
    const first = await runCli('extract-endpoint-detail', ['GET', '/organizations/{organization_id}'], { env: own });
    assert.equal(first.exitCode, 0, first.stderr);
    // Without the detail index, and with yaml unloadable, only a kept answer can reply.
    const indexDir = join(own.CLERK_SPECS_DIR as string, 'index');
    const memoFiles = () => readdirSync(indexDir, { recursive: true }).filter((name) => String(name).includes('.memo/') && String(name).endsWith('.json')).length;
    assert.equal(memoFiles(), 2, 'the resolved endpoint and the answer');
    for (const name of readdirSync(indexDir)) if (name.endsWith('.detail.json')) rmSync(join(indexDir, name));
    const again = await runCli('extract-endpoint-detail', ['GET', '/organizations/{organization_id}'], { env: withoutYaml(own) });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    const before = memoFiles();
    for (const id of ['org_1', 'org_2', 'org_3']) {
      const concrete = await runCli('extract-endpoint-detail', ['GET', `/organizations/${id}`], { env: withoutYaml(own) });
      assert.equal(concrete.exitCode, 0, concrete.stderr);
      assert.match(concrete.stdout, new RegExp(`bapi-curl GET /organizations/${id} `));
    }
    assert.equal(memoFiles(), before);
  });

  it('matches either order, any case, /v1, a concrete path or a full URL', async () => {
    for (const args of [['PATCH', '/users/{user_id}'], ['/users/user_123', 'patch'], ['Patch', '/v1/users/user_123'], ['patch', 'https://api.clerk.com/v1/users/user_123?x=1']]) {
      const result = await detail([...args, '--json']);
      assert.equal(result.exitCode, 0, `${args.join(' ')}: ${result.stderr}`);
      const doc = JSON.parse(result.stdout);
      assert.equal(doc.operationId, 'UpdateUser', args.join(' '));
      assert.equal(doc.path, '/users/{user_id}');
    }
    const count = await detail(['GET', '/users/count', '--json']);
    assert.equal(JSON.parse(count.stdout).operationId, 'GetUsersCount');
    const concrete = await detail(['/users/user_123', 'GET']);
    assert.match(concrete.stdout, /^ {2}bapi-curl GET \/users\/user_123 --api-version 2025-11-10$/m);
  });

  it('reads the endpoint from stdin: a line of extract-tag-endpoints, or JSON', async () => {
    const listing = await runCli('extract-tag-endpoints', ['Users'], { env });
    const chosen = listing.stdout.split('\n').filter((l) => l.startsWith('GET\t/users/count\t')).join('\n');
    const piped = await detail(['--json'], `${chosen}\n`);
    assert.equal(piped.exitCode, 0, piped.stderr);
    assert.equal(JSON.parse(piped.stdout).operationId, 'GetUsersCount');
    const first = await detail(['--json'], listing.stdout);
    assert.equal(JSON.parse(first.stdout).path, listing.stdout.split('\t')[1]);
    const json = await detail(['-', '--json'], '{"method":"delete","path":"/v1/users/user_1"}');
    assert.equal(JSON.parse(json.stdout).operationId, 'DeleteUser');
    const ndjson = await runCli('extract-tag-endpoints', ['Users', '--ndjson', '--method', 'post'], { env });
    const fromNdjson = await detail(['--json'], ndjson.stdout);
    assert.equal(JSON.parse(fromNdjson.stdout).method, 'POST');
  });

  it('exits 2 without an endpoint, naming the closest ones for an unknown one', async () => {
    const missing = await detail([]);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /missing METHOD PATH/);
    // With --json the failure is data on stdout too: its stable code, and the closest endpoints.
    const json = await detail(['GET', '/userz/user_1', '--json']);
    assert.equal(json.exitCode, 2);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; exit_code: number; closest: Array<{ method: string; path: string }> } };
    assert.equal(error.code, 'not_found');
    assert.equal(error.exit_code, 2);
    assert.ok(error.closest.some((e) => e.method === 'GET' && e.path === '/users/{user_id}'));
    const unknown = await detail(['GET', '/userz/user_1']);
    assert.equal(unknown.exitCode, 2);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /no endpoint GET \/userz\/user_1 in spec version 2025-11-10/);
    assert.equal(unknown.stderr.split('\n').filter((l) => /^ {4}(GET|POST|PUT|PATCH|DELETE) \//.test(l)).length, 3);
    assert.match(unknown.stderr, /GET \/users\/\{user_id\}/);
    noStackTrace(unknown.stderr);
    const older = await detail(['GET', '/users/user_1/billing/subscription', '--api-version', '2021-02-05']);
    assert.equal(older.exitCode, 2);
    assert.match(older.stderr, /in spec version 2021-02-05/);
    const bad = await detail(['FETCH', '/users']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /unknown HTTP method: FETCH/);
  });

  it('prints readable text by default: field trees, responses and ready commands', async () => {
    const result = await detail(['POST', '/organizations']);
    assert.equal(result.exitCode, 0, result.stderr);
    const text = result.stdout;
    assert.match(text, /^POST \/organizations {2}CreateOrganization\n/);
    assert.match(text, /^Request body \(application\/json, optional\):$/m);
    assert.match(text, /^ {2}name {2}string {2}required$/m);
    assert.match(text, /^ {2}200 {2}\S.*Organization$/m);
    assert.match(text, /^ {2}bapi-curl POST \/organizations -d '\{"name":"<name>"\}' --api-version 2025-11-10$/m);
    assert.match(text, /-H "Authorization: Bearer \$CLERK_SECRET_KEY"/);
    assert.doesNotMatch(text, /\u001b\[/);
    const key = `sk_test_${randomBytes(20).toString('hex')}`;
    const keyed = await detail(['GET', '/users'], undefined, { CLERK_SECRET_KEY: key });
    assert.equal(keyed.exitCode, 0);
    assert.ok(!(keyed.stdout + keyed.stderr).includes(key.slice(8)), 'the key appears in the output');
  });

  it('--yaml prints the operation as written in the spec', async () => {
    const result = await detail(['DELETE', '/users/{user_id}', '--yaml']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^\/users\/\{user_id\}:\n {2}delete:\n/);
    assert.match(result.stdout, /operationId: DeleteUser/);
    assert.match(result.stdout, /\$ref: "?#\/components\/responses\//);
  });

  it('--diff tells what changes between versions', async () => {
    const path = '/users/{user_id}/billing/subscription';
    const text = await detail(['GET', path, '--api-version', '2025-04-10', '--diff', '2025-11-10']);
    assert.equal(text.exitCode, 0, text.stderr);
    assert.match(text.stdout, /^GET \/users\/\{user_id\}\/billing\/subscription: 2025-04-10 → 2025-11-10\n/);
    assert.match(text.stdout, /response 200 field subscription_items\[\]\.payment_source removed {2}\(breaking\)/);
    const json = await detail(['GET', path, '--api-version', '2025-04-10', '--diff', '2025-11-10', '--json']);
    const diff = JSON.parse(json.stdout);
    assert.equal(diff.status, 'changed');
    assert.equal(diff.from, '2025-04-10');
    assert.equal(diff.to, '2025-11-10');
    const added = await detail(['POST', '/users/user_1/password/set_compromised', '--api-version', '2025-04-10', '--diff', '2025-11-10', '--json']);
    assert.equal(added.exitCode, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).status, 'added');
    const same = await detail(['GET', '/users/{user_id}', '--diff', '2025-04-10']);
    assert.match(same.stdout, /no changes/);
  });

  it('takes the spec from stdin with --spec -, and refuses ambiguous stdin', async () => {
    const result = await detail(['GET', '/jwks', '--spec', '-', '--json'], sharedSpecText('2025-03-12'));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).method, 'GET');
    const both = await detail(['--spec', '-'], 'GET /jwks');
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /stdin cannot carry both/);
  });

  it('has --help with examples and refuses contradictory options', async () => {
    const help = await detail(['--help']);
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /^Usage: extract-endpoint-detail METHOD PATH/);
    assert.match(help.stdout, /\$cycle/);
    for (const args of [['GET', '/users', '--json', '--yaml'], ['GET', '/users', '--depth', 'x'], ['GET', '/users', '--diff', 'soon']]) {
      const bad = await detail(args);
      assert.equal(bad.exitCode, 2, args.join(' '));
      noStackTrace(bad.stderr);
    }
  });
});
