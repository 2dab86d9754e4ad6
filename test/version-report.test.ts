// The version report (extract-tag-endpoints --diff VERSION) against a newer spec made from a
// shared one: every added endpoint listed, PATCH /users/{user_id} breaking when metadata leaves its
// body, and one change of each kind a caller depends on, each reported and classified.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { cleanEnv, runCli, tempDir } from './helpers/run-cli.js';
import { SHARED_BAPI_DIR } from './helpers/spec-fixtures.js';

// The newer spec is synthetic: made from 2025-11-10 (the last version whose PATCH /users/{user_id}
// takes metadata) and named so that it can never be a version Clerk publishes.
const BASE = '2025-11-10';
const NEWER = '2999-01-01';
let env: Record<string, string | undefined>;

// A parsed spec is walked by name here; its shape is the spec's, not ours.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

before(() => {
  const source = tempDir('report-source-');
  mkdirSync(join(source, 'bapi'));
  for (const name of readdirSync(SHARED_BAPI_DIR)) if (name.endsWith('.yml')) copyFileSync(join(SHARED_BAPI_DIR, name), join(source, 'bapi', name));
  const spec = parse(readFileSync(join(SHARED_BAPI_DIR, `${BASE}.yml`), 'utf8')) as Obj;
  const createUser = spec.paths['/users'].post.requestBody.content['application/json'].schema.properties as Obj;
  createUser.email_address_identification_status.items.enum = ['verified'];
  createUser.first_name.format = 'email';
  createUser.skip_password_checks.default = true;
  createUser.create_organizations_limit.maximum = 5;
  createUser.password.maxLength = 72;
  createUser.username.pattern = '^[a-z]+$';
  createUser.public_metadata.additionalProperties = false;
  const updateUser = spec.paths['/users/{user_id}'].patch.requestBody.content['application/json'].schema.properties as Obj;
  for (const field of ['public_metadata', 'private_metadata', 'unsafe_metadata']) delete updateUser[field];
  spec.paths['/widgets'] = { get: { operationId: 'ListWidgets', summary: 'List widgets', tags: ['Users'], responses: { 200: { description: 'ok' } } } };
  // JSON is YAML too: the store reads it as it would the real file.
  writeFileSync(join(source, 'bapi', `${NEWER}.yml`), JSON.stringify(spec));
  env = cleanEnv({ CLERK_SPECS_SOURCE: source, CLERK_SPECS_DIR: tempDir('report-store-') });
});

describe('the version report', () => {
  it(`lists every endpoint added from ${BASE} to a newer spec, and marks PATCH /users/{user_id} breaking`, async () => {
    const result = await runCli('extract-tag-endpoints', ['--api-version', BASE, '--diff', NEWER], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => line.split('\t'));
    assert.ok(lines.every((fields) => fields.length === 5 && ['added', 'removed', 'changed'].includes(fields[0]!) && ['breaking', '-'].includes(fields[3]!)));
    assert.deepEqual(lines.filter((f) => f[0] === 'added').map((f) => `${f[1]} ${f[2]}`), ['GET /widgets']);
    const patch = lines.find((f) => f[1] === 'PATCH' && f[2] === '/users/{user_id}');
    assert.ok(patch, result.stdout);
    assert.equal(patch[3], 'breaking');
    assert.match(patch[4]!, /public_metadata removed/);
    const breaking = await runCli('extract-tag-endpoints', ['Users', '--api-version', BASE, '--diff', 'latest', '--breaking-only', '--json'], { env });
    const report = JSON.parse(breaking.stdout);
    assert.equal(report.from, BASE);
    assert.equal(report.to, NEWER);
    assert.ok(report.endpoints.length > 0 && report.endpoints.every((e: { breaking: boolean }) => e.breaking));
    assert.ok(!report.endpoints.some((e: { path: string }) => e.path === '/widgets'), 'an added endpoint breaks nothing');
  });

  it('reports each kind of change a caller depends on, breaking where it tightens what may be sent', async () => {
    const result = await runCli('extract-tag-endpoints', ['--api-version', BASE, '--diff', NEWER, '--json'], { env });
    const report = JSON.parse(result.stdout);
    const createUser = report.endpoints.find((e: { method: string; path: string }) => e.method === 'POST' && e.path === '/users');
    assert.ok(createUser, 'POST /users changed');
    const change = (name: string, aspect: string) => createUser.changes.find((c: { name: string; aspect?: string }) => c.name === name && c.aspect === aspect);
    for (const [name, aspect] of [
      ['email_address_identification_status', 'items enum'],
      ['first_name', 'format'],
      ['skip_password_checks', 'default'],
      ['create_organizations_limit', 'maximum'],
      ['password', 'maxLength'],
      ['username', 'pattern'],
      ['public_metadata', 'additionalProperties'],
    ]) {
      const found = change(name!, aspect!);
      assert.ok(found, `${name} ${aspect} is reported: ${JSON.stringify(createUser.changes.map((c: { message: string }) => c.message))}`);
      assert.equal(found.breaking, true, `${name} ${aspect} is breaking`);
    }
    assert.equal(createUser.breaking, true);
  });

  it('api-specs-context names the report when a newer version than the pinned one exists', async () => {
    const result = await runCli('api-specs-context', ['--api-version', BASE], { env });
    assert.match(result.stdout, new RegExp(`^NEWER VERSION: ${NEWER}: see what changes with extract-tag-endpoints --api-version ${BASE} --diff ${NEWER}$`, 'm'));
  });

  it('advice follows the version: where the body may not carry metadata, nothing is reported as replaced', async () => {
    const key = `sk_test_${'a1'.repeat(16)}`;
    const result = await runCli('bapi-guard', ['PATCH', '/users/user_1', '-d', '{"public_metadata":{}}', '--json', '--api-version', NEWER], { env: { ...env, CLERK_SECRET_KEY: key, CLERK_BAPI_SCOPES: 'write' } });
    assert.equal(result.exitCode, 2, result.stderr);
    const verdict = JSON.parse(result.stdout);
    assert.deepEqual(verdict.destroys, []);
    assert.equal(verdict.metadata, null);
    assert.doesNotMatch(result.stderr, /REPLACED|IRREVERSIBLE/);
    assert.ok(verdict.problems.some((p: { path: string }) => p.path === '$.public_metadata'));
  });

  it('is kept: the same report again is one read of the store', async () => {
    const first = await runCli('extract-tag-endpoints', ['--api-version', BASE, '--diff', NEWER], { env });
    const again = await runCli('extract-tag-endpoints', ['--api-version', BASE, '--diff', NEWER], { env });
    assert.equal(again.stdout, first.stdout);
  });
});
