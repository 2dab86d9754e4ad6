import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { UnavailableError } from '../lib/core/errors.js';
import { gitBlobSha } from '../lib/spec/git-blob.js';
import { listLocal, versionFromFileName } from '../lib/spec/source.js';
import { LISTING_MAX_AGE_MS, SpecStore } from '../lib/spec/store.js';
import { startFakeGithub, type FakeGithub } from './helpers/fake-github.js';
import { tempDir } from './helpers/run-cli.js';
import { PROJECT_DIR, SHARED_SPECS_DIR, sharedVersions } from './helpers/spec-fixtures.js';

const listingFile = JSON.parse(readFileSync(join(SHARED_SPECS_DIR, 'github-contents-bapi.json'), 'utf8')) as Array<{ name: string; sha: string; path: string }>;

describe('spec sources', () => {
  it('names versions by their YYYY-MM-DD.yml files only', () => {
    assert.equal(versionFromFileName('2025-11-10.yml'), '2025-11-10');
    assert.equal(versionFromFileName('2025-11-10.yaml'), null);
    assert.equal(versionFromFileName('README.md'), null);
    assert.equal(versionFromFileName('x2025-11-10.yml'), null);
  });

  it('computes the same git blob shas as GitHub lists', () => {
    for (const entry of listingFile) {
      assert.equal(gitBlobSha(readFileSync(join(SHARED_SPECS_DIR, entry.path))), entry.sha, entry.name);
    }
  });

  it('lists a local checkout, oldest first, with the listing\'s shas', () => {
    const entries = listLocal({ dir: SHARED_SPECS_DIR });
    assert.deepEqual(entries.map((e) => e.version), sharedVersions());
    assert.deepEqual(entries.map((e) => e.sha), listingFile.map((e) => e.sha));
  });
});

