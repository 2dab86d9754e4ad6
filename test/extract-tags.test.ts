import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { cleanEnv, runCli, SHARED_STORE } from './helpers/run-cli.js';
import { SHARED_BAPI_DIR, sharedIndex, sharedSpecText, sharedVersions } from './helpers/spec-fixtures.js';
import { tagCounts } from '../lib/spec/index.js';
import { noStackTrace, withoutYaml } from './helpers/cli-assert.js';

const latest = sharedVersions().at(-1)!;

function expectedLines(version: string): string[] {
  return tagCounts(sharedIndex(version).summary, false).map((t) => [t.name, String(t.endpoints), t.description.split('\n')[0]!.trim()].join('\t'));
}

describe('extract-tags', () => {
  let env: Record<string, string | undefined>;
  before(() => {
    env = cleanEnv({ CLERK_SPECS_DIR: SHARED_STORE });
  });

  it('prints NAME⇥COUNT⇥DESCRIPTION for the latest version, three fields a line', async () => {
    const result = await runCli('extract-tags', [], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.split('\n').slice(0, -1);
    assert.deepEqual(lines, expectedLines(latest));
    for (const line of lines) assert.equal(line.split('\t').length, 3, line);
    assert.ok(lines.some((line) => line.split('\t')[0] === 'Users'));
    assert.doesNotMatch(result.stdout, /\u001b\[/);
  });

  it('answers from the index once warm, without loading yaml', async () => {
    await runCli('extract-tags', [], { env });
    const result = await runCli('extract-tags', ['--json'], { env: withoutYaml(env) });
    assert.equal(result.exitCode, 0, result.stderr);
  });

  it('--json and --ndjson follow the contract', async () => {
    const json = await runCli('extract-tags', ['--json', '--api-version', '2025-04-10'], { env });
    assert.equal(json.exitCode, 0, json.stderr);
    const tags = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(tags, tagCounts(sharedIndex('2025-04-10').summary, false).map((t) => ({ name: t.name, description: t.description, endpoints: t.endpoints })));
    const ndjson = await runCli('extract-tags', ['--ndjson', '--api-version', '2025-04-10'], { env });
    assert.deepEqual(ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line)), tags);
    const both = await runCli('extract-tags', ['--json', '--ndjson'], { env });
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /cannot be combined/);
  });

  it('reads a spec piped on stdin, and a --spec file', async () => {
    const piped = await runCli('extract-tags', [], { env, input: sharedSpecText('2024-10-01') });
    assert.equal(piped.exitCode, 0, piped.stderr);
    assert.deepEqual(piped.stdout.split('\n').slice(0, -1), expectedLines('2024-10-01'));
    const file = await runCli('extract-tags', ['--spec', join(SHARED_BAPI_DIR, '2025-03-12.yml')], { env });
    assert.equal(file.exitCode, 0, file.stderr);
    assert.deepEqual(file.stdout.split('\n').slice(0, -1), expectedLines('2025-03-12'));
    const notSpec = await runCli('extract-tags', [], { env, input: 'hello: world\n' });
    assert.equal(notSpec.exitCode, 2);
    noStackTrace(notSpec.stderr);
  });

  it('has --help, --version, and refuses unknown options and arguments with exit 2', async () => {
    const help = await runCli('extract-tags', ['--help'], { env });
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /^Usage: extract-tags/);
    assert.match(help.stdout, /Examples:\n( {2}.+\n){3,}/);
    const version = await runCli('extract-tags', ['-V'], { env });
    assert.equal(version.exitCode, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    for (const args of [['--bogus'], ['Users'], ['--api-version', 'nope']]) {
      const bad = await runCli('extract-tags', args, { env });
      assert.equal(bad.exitCode, 2, args.join(' '));
      assert.equal(bad.stdout, '');
      noStackTrace(bad.stderr);
    }
  });
});
