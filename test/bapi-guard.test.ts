import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { reportError } from '../lib/cli/command.js';
import { type IO } from '../lib/core/io.js';
import { main, parseArgs, USAGE } from '../scripts/bapi-guard.js';
import { noStackTrace } from './helpers/cli-assert.js';
import { cleanEnv, type CliResult, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';

// Generated per run; every output of every run below is searched for them.
const TEST_KEY = `sk_test_${randomBytes(20).toString('hex')}`;
const LIVE_KEY = `sk_live_${randomBytes(20).toString('hex')}`;

function assertNoKey(result: CliResult | { stdout: string; stderr: string }): void {
  for (const key of [TEST_KEY, LIVE_KEY]) {
    assert.ok(!result.stdout.includes(key) && !result.stderr.includes(key), 'the key appears in the output');
    assert.ok(!result.stdout.includes(key.slice(8, -4)) && !result.stderr.includes(key.slice(8, -4)), 'part of the key appears in the output');
  }
}

const specsDir = SHARED_STORE;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({ CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: tempDir('guard-state-'), HOME: tempDir('guard-home-'), ...extra });
}

async function guard(args: string[], environment: Record<string, string | undefined>, options: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  const result = await runCli('bapi-guard', args, { env: environment, cwd: options.cwd ?? tempDir('guard-cwd-'), ...(options.input !== undefined ? { input: options.input } : {}) });
  assertNoKey(result);
  noStackTrace(result.stderr);
  return result;
}

describe('bapi-guard (in-process)', () => {
  function fakeIO(): IO & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return {
      stdin: Object.assign((async function* () {})(), { isTTY: false }),
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      env: {},
      cwd: tempDir(),
      out,
      err,
    };
  }

  test('--help: usage, options, environment, exit codes, examples', async () => {
    const io = fakeIO();
    assert.equal(await main(['--help'], io), 0);
    const text = io.out.join('');
    assert.equal(text, USAGE);
    for (const section of ['Usage: bapi-guard METHOD PATH', 'Options:', 'Environment:', 'Exit codes:', 'Examples:', 'CLERK_BAPI_SCOPES', '--admin', '--yes']) assert.ok(text.includes(section), section);
    const examples = text.split('Examples:\n')[1]!.trim().split('\n');
    assert.ok(examples.length >= 3 && examples.length <= 6);
  });

  test('usage errors are exit 2', async () => {
    for (const argv of [['--bogus'], ['-q', 'novalue', 'GET', '/users'], ['--ttl', 'forever', 'GET', '/users'], ['-d', '-', '--spec', '-', 'POST', '/users']]) {
      const io = fakeIO();
      const code = await main(argv, io).catch((error: unknown) => reportError('bapi-guard', error, io));
      assert.equal(code, 2, argv.join(' '));
    }
    const options = parseArgs(['post', '/users', '-q', 'a=b=c', '-y', '--admin'], {});
    assert.ok(typeof options === 'object');
    assert.deepEqual(options.query, [['a', 'b=c']]);
    assert.equal(options.yes, true);
  });
});

