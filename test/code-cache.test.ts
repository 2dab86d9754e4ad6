// The V8 code-cache loader of the commands whose start-up is a target (tools/code-cache.ts): the cache
// is written once per command and build, used by later runs, made again when damaged, off with
// CLERK_BAPI_CODE_CACHE=0, and another build's cache is left alone unless no run has written it for a
// week; a command whose first argument chooses what it does keeps a cache per mode. Each case runs
// the built command, whose answer must not change.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runCli, SHARED_STORE, tempDir } from './helpers/run-cli.js';
import { SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

describe('code cache', () => {
  it('is written once per build, reused, rewritten when damaged, off on request; an old build of the command is cleared after a week', async () => {
    const home = tempDir('code-cache-');
    const cacheDir = join(home, 'cache', 'clerk-bapi', 'v8');
    const env = cleanEnv({ XDG_CACHE_HOME: join(home, 'cache'), CLERK_SPECS_DIR: SHARED_STORE });
    const tags = async (extra: Record<string, string> = {}) => {
      const result = await runCli('extract-tags', [], { env: { ...env, ...extra } });
      assert.equal(result.exitCode, 0, result.stderr);
      return result.stdout;
    };
    const cacheFiles = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => name.startsWith('extract-tags-')) : []);

    const off = await tags({ CLERK_BAPI_CODE_CACHE: '0' });
    assert.deepEqual(cacheFiles(), [], 'CLERK_BAPI_CODE_CACHE=0 writes nothing');

    // Another build's caches: one a run wrote yesterday, one no run has written for two weeks.
    mkdirSync(cacheDir, { recursive: true });
    const recent = join(cacheDir, `extract-tags-000000000000-${process.version}-${process.arch}.cache`);
    const stale = join(cacheDir, `extract-tags-111111111111-${process.version}-${process.arch}.cache`);
    const otherCommand = join(cacheDir, `bapi-curl-222222222222-${process.version}-${process.arch}.cache`);
    for (const file of [recent, stale, otherCommand]) writeFileSync(file, 'another build');
    const twoWeeks = (Date.now() - 14 * 24 * 3600 * 1000) / 1000;
    utimesSync(stale, twoWeeks, twoWeeks);
    utimesSync(otherCommand, twoWeeks, twoWeeks);

    assert.equal(await tags(), off);
    const written = cacheFiles().filter((name) => !name.startsWith('extract-tags-000000000000-'));
    assert.equal(written.length, 1, `one cache for this build: ${cacheFiles().join(', ')}`);
    assert.match(written[0]!, new RegExp(`^extract-tags-[0-9a-f]{12}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.cache$`));
    assert.ok(existsSync(recent), "another build's recent cache stays");
    assert.ok(!existsSync(stale), "another build's cache unwritten for a week goes");
    assert.ok(existsSync(otherCommand), "another command's cache is not this command's to clear");
    const ours = join(cacheDir, written[0]!);
    assert.equal((statSync(ours).mode & 0o777).toString(8), '600');

    // Reused: a later run does not write it again.
    const before = statSync(ours).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await tags(), off);
    assert.equal(statSync(ours).mtimeMs, before);

    // Damaged: V8 rejects it, the command still answers, and the cache is made again.
    writeFileSync(ours, 'not a cache');
    assert.equal(await tags(), off);
    assert.ok(statSync(ours).size > 1000, 'rewritten');
  });

  it("keeps a cache per mode: a run of one mode neither writes nor takes another's", async () => {
    const home = tempDir('code-cache-modes-');
    const cacheDir = join(home, 'cache', 'clerk-bapi', 'v8');
    const env = cleanEnv({ XDG_CACHE_HOME: join(home, 'cache'), CLERK_SPECS_DIR: join(home, 'store'), CLERK_SPECS_SOURCE: SHARED_SPECS_DIR });
    const webhooks = async (args: string[]) => {
      const result = await runCli('bapi-webhooks', args, { env });
      assert.equal(result.exitCode, 0, result.stderr);
      return result.stdout;
    };
    const written = () => new Map(readdirSync(cacheDir).map((name) => [name, statSync(join(cacheDir, name)).mtimeMs]));
    const listed = await webhooks(['events']);
    await webhooks(['--version']);
    const first = written();
    const names = [...first.keys()].sort();
    assert.equal(names.length, 2, names.join(', '));
    assert.match(names[0]!, /^bapi-webhooks-[0-9a-f]{12}-events-v[\d.]+-\w+\.cache$/);
    assert.match(names[1]!, /^bapi-webhooks-[0-9a-f]{12}-v[\d.]+-\w+\.cache$/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await webhooks(['events']), listed);
    await webhooks(['--version']);
    assert.deepEqual(written(), first, 'each run found its own cache and wrote none');
  });
});
