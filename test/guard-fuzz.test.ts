// A bounded fuzz of the one promise: what reaches the API is exactly what the guard judged. Hostile
// paths, field keys and bodies go to bapi-guard and then, unchanged, to bapi-curl (both in this
// process, against a fake Clerk that records the raw request line). A refused request sends nothing;
// an allowed one sends one write whose method, path, query and body are the verdict's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IO } from '../lib/core/io.js';
import { main as curlMain } from '../scripts/bapi-curl.js';
import { main as guardMain } from '../scripts/bapi-guard.js';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { memoryIO } from './helpers/in-process.js';
import { tempDir } from './helpers/run-cli.js';
import { SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
// make fuzz runs longer, on a new seed: FUZZ_CASES, FUZZ_SECONDS, FUZZ_SEED. make test runs the same
// 600 cases every time (about 4 s alone): the clock is only a safety stop there, so a loaded machine
// runs the same cases, not fewer.
const MAX_CASES = Number(process.env.FUZZ_CASES ?? 600);
const MAX_MS = Number(process.env.FUZZ_SECONDS ?? 90) * 1000;

let fake: FakeClerk;
const specsDir = tempDir('fuzz-specs-');
const stateDir = join(tempDir('fuzz-state-'), 'state');

/** mulberry32: a small seeded generator, so a failure can be replayed with FUZZ_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Real endpoints with concrete ids, each with a body it accepts, so that many cases pass the guard.
const TARGETS: Array<[string, string, string | null]> = [
  ['DELETE', '/users/user_seed0000001', null],
  ['DELETE', '/organizations/org_1', null],
  ['POST', '/users/user_seed0000002/ban', null],
  ['POST', '/users/user_seed0000004/unlock', null],
  ['PATCH', '/users/user_seed0000003/metadata', '{"public_metadata":{"plan":"pro"}}'],
  ['PATCH', '/users/user_seed0000005', '{"first_name":"Ada"}'],
  ['PATCH', '/organizations/org_1', '{"name":"Acme"}'],
  ['POST', '/sessions/sess_1/revoke', null],
  ['POST', '/invitations', '{"email_address":"a@example.com"}'],
  ['POST', '/users', '{"email_address":["a@example.com"]}'],
  ['POST', '/organizations', '{"name":"Acme"}'],
];
const PIECES = ['\\', '..', '%2e%2e', '.%2E', '%2F', '%5C', '/v1', '//', '?x=1', '#f', '%00', '\t', ';', '@', ' ', '<user_id>', '{user_id}', '%252e%252e', '\u202e', 'ban', '/../', '/./', '%', '%zz', '\u00a0', ':', '?limit=1&offset=2', '/user_seed0000009', '&', '%3B', '%3bx=y', ';v=1', '\u001b[2J', '\u2066'];
const FIELD_KEYS = ['first_name', 'last_name', 'public_metadata[plan]', 'public_metadata[plan]', 'name', 'name', 'first_name', '__proto__[CLERK_BAPI_SCOPES]', 'constructor[prototype][y]', 'a[]', 'x[__proto__]', 'email_address[]', 'private_metadata[__proto__]', 'prototype', 'public_metadata[a][b]'];
const BODIES = [
  '{"first_name":"Ada"}',
  '{"__proto__":{"first_name":"Eve"},"first_name":"Ada"}',
  '{"public_metadata":{"__proto__":{"x":1}}}',
  '{"name":"Acme","constructor":{"prototype":{"z":1}}}',
  '{"email_address":["a@example.com"],"password":"hunter2hunter2"}',
  '{"banned":true}',
  '{"public_metadata":{"plan":1e400}}',
  '{"first_name":"Ada","last_name":-1e999}',
  '{"public_metadata":{"\\u001b[8mplan":1}}',
  '[]',
  '{}',
];

function pick<T>(next: () => number, list: T[]): T {
  return list[Math.floor(next() * list.length)] as T;
}

/** One hostile request as command-line arguments (the same for the guard and the executor). */
function hostileArgs(next: () => number): string[] {
  const [targetMethod, targetPath, validBody] = pick(next, TARGETS);
  const method = next() < 0.85 ? targetMethod : pick(next, ['POST', 'PATCH', 'PUT', 'DELETE']);
  let path = targetPath;
  const mutations = next() < 0.4 ? 0 : Math.floor(next() * 4);
  for (let i = 0; i < mutations; i++) {
    const at = Math.floor(next() * (path.length + 1));
    path = `${path.slice(0, at)}${pick(next, PIECES)}${path.slice(at)}`;
  }
  const prefix = next();
  if (prefix < 0.15) path = `${fake.url}${next() < 0.5 ? '/v1' : ''}${path}`;
  else if (prefix < 0.2) path = `${fake.url.replace('127.0.0.1', 'localhost')}${path}`;
  else if (prefix < 0.23) path = `https://evil.example${path}`;
  const args = [method, path];
  const body = next();
  if (body < 0.4 && validBody !== null) args.push('-d', validBody);
  else if (body < 0.6) args.push('-d', pick(next, BODIES));
  else if (body < 0.8) {
    const count = 1 + Math.floor(next() * 3);
    for (let i = 0; i < count; i++) args.push(next() < 0.5 ? '-f' : '-F', `${pick(next, FIELD_KEYS)}=${pick(next, ['v', '1', 'true', '{"k":1}', 'null', '__proto__', '1e400', '{"k":1e400}'])}`);
  }
  if (next() < 0.25) args.push('-q', `${pick(next, ['limit', 'x', '__proto__', 'a[]', '\u001b[8mx', 'li\u202emit', 'a\u0007'])}=${pick(next, ['1', '..', '%2F', 'y', '1e400', 'a\u001b[2J', 'b\u2069'])}`);
  return args;
}

async function inProcess(main: (argv: string[], io: IO) => Promise<number>, args: string[], env: Record<string, string | undefined>) {
  const io = memoryIO(env, specsDir);
  let code: number;
  try {
    code = await main(args, io);
  } catch (error) {
    code = (error as { exitCode?: number }).exitCode ?? -1;
    io.err.push(String((error as Error).message));
  }
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

function decodedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return `<malformed:${segment}>`;
      }
    })
    .join('/');
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 12 });
});

