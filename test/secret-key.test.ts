import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { describeSecretKey, envSearchDirs, findSecretKey, keyFingerprint, maskKey, parseDotenv } from '../lib/guard/key.js';

// Keys are generated per run: no realistic key literal is ever committed.
function makeKey(kind: 'test' | 'live' = 'test'): string {
  return `sk_${kind}_${randomBytes(20).toString('hex')}`;
}

function tree(): { root: string; repo: string; deep: string; home: string } {
  const root = mkdtempSync(join(tmpdir(), 'guard-key-'));
  const home = join(root, 'home');
  const repo = join(home, 'src', 'app');
  const deep = join(repo, 'packages', 'api');
  mkdirSync(deep, { recursive: true });
  mkdirSync(join(repo, '.git'));
  return { root, repo, deep, home };
}

describe('secret key', () => {
  test('the environment wins and is named as the source', () => {
    const key = makeKey();
    const { deep, home } = tree();
    const found = findSecretKey({ CLERK_SECRET_KEY: key, HOME: home }, deep);
    assert.equal(found.value, key);
    assert.equal(found.info.source, 'CLERK_SECRET_KEY');
    assert.equal(found.info.kind, 'test');
    assert.equal(found.info.wellFormed, true);
  });

  test('.env.local then .env walking up (as Next.js loads them); the file that supplied it is named', () => {
    const { repo, deep, home } = tree();
    const fromEnv = makeKey();
    const fromLocal = makeKey('live');
    writeFileSync(join(repo, '.env.local'), `CLERK_SECRET_KEY=${fromLocal}\n`);
    let found = findSecretKey({ HOME: home }, deep);
    assert.equal(found.value, fromLocal);
    assert.equal(found.info.source, join(repo, '.env.local'));
    assert.equal(found.info.kind, 'live');
    writeFileSync(join(repo, '.env'), `# comment\nexport OTHER=1\nCLERK_SECRET_KEY="${fromEnv}" # trailing\n`);
    found = findSecretKey({ HOME: home }, deep);
    assert.equal(found.value, fromLocal, '.env.local beats .env in the same directory');
    assert.equal(found.info.source, join(repo, '.env.local'));
    rmSync(join(repo, '.env.local'));
    found = findSecretKey({ HOME: home }, deep);
    assert.equal(found.value, fromEnv);
    assert.equal(found.info.source, join(repo, '.env'));
    // A nearer directory beats the repository root.
    const nearer = makeKey();
    writeFileSync(join(deep, '.env.local'), `CLERK_SECRET_KEY='${nearer}'\n`);
    assert.equal(findSecretKey({ HOME: home }, deep).value, nearer);
  });

  test('the walk stops at the repository root and at $HOME', () => {
    const { root, repo, deep, home } = tree();
    writeFileSync(join(home, '.env'), `CLERK_SECRET_KEY=${makeKey()}\n`);
    // home/.env is above the repository root (repo has .git): not read.
    assert.equal(findSecretKey({ HOME: home }, deep).info.present, false);
    assert.deepEqual(envSearchDirs(deep, home), [deep, join(repo, 'packages'), repo]);
    // Outside any repository the walk goes up to $HOME, inclusive, and no further.
    const outside = join(home, 'notes', 'x');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(root, '.env'), `CLERK_SECRET_KEY=${makeKey()}\n`);
    assert.deepEqual(envSearchDirs(outside, home), [outside, join(home, 'notes'), home]);
    assert.equal(findSecretKey({ HOME: home }, outside).info.source, join(home, '.env'));
  });

  test('missing and malformed keys are explained without echoing them', () => {
    const { deep, home } = tree();
    const missing = findSecretKey({ HOME: home }, deep);
    assert.equal(missing.value, null);
    assert.match(missing.info.problem ?? '', /CLERK_SECRET_KEY is not set/);
    for (const bad of [`pk_test_${randomBytes(20).toString('hex')}`, `sk_prod_${randomBytes(20).toString('hex')}`, 'sk_test_short', `sk_test_${randomBytes(20).toString('hex')}!`]) {
      const found = describeSecretKey(bad);
      assert.equal(found.value, null, bad.slice(0, 8));
      assert.equal(found.info.wellFormed, false);
      assert.equal(found.info.masked, null);
      assert.equal(found.info.fingerprint, null);
      assert.ok(!(found.info.problem ?? '').includes(bad.slice(8)), 'the problem must not echo the value');
    }
    assert.match(describeSecretKey(`pk_test_${randomBytes(20).toString('hex')}`).info.problem ?? '', /publishable key/);
  });

  test('masked to prefix and last 4; the fingerprint is a hash, never the key', () => {
    const key = makeKey('live');
    assert.equal(maskKey(key), `sk_live_…${key.slice(-4)}`);
    const fingerprint = keyFingerprint(key);
    assert.match(fingerprint, /^sha256:[0-9a-f]{32}$/);
    assert.ok(!fingerprint.includes(key.slice(8, 16)));
    assert.notEqual(keyFingerprint(makeKey('live')), fingerprint);
    const info = describeSecretKey(key).info;
    assert.ok(!JSON.stringify(info).includes(key));
    assert.ok(!JSON.stringify(info).includes(key.slice(8, -4)));
  });

  test('parseDotenv: export, quotes, comments, CRLF', () => {
    const values = parseDotenv('export A=1\r\nB = "two words" \nC=\'x#y\'\nD=plain # comment\n# E=no\nbad line\n');
    assert.deepEqual([...values], [['A', '1'], ['B', 'two words'], ['C', 'x#y'], ['D', 'plain']]);
  });
});
