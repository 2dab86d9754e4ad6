import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeGithub, type FakeGithub } from './helpers/fake-github.js';
import { cleanEnv, runCli, tempDir } from './helpers/run-cli.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';
import { tagCounts } from '../lib/spec/index.js';
import { noStackTrace } from './helpers/cli-assert.js';

const versions = sharedVersions();
const latest = versions.at(-1)!;

describe('api-specs-context', () => {
  it('prints versions, the latest, and the tags with their endpoint counts', async () => {
    const result = await runCli('api-specs-context', [], { env: cleanEnv({ CLERK_SPECS_DIR: tempDir() }) });
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], `AVAILABLE VERSIONS: ${versions.join(', ')}`);
    assert.equal(lines[1], `LATEST VERSION: ${latest}`);
    assert.equal(lines[2], '');
    assert.match(lines[3]!, /^TAGS:/);
    const expected = tagCounts(sharedIndex(latest).summary, false);
    assert.deepEqual(lines.slice(4, -1), expected.map((t) => `  - ${t.name} (${t.endpoints})`));
    assert.ok(lines.includes('  - Users (' + expected.find((t) => t.name === 'Users')!.endpoints + ')'));
    assert.doesNotMatch(result.stdout, /\u001b\[/, 'no colour when piped');
  });

  it('--json follows the contract', async () => {
    const result = await runCli('api-specs-context', ['--json'], { env: cleanEnv({ CLERK_SPECS_DIR: tempDir() }) });
    assert.equal(result.exitCode, 0, result.stderr);
    const doc = JSON.parse(result.stdout);
    assert.equal(doc.api, 'bapi');
    assert.deepEqual(doc.versions, versions);
    assert.equal(doc.latest, latest);
    assert.equal(doc.selected, latest);
    assert.equal(typeof doc.source, 'string');
    assert.equal(doc.endpoints, sharedIndex(latest).summary.endpoints.filter((e) => !e.platform).length);
    const users = doc.tags.find((t: { name: string }) => t.name === 'Users');
    assert.deepEqual(Object.keys(users).sort(), ['description', 'endpoints', 'name']);
  });

  it('pins a version and says so; an unknown one exits 2 naming the available ones', async () => {
    const env = cleanEnv({ CLERK_SPECS_DIR: tempDir() });
    const pinned = await runCli('api-specs-context', ['--api-version', '2025-04-10.yml'], { env });
    assert.equal(pinned.exitCode, 0, pinned.stderr);
    assert.match(pinned.stdout, /^SELECTED VERSION: 2025-04-10 \(pinned by --api-version\)$/m);
    const byEnv = await runCli('api-specs-context', ['--json'], { env: { ...env, CLERK_API_VERSION: '2024-10-01' } });
    assert.equal(JSON.parse(byEnv.stdout).selected, '2024-10-01');
    const unknown = await runCli('api-specs-context', ['--api-version', '2030-01-01'], { env });
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown spec version 2030-01-01/);
    assert.match(unknown.stderr, new RegExp(versions.join(', ')));
    const malformed = await runCli('api-specs-context', ['--api-version', 'yesterday'], { env });
    assert.equal(malformed.exitCode, 2);
    noStackTrace(malformed.stderr);
    // `latest` is what no version means.
    const latestByName = await runCli('api-specs-context', ['--api-version', 'latest', '--json'], { env });
    assert.equal(latestByName.exitCode, 0, latestByName.stderr);
    assert.equal(JSON.parse(latestByName.stdout).selected, latest);
  });

  it('--shell prints export lines that a shell can eval', async () => {
    const env = cleanEnv({ CLERK_SPECS_DIR: tempDir(), CLERK_API_VERSION: '2025-04-10' });
    const result = await runCli('api-specs-context', ['--shell'], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    const { execa } = await import('execa');
    const evaluated = await execa('bash', ['-c', `${result.stdout}\nprintf '%s|%s|%s' "$CLERK_API_VERSION" "$CLERK_API_VERSIONS" "$CLERK_API_LATEST_VERSION"`]);
    assert.equal(evaluated.stdout, `2025-04-10|${versions.join(' ')}|${latest}`);
    const both = await runCli('api-specs-context', ['--shell', '--json'], { env });
    assert.equal(both.exitCode, 2);
  });

  it('--help, --version, and unknown flags', async () => {
    const help = await runCli('api-specs-context', ['--help']);
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /^Usage: api-specs-context/);
    assert.match(help.stdout, /Exit codes:/);
    const version = await runCli('api-specs-context', ['-V']);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const bad = await runCli('api-specs-context', ['--jsno']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /unknown option: --jsno/);
    noStackTrace(bad.stderr);
  });

  it('reads a spec file with --spec, bypassing the store', async () => {
    const dir = tempDir();
    const file = join(sharedVersions().length ? '../shared/clerk-openapi-specs/bapi' : '', '2025-03-12.yml');
    const result = await runCli('api-specs-context', ['--spec', file, '--json'], { env: cleanEnv({ CLERK_SPECS_DIR: dir, CLERK_SPECS_SOURCE: '/nonexistent' }) });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).selected, '2025-03-12');
    const missing = await runCli('api-specs-context', ['--spec', 'nope.yml']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /cannot read --spec nope.yml/);
  });

  describe('against a fake GitHub', () => {
    let github: FakeGithub;
    before(async () => {
      github = await startFakeGithub();
    });
    after(async () => {
      await github.close();
    });
    const env = (dir: string, extra: Record<string, string> = {}) =>
      cleanEnv({ CLERK_SPECS_SOURCE: undefined, GITHUB_API_URL: github.url, CLERK_SPECS_DIR: dir, ...extra });

    it('eight processes on an empty store agree and download the spec once', async () => {
      const dir = tempDir();
      github.requests.length = 0;
      const results = await Promise.all(Array.from({ length: 8 }, () => runCli('api-specs-context', ['--json'], { env: env(dir) })));
      for (const result of results) {
        assert.equal(result.exitCode, 0, result.stderr);
        assert.equal(result.stdout, results[0]!.stdout);
      }
      assert.equal(github.requests.filter((r) => r.path.startsWith('/raw/')).length, 1);
      assert.deepEqual(readdirSync(join(dir, 'locks')), []);
      assert.ok(readdirSync(join(dir, 'index')).every((name) => !name.endsWith('.tmp')));
    });

    it('offline: the snapshot on an empty store, saying how to get more; the store from a filled one; no request either way', async () => {
      const before = github.requests.length;
      const empty = await runCli('api-specs-context', ['--offline', '--json'], { env: env(tempDir()) });
      assert.equal(empty.exitCode, 0, empty.stderr);
      assert.equal(JSON.parse(empty.stdout).source, 'snapshot');
      assert.match(empty.stderr, /--offline was given and nothing is cached for this source; using the spec snapshot .*CLERK_SPECS_SOURCE/);
      assert.equal(github.requests.length, before);
      noStackTrace(empty.stderr);
      const dir = tempDir();
      assert.equal((await runCli('api-specs-context', [], { env: env(dir) })).exitCode, 0);
      const count = github.requests.length;
      const offline = await runCli('api-specs-context', ['--offline'], { env: env(dir) });
      assert.equal(offline.exitCode, 0, offline.stderr);
      assert.equal(github.requests.length, count);
    });

    it('GitHub unreachable: a one-line warning with a cache; without one, the snapshot, saying why', async () => {
      const dir = tempDir();
      assert.equal((await runCli('api-specs-context', [], { env: env(dir) })).exitCode, 0);
      github.faults.listing = 'server-error';
      try {
        const cached = await runCli('api-specs-context', ['--refresh'], { env: env(dir) });
        assert.equal(cached.exitCode, 0);
        assert.equal(cached.stderr.trim().split('\n').length, 1);
        assert.match(cached.stderr, /^warning: GitHub answered HTTP 502/);
        const none = await runCli('api-specs-context', ['--json'], { env: env(tempDir()) });
        assert.equal(none.exitCode, 0, none.stderr);
        assert.equal(JSON.parse(none.stdout).source, 'snapshot');
        assert.equal(none.stderr.trim().split('\n').length, 1);
        assert.match(none.stderr, /^warning: GitHub answered HTTP 502.*; using the spec snapshot shipped with clerk-bapi-toolkit/);
      } finally {
        github.faults.listing = undefined;
      }
    });

    it('rate limited: GITHUB_TOKEN named, and the snapshot answers meanwhile', async () => {
      github.faults.listing = 'rate-limit';
      try {
        const result = await runCli('api-specs-context', [], { env: env(tempDir()) });
        assert.equal(result.exitCode, 0, result.stderr);
        assert.match(result.stderr, /snapshot/);
        assert.match(result.stderr, /rate limit/);
        assert.match(result.stderr, /GITHUB_TOKEN/);
      } finally {
        github.faults.listing = undefined;
      }
    });
  });
});
