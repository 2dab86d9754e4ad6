// The spec snapshot shipped with the toolkit (lib/spec/snapshot.ts): it is exactly the version it
// names, and the store answers from it only when nothing better is there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gitBlobSha } from '../lib/spec/git-blob.js';
import { publishedShas } from '../lib/spec/published.js';
import { snapshotBytes, snapshotEntries, snapshotManifest } from '../lib/spec/snapshot.js';
import { startFakeGithub, type FakeGithub } from './helpers/fake-github.js';
import { cleanEnv, runCli, tempDir } from './helpers/run-cli.js';
import { SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

describe('the spec snapshot', () => {
  let github: FakeGithub;
  before(async () => {
    github = await startFakeGithub();
  });
  after(async () => {
    await github.close();
  });

  it('holds the latest published Backend API and webhooks versions, each exactly the file it names, with its license', () => {
    const manifest = snapshotManifest();
    assert.ok(manifest, 'specs/snapshot/snapshot.json is there (make snapshot)');
    assert.deepEqual(manifest.files.map((f) => f.family).sort(), ['bapi', 'webhooks']);
    for (const file of manifest.files) {
      const shared = readFileSync(join(SHARED_SPECS_DIR, file.name));
      assert.equal(gitBlobSha(shared), file.sha, `${file.name}: the snapshot names the shared file's sha`);
      assert.ok(publishedShas().has(file.sha), `${file.name} counts as published`);
    }
    const [entry] = snapshotEntries();
    assert.equal(gitBlobSha(snapshotBytes(entry!)), entry!.sha, 'the compressed file is the version it names');
    assert.match(readFileSync(join(manifest.dir, 'LICENSE'), 'utf8'), /Copyright \(c\) \d{4} Clerk/);
  });

  it('answers when GitHub is out of reach and nothing is cached; a reachable source wins over it', async () => {
    const offline = cleanEnv({ CLERK_SPECS_SOURCE: undefined, GITHUB_API_URL: 'http://127.0.0.1:9', CLERK_SPECS_DIR: tempDir('snapshot-store-') });
    const fromSnapshot = await runCli('api-specs-context', ['--json'], { env: offline });
    assert.equal(fromSnapshot.exitCode, 0, fromSnapshot.stderr);
    assert.equal(JSON.parse(fromSnapshot.stdout).source, 'snapshot');
    assert.equal(JSON.parse(fromSnapshot.stdout).latest, snapshotEntries().at(-1)!.version);
    const reachable = await runCli('api-specs-context', ['--json'], { env: cleanEnv({ CLERK_SPECS_SOURCE: undefined, GITHUB_API_URL: github.url, CLERK_SPECS_DIR: tempDir('snapshot-github-') }) });
    assert.equal(reachable.exitCode, 0, reachable.stderr);
    assert.notEqual(JSON.parse(reachable.stdout).source, 'snapshot');
    assert.doesNotMatch(reachable.stderr, /snapshot/);
    const local = await runCli('api-specs-context', ['--json'], { env: cleanEnv({ CLERK_SPECS_DIR: tempDir('snapshot-local-') }) });
    assert.equal(JSON.parse(local.stdout).source, SHARED_SPECS_DIR);
    // A local source that is missing is the user's mistake: said, not hidden behind the snapshot.
    const missing = await runCli('api-specs-context', [], { env: cleanEnv({ CLERK_SPECS_SOURCE: join(tempDir(), 'none'), CLERK_SPECS_DIR: tempDir('snapshot-missing-') }) });
    assert.equal(missing.exitCode, 5);
  });
});
