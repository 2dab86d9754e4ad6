import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { cleanEnv, runCli, SHARED_STORE } from './helpers/run-cli.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';
import type { EndpointSummary } from '../lib/spec/index.js';
import { noStackTrace, withoutYaml } from './helpers/cli-assert.js';

const latest = sharedVersions().at(-1)!;
const visible = (version = latest) => sharedIndex(version).summary.endpoints.filter((e) => !e.platform);
const line = (e: EndpointSummary) => [e.method, e.path, e.operationId ?? '-', `${e.deprecated ? '[deprecated] ' : ''}${e.summary.split('\n')[0]}`].join('\t');

describe('extract-tag-endpoints', () => {
  let env: Record<string, string | undefined>;
  before(async () => {
    env = cleanEnv({ CLERK_SPECS_DIR: SHARED_STORE });
    await runCli('api-specs-context', [], { env });
  });

  it('prints METHOD⇥PATH⇥operationId⇥summary for a tag, case-insensitive, from the index', async () => {
    const result = await runCli('extract-tag-endpoints', ['users'], { env: withoutYaml(env) });
    assert.equal(result.exitCode, 0, result.stderr);
    const expected = visible().filter((e) => e.tags.includes('Users')).map(line);
    assert.ok(expected.length > 20);
    assert.deepEqual(result.stdout.split('\n').slice(0, -1), expected);
    const spaced = await runCli('extract-tag-endpoints', ['email', 'addresses'], { env });
    assert.deepEqual(spaced.stdout.split('\n').slice(0, -1), visible().filter((e) => e.tags.includes('Email Addresses')).map(line));
  });

  it('lists every endpoint without TAG', async () => {
    const result = await runCli('extract-tag-endpoints', ['--api-version', '2021-02-05'], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n').slice(0, -1), visible('2021-02-05').map(line));
  });

  it('filters with --grep (every word, any field) and --method', async () => {
    const result = await runCli('extract-tag-endpoints', ['--grep', 'METADATA user', '--method', 'patch,put', '--json'], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    const endpoints = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    const expected = visible().filter((e) => ['PATCH', 'PUT'].includes(e.method) && /metadata/i.test(`${e.path} ${e.summary} ${e.operationId}`) && /user/i.test(`${e.path} ${e.summary} ${e.operationId} ${e.tags}`));
    assert.deepEqual(endpoints.map((e) => `${e.method} ${e.path}`), expected.map((e) => `${e.method} ${e.path}`));
    assert.ok(endpoints.some((e) => e.method === 'PATCH' && e.path === '/users/{user_id}/metadata'));
    assert.deepEqual(Object.keys(endpoints[0]!), ['method', 'path', 'operationId', 'summary', 'tags', 'deprecated']);
    const byOperation = await runCli('extract-tag-endpoints', ['Users', '--grep', 'getuserscount', '--ndjson'], { env });
    assert.deepEqual(byOperation.stdout.trim().split('\n').map((l) => JSON.parse(l).path), ['/users/count']);
    const none = await runCli('extract-tag-endpoints', ['JWKS', '--method', 'DELETE'], { env });
    assert.equal(none.exitCode, 0);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no endpoints of tag JWKS match/);
    const badMethod = await runCli('extract-tag-endpoints', ['--method', 'FETCH'], { env });
    assert.equal(badMethod.exitCode, 2);
  });

  it('exits 2 on an unknown tag and names the closest ones', async () => {
    const result = await runCli('extract-tag-endpoints', ['Userz'], { env });
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`unknown tag "Userz" in spec version ${latest}`));
    assert.match(result.stderr, /Closest tags: Users/);
    noStackTrace(result.stderr);
  });

  it('reads the tag from stdin with TAG -, as in extract-tags | fzf | extract-tag-endpoints -', async () => {
    const tags = await runCli('extract-tags', [], { env });
    const chosen = tags.stdout.split('\n').find((l) => l.startsWith('Sessions\t'))!;
    const result = await runCli('extract-tag-endpoints', ['-'], { env, input: `${chosen}\n` });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n').slice(0, -1), visible().filter((e) => e.tags.includes('Sessions')).map(line));
    const empty = await runCli('extract-tag-endpoints', ['-'], { env });
    assert.equal(empty.exitCode, 2);
  });

  it('has --help with examples', async () => {
    const help = await runCli('extract-tag-endpoints', ['-h'], { env });
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /^Usage: extract-tag-endpoints \[TAG\]/);
    assert.match(help.stdout, /fzf/);
  });
});