describe('the store against a fake GitHub', () => {
  let github: FakeGithub;
  let dir: string;
  const warnings: string[] = [];
  let now = Date.parse('2026-11-26T12:00:00Z');

  function store(options: { offline?: boolean; refresh?: boolean; token?: string; timeoutMs?: number } = {}): SpecStore {
    return new SpecStore({
      dir,
      source: { kind: 'github', apiUrl: github.url, ...(options.token ? { token: options.token } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
      offline: options.offline ?? false,
      refresh: options.refresh ?? false,
      warn: (message) => warnings.push(message),
      now: () => now,
    });
  }

  before(async () => {
    github = await startFakeGithub();
  });
  after(async () => {
    await github.close();
  });
  beforeEach(() => {
    dir = tempDir('bapi-store-');
    github.requests.length = 0;
    github.faults = {};
    github.only = null;
    warnings.length = 0;
  });

  it('lists versions, picks the latest, downloads and indexes it once', async () => {
    const listing = await store().listing();
    assert.deepEqual(listing.entries.map((e) => e.version), sharedVersions());
    const latest = listing.entries.at(-1)!;
    const summary = await store().summary(latest);
    assert.equal(summary.version, sharedVersions().at(-1));
    assert.ok(summary.endpoints.length > 200);
    const downloads = () => github.requests.filter((r) => r.path.startsWith('/raw/')).length;
    assert.equal(downloads(), 1);
    // A second process: listing fresh, index present: nothing touches the network.
    const before = github.requests.length;
    const again = await store().listing();
    await store().summary(again.entries.at(-1)!);
    const detail = await store().detail(again.entries.at(-1)!);
    assert.ok(detail.endpoints['POST /users']);
    assert.equal(github.requests.length, before);
  });

  it('revalidates the listing after an hour with its ETag, and with --refresh at once', async () => {
    await store().listing();
    assert.equal(github.requests.length, 1);
    now += LISTING_MAX_AGE_MS - 1000;
    await store().listing();
    assert.equal(github.requests.length, 1);
    now += 2000;
    await store().listing();
    assert.equal(github.requests.length, 2);
    assert.ok(github.requests[1]?.ifNoneMatch, 'sent If-None-Match');
    await store({ refresh: true }).listing();
    assert.equal(github.requests.length, 3);
  });

  it('never downloads a version whose sha did not change, even after the listing changes', async () => {
    github.only = ['2025-04-10.yml'];
    const first = await store().listing();
    await store().summary(first.entries[0]!);
    github.only = null;
    const second = await store({ refresh: true }).listing();
    assert.equal(second.entries.length, sharedVersions().length);
    await store().summary(second.entries.find((e) => e.version === '2025-04-10')!);
    assert.equal(github.requests.filter((r) => r.path === '/raw/bapi/2025-04-10.yml').length, 1);
  });

  it('sends GITHUB_TOKEN to the API', async () => {
    await store({ token: 'ghp_test_token' }).listing();
    assert.equal(github.requests[0]?.authorization, 'Bearer ghp_test_token');
  });

  it('explains a rate limit and that GITHUB_TOKEN lifts it', async () => {
    github.faults.listing = 'rate-limit';
    await assert.rejects(store().listing(), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /rate limit/);
      assert.match(error.hints.join('\n'), /GITHUB_TOKEN/);
      return true;
    });
  });

  it('reports 404 and 5xx answers as unavailable', async () => {
    github.faults.listing = 'not-found';
    await assert.rejects(store().listing(), (error: unknown) => error instanceof UnavailableError && /404/.test(error.message));
    github.faults.listing = 'server-error';
    await assert.rejects(store().listing(), (error: unknown) => error instanceof UnavailableError && /502/.test(error.message));
  });

  it('refuses a truncated download and keeps nothing of it', async () => {
    const listing = await store().listing();
    github.faults.download = 'truncate';
    await assert.rejects(store().summary(listing.entries.at(-1)!), (error: unknown) => error instanceof UnavailableError && /does not match its listed sha/.test(error.message));
    assert.deepEqual(readdirSync(dir).filter((name) => name === 'specs' || name === 'index').flatMap((name) => readdirSync(join(dir, name))), []);
    github.faults.download = undefined;
    const summary = await store().summary(listing.entries.at(-1)!);
    assert.equal(summary.version, sharedVersions().at(-1));
  });

  it('a listing that never answers is given up after the timeout, in words; the cache is used when there is one', async () => {
    github.faults.listing = 'hang';
    const started = Date.now();
    await assert.rejects(store({ timeoutMs: 500 }).listing(), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /did not answer within 1 s for the list of spec versions/);
      assert.match(error.hints.join('\n'), /CLERK_SPECS_SOURCE/);
      return true;
    });
    assert.ok(Date.now() - started < 20_000, 'not the 30 s of undici\'s default');
    github.faults.listing = undefined;
    const listing = await store().listing();
    now += 2 * LISTING_MAX_AGE_MS;
    github.faults.listing = 'hang';
    const cached = await store({ timeoutMs: 500 }).listing();
    assert.equal(cached.entries.length, listing.entries.length);
    assert.match(warnings.at(-1)!, /did not answer within 1 s .*using the cached list of versions/);
    github.faults.listing = undefined;
  });

  it('falls back to the cached listing with one warning when GitHub is down', async () => {
    const listing = await store().listing();
    await store().summary(listing.entries.at(-1)!);
    now += 2 * LISTING_MAX_AGE_MS;
    github.faults.listing = 'reset';
    const cached = await store().listing();
    assert.equal(cached.entries.length, listing.entries.length);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /using the cached list of versions/);
  });

  it('offline: uses the cache without any request, or says what to do without one', async () => {
    const listing = await store().listing();
    await store().summary(listing.entries.at(-1)!);
    const count = github.requests.length;
    now += 10 * LISTING_MAX_AGE_MS;
    const offline = await store({ offline: true }).listing();
    await store({ offline: true }).summary(offline.entries.at(-1)!);
    assert.equal(github.requests.length, count);
    await assert.rejects(store({ offline: true }).summary(offline.entries[0]!), /not in the store and --offline/);
    dir = tempDir('bapi-store-empty-');
    await assert.rejects(store({ offline: true }).listing(), (error: unknown) => error instanceof UnavailableError && /CLERK_SPECS_SOURCE/.test(error.hints.join(' ')));
  });

  it('rebuilds a corrupted or truncated index instead of serving it', async () => {
    const listing = await store().listing();
    const entry = listing.entries.at(-1)!;
    const good = await store().summary(entry);
    const indexDir = join(dir, 'index');
    for (const name of readdirSync(indexDir)) {
      const path = join(indexDir, name);
      const text = readFileSync(path, 'utf8');
      // Flip one character inside the body, keeping it valid JSON where possible.
      writeFileSync(path, name.includes('summary') ? text.replace('"Users"', '"Userz"') : text.slice(0, text.length >> 1));
    }
    const rebuilt = await store().summary(entry);
    assert.deepEqual(rebuilt, good);
    const detail = await store().detail(entry);
    assert.ok(detail.endpoints['GET /users']);
  });

  it('memoises values derived from an index: computed once, read back by the next process, recomputed when damaged', async () => {
    const listing = await store().listing();
    const sha = listing.entries.at(-1)!.sha;
    let computed = 0;
    const compute = async () => ({ n: ++computed, nested: { list: [1, 'two', null] } });
    const first = await store().memo(sha, 'answer', compute);
    const second = await store().memo(sha, 'answer', compute);
    assert.deepEqual(second, first);
    assert.equal(computed, 1);
    assert.deepEqual(await store().memo(sha, 'another answer', compute), { n: 2, nested: { list: [1, 'two', null] } });
    const memoRoot = join(dir, 'index', readdirSync(join(dir, 'index')).find((name) => name.endsWith('.memo'))!);
    const builds = readdirSync(memoRoot);
    assert.equal(builds.length, 1, 'one directory for this build of the toolkit');
    const memoDir = join(memoRoot, builds[0]!);
    for (const name of readdirSync(memoDir)) {
      const path = join(memoDir, name);
      writeFileSync(path, readFileSync(path, 'utf8').replace('"two"', '"tow"'));
    }
    assert.equal((await store().memo(sha, 'answer', compute)).n, 3);
    // Answers of another build are unreadable: the first answer of this build removes those untouched
    // for a week, and leaves a recent one (another installed version may share the store).
    const stale = join(memoRoot, 'deadbeef');
    const recent = join(memoRoot, 'cafef00d');
    for (const other of [stale, recent]) {
      mkdirSync(other);
      writeFileSync(join(other, 'x.json'), '{}');
    }
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
    utimesSync(stale, eightDaysAgo, eightDaysAgo);
    rmSync(memoDir, { recursive: true });
    await store().memo(sha, 'answer', compute);
    assert.deepEqual(readdirSync(memoRoot).sort(), [...builds, 'cafef00d'].sort());
  });

  it('works in memory when the store cannot be written, with one warning', async (t) => {
    if (process.getuid?.() === 0) {
      // root ignores permissions: point the store below a file instead
      dir = join(tempDir('bapi-ro-'), 'file');
      writeFileSync(dir, '');
    } else {
      chmodSync(dir, 0o500);
      t.after(() => chmodSync(dir, 0o700));
    }
    const listing = await store().listing();
    const summary = await store().summary(listing.entries.at(-1)!);
    assert.equal(summary.version, sharedVersions().at(-1));
    assert.ok(warnings.length >= 1);
    assert.match(warnings[0]!, /cannot write the spec store/);
  });
});