describe('bapi-guard (the built executable)', () => {
  test('GET passes after the key check, no approval; --json prints the verdict alone on stdout', async () => {
    const environment = env({ CLERK_SECRET_KEY: TEST_KEY });
    const result = await guard(['GET', '/users', '-q', 'limit=5', '--json'], environment);
    assert.equal(result.exitCode, 0, result.stderr);
    const verdict = JSON.parse(result.stdout);
    assert.equal(verdict.allowed, true);
    assert.deepEqual(verdict.request, { method: 'GET', path: '/users', query: [['limit', '5']], body: null });
    assert.equal(verdict.endpoint.path, '/users');
    assert.equal(verdict.approval, null);
    assert.deepEqual(verdict.checks.map((c: { id: string }) => c.id), ['key', 'request', 'scopes', 'destruction', 'metadata', 'confirmation']);
    assert.match(result.stderr, new RegExp(`sk_test_…${TEST_KEY.slice(-4)}`));
    assert.ok(!existsSync(join(environment.CLERK_BAPI_STATE_DIR!, 'approvals')));
  });

  test('no key: exit 3 with how to set it', async () => {
    const result = await guard(['GET', '/users'], env());
    assert.equal(result.exitCode, 3);
    assert.match(result.stderr, /CLERK_SECRET_KEY is not set/);
    assert.match(result.stderr, /Set CLERK_SECRET_KEY/);
  });

  test('a write without scopes: exit 3 with the contract\'s question; --admin bypasses only that', async () => {
    const environment = env({ CLERK_SECRET_KEY: TEST_KEY });
    const refused = await guard(['DELETE', '/users/user_1'], environment);
    assert.equal(refused.exitCode, 3);
    assert.match(refused.stderr, /This is a write operation and your current scopes may not allow it\. Rerun with --admin to bypass\?/);
    assert.match(refused.stderr, /CLERK_BAPI_SCOPES=write,delete or CLERK_BAPI_SCOPES=users:write,users:delete/);
    const admin = await guard(['DELETE', '/users/user_1', '--admin'], environment);
    assert.equal(admin.exitCode, 4, 'still needs confirmation');
    // Each refusal names its failure with a stable code in --json.
    const codes = await Promise.all([
      guard(['DELETE', '/users/user_1', '--json'], environment),
      guard(['DELETE', '/users/user_1', '--admin', '--json'], environment),
      guard(['POST', '/users', '-d', '{"email_address":1}', '--json'], environment),
      guard(['GET', '/users', '--json'], env()),
    ]);
    assert.deepEqual(codes.map((r) => JSON.parse(r.stdout).code), ['scope_denied', 'confirmation_needed', 'request_invalid', 'key_invalid']);
    assert.deepEqual(codes.map((r) => r.exitCode), [3, 4, 2, 3]);
  });

  test('DELETE: IRREVERSIBLE with its own list; no TTY and no --yes is exit 4 and nothing approved; --yes approves', async () => {
    const environment = env({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'users:write,users:delete' });
    const state = environment.CLERK_BAPI_STATE_DIR!;
    const unconfirmed = await guard(['DELETE', '/users/user_1'], environment);
    assert.equal(unconfirmed.exitCode, 4);
    assert.match(unconfirmed.stderr, /IRREVERSIBLE/);
    assert.doesNotMatch(unconfirmed.stderr, /\u001b\[/, 'no colour when stderr is not a terminal');
    assert.match(unconfirmed.stderr, /all of the user's organization memberships/);
    assert.ok(!existsSync(join(state, 'approvals')) || readdirSync(join(state, 'approvals')).length === 0);
    const confirmed = await guard(['DELETE', 'https://api.clerk.com/v1/users/user_1', '--yes', '--json'], environment);
    assert.equal(confirmed.exitCode, 0, confirmed.stderr);
    const verdict = JSON.parse(confirmed.stdout);
    assert.equal(verdict.allowed, true);
    assert.match(verdict.approval.id, /^apv_/);
    assert.ok(Date.parse(verdict.approval.expiresAt) - Date.now() <= 300_000);
    assert.ok(verdict.destroys.some((d: string) => d.includes('user record')));
    assert.equal(statSync(state).mode & 0o777, 0o700);
    const file = join(state, 'approvals', `${verdict.approval.id}.json`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = readFileSync(file, 'utf8');
    assert.ok(!stored.includes(TEST_KEY));
  });

  test('an invalid body is exit 2 with each problem at its JSON path; a body from a file or stdin works', async () => {
    const environment = env({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write' });
    const invalid = await guard(['POST', '/users', '-d', '{"email_address":[1],"nope":true}'], environment);
    assert.equal(invalid.exitCode, 2);
    assert.match(invalid.stderr, /\$\.email_address\[0\]: expected string, got integer/);
    assert.match(invalid.stderr, /\$\.nope: is not an allowed property/);
    const notJson = await guard(['POST', '/users', '-d', `{"password": "${TEST_KEY}"`], environment);
    assert.equal(notJson.exitCode, 2);
    assert.match(notJson.stderr, /not valid JSON/);
    const cwd = tempDir('guard-cwd-');
    writeFileSync(join(cwd, 'body.json'), '{"email_address":["ada@example.com"]}');
    assert.equal((await guard(['POST', '/users', '-d', '@body.json'], environment, { cwd })).exitCode, 0);
    assert.equal((await guard(['POST', '/users', '-d', '-'], environment, { input: '{"first_name":"Ada"}' })).exitCode, 0);
  });

  test('a live key makes every write need confirmation; the key may come from .env', async () => {
    const repo = tempDir('guard-repo-');
    mkdirSync(join(repo, '.git'));
    writeFileSync(join(repo, '.env'), `CLERK_SECRET_KEY=${LIVE_KEY}\n`);
    const environment = env({ CLERK_BAPI_SCOPES: 'write' });
    const result = await guard(['POST', '/users', '-d', '{"first_name":"Ada"}', '--json'], environment, { cwd: repo });
    assert.equal(result.exitCode, 4);
    const verdict = JSON.parse(result.stdout);
    assert.match(verdict.checks[0].message, new RegExp(`from ${join(repo, '.env').replace(/[.]/g, '\\.')}`));
    assert.match(result.stderr, /LIVE/);
    const yes = await guard(['POST', '/users', '-d', '{"first_name":"Ada"}', '--yes'], environment, { cwd: repo });
    assert.equal(yes.exitCode, 0);
  });

  test('at a terminal: a DELETE asks for the resource id; a wrong answer is exit 4, the id is exit 0', { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a pseudo-terminal' }, async () => {
    // The prompt reads who the DELETE removes first: from a port that refuses, never from Clerk.
    const environment = env({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write,delete', CLERK_API_URL: 'http://127.0.0.1:9' });
    // A typo is asked again: then an empty line declines.
    for (const [answers, exit] of [[['user_4', ''], 4], [['user_42'], 0]] as const) {
      // script(1) gives the command a pseudo-terminal; the answer is typed once the question shows.
      const child = execa('script', ['-qec', `${process.execPath} ${scriptPath('bapi-guard')} DELETE /users/user_42`, '/dev/null'], {
        env: environment, extendEnv: false, reject: false, cwd: tempDir('guard-cwd-'),
      });
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        const asked = (text: string) => text.split('to confirm').length - 1;
        const before = asked(seen);
        seen += chunk.toString();
        for (let i = before; i < Math.min(asked(seen), answers.length); i++) child.stdin!.write(`${answers[i]}\n`);
      });
      const result = await child;
      const output = String(result.stdout);
      assert.equal(result.exitCode, exit, output);
      assert.match(output, /IRREVERSIBLE/);
      assert.match(output, /Type .*user_42.* to confirm/);
      assert.match(output, exit === 0 ? /Approval apv_/ : /That is not user_42; type it again[\s\S]*declined at the prompt/);
      assertNoKey({ stdout: output, stderr: String(result.stderr) });
    }
  });

  test('the request may come on stdin as JSON', async () => {
    const environment = env({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write,delete' });
    const result = await guard(['--yes', '--json'], environment, { input: JSON.stringify({ method: 'delete', path: '/v1/organizations/org_1' }) });
    assert.equal(result.exitCode, 0, result.stderr);
    const verdict = JSON.parse(result.stdout);
    assert.equal(verdict.endpoint.path, '/organizations/{organization_id}');
    assert.ok(verdict.destroys.some((d: string) => d.includes('invitations')));
  });

  test('an unknown endpoint is exit 2 and names the closest', async () => {
    const result = await guard(['POST', '/userz'], env({ CLERK_SECRET_KEY: TEST_KEY, CLERK_BAPI_SCOPES: 'write' }));
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /POST \/users/);
  });
});