after(async () => {
  await fake.close();
});

describe('fuzz: what the fake Clerk receives is exactly what the guard judged', () => {
  it(`${MAX_CASES} hostile requests or ${MAX_MS / 1000} s, whichever ends first`, async () => {
    // A fixed seed in make test (the same cases every run); make fuzz draws a new one each time.
    const seed = Number(process.env.FUZZ_SEED ?? 331573);
    const next = random(seed);
    const env = {
      PATH: process.env.PATH,
      HOME: specsDir,
      CLERK_SECRET_KEY: KEY,
      CLERK_API_URL: fake.url,
      CLERK_SPECS_SOURCE: SHARED_SPECS_DIR,
      CLERK_SPECS_DIR: specsDir,
      CLERK_BAPI_STATE_DIR: stateDir,
      CLERK_BAPI_SCOPES: 'write,delete',
      CLERK_BAPI_MAX_RETRIES: '0',
      CLERK_API_VERSION: '2025-11-10',
      CLERK_BAPI_RATE_LIMIT: '1000000/1s',
    };
    const deadline = Date.now() + MAX_MS;
    const figures = { cases: 0, allowed: 0, refused: 0, sentUnjudged: 0, keyLeaks: 0, crashes: 0 };
    const problems: string[] = [];
    while (figures.cases < MAX_CASES && Date.now() < deadline) {
      figures.cases++;
      const args = hostileArgs(next);
      const label = `seed ${seed} case ${figures.cases}: ${JSON.stringify(args)}`;
      const guard = await inProcess(guardMain, [...args, '--yes', '--json'], env);
      const before = fake.requests.length;
      const curl = await inProcess(curlMain, [...args, '--yes'], env);
      const sent = fake.requests.slice(before).filter((r) => r.method !== 'GET');
      for (const output of [guard.stdout, guard.stderr, curl.stdout, curl.stderr]) if (output.includes(KEY)) figures.keyLeaks++;
      for (const result of [guard, curl]) if (result.code === -1 || /internal error/.test(result.stderr)) {
        figures.crashes++;
        problems.push(`${label}: crash: ${result.stderr}`);
      }
      const polluted = Object.keys(Object.prototype);
      if (polluted.length > 0) {
        problems.push(`${label}: Object.prototype gained ${polluted.join(', ')}`);
        for (const name of polluted) delete (Object.prototype as Record<string, unknown>)[name];
      }
      if (guard.code !== 0) {
        figures.refused++;
        if (sent.length > 0) {
          figures.sentUnjudged++;
          problems.push(`${label}: the guard refused (exit ${guard.code}) but ${sent.map((r) => `${r.method} ${r.url}`).join(', ')} arrived`);
        }
        continue;
      }
      figures.allowed++;
      const verdict = JSON.parse(guard.stdout) as { request: { method: string; path: string; query: Array<[string, string]>; body: unknown } };
      if (sent.length === 0) continue; // allowed, then refused or failed by the executor: nothing unjudged arrived
      const [request] = sent;
      const [rawPath = '', rawQuery = ''] = request!.url.split('?');
      const same =
        sent.length === 1 &&
        request!.method === verdict.request.method &&
        decodedPath(rawPath) === decodedPath(`/v1${verdict.request.path}`) &&
        JSON.stringify([...new URLSearchParams(rawQuery)]) === JSON.stringify(verdict.request.query) &&
        JSON.stringify(request!.body === '' ? null : JSON.parse(request!.body)) === JSON.stringify(verdict.request.body);
      if (!same) {
        figures.sentUnjudged++;
        problems.push(`${label}: judged ${JSON.stringify(verdict.request)}, received ${sent.map((r) => `${r.method} ${r.url} ${r.body}`).join(' | ')}`);
      }
    }
    process.stderr.write(`fuzz: ${JSON.stringify(figures)} (seed ${seed})\n`);
    assert.deepEqual(problems, []);
    assert.equal(figures.sentUnjudged, 0);
    assert.equal(figures.keyLeaks, 0);
    assert.equal(figures.crashes, 0);
    assert.ok(figures.cases >= 50, `ran ${figures.cases} cases`);
    assert.ok(figures.allowed > 0 && figures.refused > 0, 'both sides of the guard were reached');
  });
});