describe('store checksums', () => {
  it('FNV-1a gives the published test values, and the WebAssembly hash equals a JavaScript one', async () => {
    const { fnv1a, checksum } = await import('../lib/spec/git-blob.js');
    assert.equal(fnv1a(Buffer.from('')), 0x811c9dc5);
    assert.equal(fnv1a(Buffer.from('a')), 0xe40c292c);
    assert.equal(fnv1a(Buffer.from('foobar')), 0xbf9cf968);
    assert.equal(checksum('foobar'), 'bf9cf968');
    // Larger than the module's first memory page, so it has to grow.
    const big = Buffer.alloc(200_000, 7);
    let js = 0x811c9dc5;
    for (const byte of big) js = Math.imul(js ^ byte, 0x01000193);
    assert.equal(fnv1a(big), js >>> 0);
  });

  it('falls back to JavaScript where WebAssembly is off (node --jitless)', async () => {
    const { execa } = await import('execa');
    const result = await execa(process.execPath, ['--jitless', '--import', 'tsx', '--input-type=module', '-e',
      "const m = await import('./lib/spec/git-blob.js'); process.stdout.write(`${typeof WebAssembly} ${m.checksum('foobar')}`);"], { cwd: PROJECT_DIR });
    assert.equal(result.stdout, 'undefined bf9cf968');
  });
});
