// Batches end to end: bapi-guard --batch judges every line and approves the exact lines once;
// bapi-curl --batch runs them under the shared budget, with a journal that --resume trusts. The
// fake Clerk counts what reaches it, so "sent at most once" is checked on the server's side.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { noStackTrace } from './helpers/cli-assert.js';
import { cleanEnv, type CliResult, runAtTerminal, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const HAS_SCRIPT = existsSync('/usr/bin/script');
const specsDir = SHARED_STORE;
const outputs: CliResult[] = [];
let fake: FakeClerk;
let stateDir: string;
let workDir: string;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({
    CLERK_API_URL: fake.url,
    CLERK_SECRET_KEY: KEY,
    CLERK_SPECS_DIR: specsDir,
    CLERK_BAPI_STATE_DIR: stateDir,
    CLERK_BAPI_SCOPES: 'write,delete',
    CLERK_BAPI_RETRY_DELAY_MS: '20',
    HOME: workDir,
    ...extra,
  });
}

async function run(command: string, args: string[], extra: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  const result = await runCli(command, args, { env: env(extra), cwd: workDir, ...(input !== undefined ? { input } : {}) });
  outputs.push(result);
  return result;
}

function batchFile(name: string, lines: unknown[]): string {
  const path = join(workDir, name);
  writeFileSync(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return name;
}

function results(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

function audit(): Array<Record<string, unknown>> {
  const file = join(stateDir, 'audit.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : [];
}

function grantedApprovals(): string[] {
  const dir = join(stateDir, 'approvals');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('apv_')) : [];
}

/** Ids of seeded users, oldest first. */
async function userIds(n: number, offset = 0): Promise<string[]> {
  const listed = await run('bapi-curl', ['GET', '/users', '-q', `limit=${n}`, '-q', `offset=${offset}`, '-q', 'order_by=+created_at', '--jq', '.[].id']);
  assert.equal(listed.exitCode, 0, listed.stderr);
  return listed.stdout.trim().split('\n');
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 400 });
});

const stateDirs: string[] = [];

after(async () => {
  await fake.close();
  for (const output of outputs) {
    assert.ok(!output.stdout.includes(KEY) && !output.stderr.includes(KEY), 'the key never appears in any output');
  }
  // Nor in a journal, an audit line, a backup or an approval.
  for (const dir of stateDirs) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) assert.ok(!readFileSync(join(entry.parentPath, entry.name), 'utf8').includes(KEY), `${entry.name} holds no key`);
    }
  }
});

beforeEach(() => {
  stateDir = tempDir('batch-state-');
  stateDirs.push(stateDir);
  workDir = tempDir('batch-work-');
  fake.latencyMs = 0;
  fake.rateLimit = null;
  fake.clearFaults();
});

describe('bapi-guard --batch', () => {
  it('names every bad line and refuses the whole batch (exit 2): nothing is approved', async () => {
    const file = batchFile('bad.ndjson', [
      { method: 'DELETE', path: '/users/user_1' },
      '{"method":"DELETE","path":"/users/user_2"',
      { method: 'DELETE', path: '/userz/user_3' },
      { method: 'POST', path: '/users', body: { email_address: 'not-a-list' } },
      { method: 'PATCH', path: '/users/user_4/metadata', data: { public_metadata: {} } },
      'hello world',
    ]);
    const result = await run('bapi-guard', ['--batch', file, '--yes', '--json']);
    assert.equal(result.exitCode, 2, result.stderr);
    noStackTrace(result.stderr);
    for (const line of [2, 3, 4, 5, 6]) assert.match(result.stderr, new RegExp(`line ${line}: `), `line ${line} is named`);
    assert.doesNotMatch(result.stderr, /line 1: /);
    const verdict = JSON.parse(result.stdout);
    assert.equal(verdict.allowed, false);
    assert.deepEqual(verdict.problems.map((p: { line: number }) => p.line), [2, 3, 4, 5, 6]);
    assert.equal(verdict.approval, null);
    assert.deepEqual(grantedApprovals(), []);
  });

  it('summarises the batch: counts per endpoint and what it destroys in total; needs consent once', async () => {
    const ids = ['user_a1', 'user_a2', 'user_a3'];
    const file = batchFile('mixed.ndjson', [
      ...ids.map((id) => ({ method: 'DELETE', path: `/users/${id}` })),
      { method: 'PATCH', path: '/users/user_a4/metadata', body: { public_metadata: { plan: 'pro' } } },
      'GET\t/users\tList all users',
    ]);
    const refused = await run('bapi-guard', ['--batch', file, '--json']);
    assert.equal(refused.exitCode, 4, 'destructive lines need confirmation, and there is no terminal');
    assert.deepEqual(grantedApprovals(), []);
    const verdict = JSON.parse(refused.stdout);
    assert.equal(verdict.batch.lines, 5);
    assert.equal(verdict.batch.destructive, 3);
    assert.deepEqual(verdict.endpoints.map((e: { method: string; path: string; count: number }) => `${e.count} ${e.method} ${e.path}`), ['3 DELETE /users/{user_id}', '1 PATCH /users/{user_id}/metadata', '1 GET /users']);
    assert.match(verdict.destroys[0], /^3 × DELETE \/users\/\{user_id\}, each: the user record/);
    assert.match(refused.stderr, /IRREVERSIBLE/);
    assert.match(refused.stderr, /3 × DELETE \/users\/\{user_id\}, each:/);
    assert.match(refused.stderr, /all of the user's sessions/);

    const allowed = await run('bapi-guard', ['--batch', file, '--yes', '--json']);
    assert.equal(allowed.exitCode, 0, allowed.stderr);
    const granted = JSON.parse(allowed.stdout);
    assert.match(granted.approval.id, /^apv_/);
    assert.equal(granted.confirmation.by, 'yes-flag');
    assert.equal(grantedApprovals().length, 1, 'one approval for the whole batch');
  });

  it('refuses scopes that do not allow a line (exit 3), naming the line', async () => {
    const file = batchFile('scoped.ndjson', [{ method: 'POST', path: '/organizations', body: { name: 'Acme' } }, { method: 'DELETE', path: '/users/user_1' }]);
    const result = await run('bapi-guard', ['--batch', file, '--yes'], { CLERK_BAPI_SCOPES: 'write' });
    assert.equal(result.exitCode, 3, result.stderr);
    assert.match(result.stderr, /line 2: scopes: /);
    assert.doesNotMatch(result.stderr, /line 1: /);
  });

  it('at a terminal asks once, for the number of destructive requests', { skip: !HAS_SCRIPT && 'needs script(1)' }, async () => {
    const file = batchFile('prompt.ndjson', [{ method: 'DELETE', path: '/users/user_p1' }, { method: 'DELETE', path: '/users/user_p2' }]);
    const declined = await runAtTerminal('bapi-guard', ['--batch', file], 'yes', /to confirm the batch/, { env: env({ NO_COLOR: '1' }), cwd: workDir });
    outputs.push(declined);
    assert.equal(declined.exitCode, 4, declined.stdout);
    assert.deepEqual(grantedApprovals(), []);
    const confirmed = await runAtTerminal('bapi-guard', ['--batch', file], '2', /to confirm the batch/, { env: env({ NO_COLOR: '1' }), cwd: workDir });
    outputs.push(confirmed);
    assert.equal(confirmed.exitCode, 0, confirmed.stdout);
    assert.match(confirmed.stdout, /Type 2 \(the number of destructive requests\)/);
    assert.equal(grantedApprovals().length, 1);
  });

  it('in person mode records one pending approval that a person grants; then the batch runs once', { skip: !HAS_SCRIPT && 'needs script(1)' }, async () => {
    const ids = await userIds(2, 300);
    const file = batchFile('person.ndjson', ids.map((id) => ({ method: 'DELETE', path: `/users/${id}` })));
    const agent = { CLERK_BAPI_AGENT: '1' };
    const pending = await run('bapi-guard', ['--batch', file, '--yes', '--json'], agent);
    assert.equal(pending.exitCode, 4, pending.stderr);
    const verdict = JSON.parse(pending.stdout);
    assert.equal(verdict.approval.status, 'pending');
    assert.match(pending.stderr, /To approve, run in your own terminal: bapi-guard approve apr_/);
    const before = fake.received('DELETE').length;
    const notYet = await run('bapi-curl', ['--batch', file, '--yes'], agent);
    assert.equal(notYet.exitCode, 4, notYet.stderr);
    assert.equal(fake.received('DELETE').length, before, 'nothing sent before a person approves');
    const approved = await runAtTerminal('bapi-guard', ['approve', verdict.approval.id], '2', /to approve the batch/, { env: env(), cwd: workDir });
    outputs.push(approved);
    assert.equal(approved.exitCode, 0, approved.stdout);
    const ran = await run('bapi-curl', ['--batch', file], agent);
    assert.equal(ran.exitCode, 0, ran.stderr);
    assert.equal(fake.received('DELETE').length, before + 2);
    const entries = audit().filter((e) => e.event === 'answered');
    assert.equal(entries.length, 2);
    for (const entry of entries) assert.equal(entry.confirmed_by, 'approve-command');
    const again = await run('bapi-curl', ['--batch', file], agent);
    assert.equal(again.exitCode, 4, 'the approval was used: a second run needs a person again');
    assert.equal(fake.received('DELETE').length, before + 2);
  });
});

describe('bapi-curl --batch', () => {
  it('runs an approved batch: NDJSON results in line order, one audit pair and one backup per DELETE', async () => {
    const ids = await userIds(5, 0);
    const file = batchFile('delete.ndjson', [...ids.map((id) => ({ method: 'DELETE', path: `/users/${id}` })), '', { method: 'GET', path: `/users?limit=1` }]);
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    const before = fake.received('DELETE').length;
    const result = await run('bapi-curl', ['--batch', file, '--concurrency', '3']);
    assert.equal(result.exitCode, 0, result.stderr);
    const rows = results(result.stdout);
    assert.deepEqual(rows.map((r) => r.line), [1, 2, 3, 4, 5, 7]);
    for (const [i, id] of ids.entries()) {
      assert.equal(rows[i]!.status, 200);
      assert.equal(rows[i]!.path, `/users/${id}`);
      assert.match(String(rows[i]!.clerk_trace_id), /^[0-9a-f]{32}$/);
      assert.deepEqual((rows[i]!.body as { deleted: boolean }).deleted, true);
      assert.equal(fake.received('DELETE', `/v1/users/${id}`).length, 1);
    }
    assert.equal(fake.received('DELETE').length - before, 5);
    const entries = audit();
    assert.equal(entries.filter((e) => e.event === 'sending').length, 5);
    assert.equal(entries.filter((e) => e.event === 'answered').length, 5);
    assert.ok(entries.every((e) => typeof e.batch_line === 'number' && e.confirmed_by === 'yes-flag' && String(e.approval_id).startsWith('apv_')));
    assert.equal(readdirSync(join(stateDir, 'backups')).length, 5);
    assert.match(result.stderr, /batch of 6 lines: 6 ok, 0 failed/);
  });

  it('a journal cut or edited after a finished run is refused by --resume: nothing is sent again (round 2)', async () => {
    const file = batchFile('cut.ndjson', [1, 2, 3].map((n) => ({ method: 'POST', path: '/organizations', body: { name: `Cut ${n}` } })));
    const first = await run('bapi-curl', ['--batch', file, '--yes']);
    assert.equal(first.exitCode, 0, first.stderr);
    const sent = () => fake.received('POST', '/v1/organizations').filter((r) => /Cut \d/.test(r.body)).length;
    assert.equal(sent(), 3);
    const dir = join(stateDir, 'batches');
    const journal = join(dir, readdirSync(dir).find((n) => n.endsWith('.journal'))!);
    const whole = readFileSync(journal, 'utf8');
    const tip = readFileSync(`${journal}.tip`, 'utf8');
    const attempts: Array<[string, () => void]> = [
      ['cut to its header (head -1 J > J)', () => writeFileSync(journal, `${whole.split('\n')[0]}\n`)],
      ['cut, and its tip removed', () => (writeFileSync(journal, `${whole.split('\n')[0]}\n`), rmSync(`${journal}.tip`))],
      ['a record dropped from the middle', () => writeFileSync(journal, whole.split('\n').filter((_, i) => i !== 2).join('\n'))],
      ['a record edited', () => writeFileSync(journal, whole.replace('"state":"done"', '"state":"sending"'))],
    ];
    for (const [what, attack] of attempts) {
      attack();
      const resumed = await run('bapi-curl', ['--batch', file, '--resume', '--yes']);
      assert.notEqual(resumed.exitCode, 0, `${what}: ${resumed.stderr}`);
      assert.match(resumed.stderr, /refusing to resume/, what);
      assert.equal(sent(), 3, `${what}: a line was sent again`);
      writeFileSync(journal, whole);
      writeFileSync(`${journal}.tip`, tip);
    }
    const intact = await run('bapi-curl', ['--batch', file, '--resume']);
    assert.equal(intact.exitCode, 0, intact.stderr);
    assert.match(intact.stderr, /already finished/);
  });

  it('refuses a file changed after approval, and a file with a bad line even beside an approval', async () => {
    const file = batchFile('change.ndjson', [{ method: 'DELETE', path: '/users/user_c1' }]);
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    batchFile('change.ndjson', [{ method: 'DELETE', path: '/users/user_c2' }]);
    const before = fake.received('DELETE').length;
    const changed = await run('bapi-curl', ['--batch', file]);
    assert.equal(changed.exitCode, 4, changed.stderr);
    assert.match(changed.stderr, /for another batch/);
    batchFile('change.ndjson', [{ method: 'DELETE', path: '/users/user_c1' }, 'not json']);
    const bad = await run('bapi-curl', ['--batch', file]);
    assert.equal(bad.exitCode, 2, bad.stderr);
    assert.match(bad.stderr, /line 2: /);
    assert.equal(fake.received('DELETE').length, before, 'nothing was sent');
    assert.equal(fake.received('GET', '/v1/users/user_c1').length, 0, 'not even a backup read');
  });

  it('reports HTTP errors per line and exits 1 with a summary', async () => {
    const file = batchFile('invite.ndjson', [
      { method: 'POST', path: '/invitations', body: { email_address: 'dup@example.com' } },
      { method: 'POST', path: '/invitations', body: { email_address: 'dup@example.com' } },
      { method: 'POST', path: '/invitations', body: { email_address: 'other@example.com' } },
    ]);
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    const result = await run('bapi-curl', ['--batch', file, '--concurrency', '1']);
    assert.equal(result.exitCode, 1, result.stderr);
    const rows = results(result.stdout);
    assert.deepEqual(rows.map((r) => r.status), [200, 422, 200]);
    assert.deepEqual((rows[1]!.error as { code: string }).code, 'duplicate_record');
    assert.match(result.stderr, /2 ok, 1 failed/);
  });

  it('never resends a POST whose connection dropped (unknown); retries an idempotent DELETE after a 503', async () => {
    const [id] = await userIds(1, 50);
    const file = batchFile('faults.ndjson', [{ method: 'POST', path: '/invitations', body: { email_address: 'dropped@example.com' } }, { method: 'DELETE', path: `/users/${id}` }]);
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    const posts = fake.received('POST', '/v1/invitations').length;
    fake.fault({ kind: 'reset', method: 'POST', path: '/v1/invitations' });
    fake.fault({ kind: 'status', status: 503, method: 'DELETE', path: `/v1/users/${id}` });
    const result = await run('bapi-curl', ['--batch', file, '--concurrency', '1']);
    assert.equal(result.exitCode, 1, result.stderr);
    const rows = results(result.stdout);
    assert.equal((rows[0]!.error as { code: string }).code, 'unknown_outcome');
    assert.equal(fake.received('POST', '/v1/invitations').length - posts, 1, 'the POST was sent once, never again');
    assert.equal(rows[1]!.status, 200);
    assert.equal(fake.received('DELETE', `/v1/users/${id}`).length, 2, 'the DELETE was retried after the 503');
  });

  it('kill -9 in the middle, then --resume: every line reaches the server at most once, and all are accounted for', async () => {
    const ids = await userIds(40, 100);
    const file = batchFile('kill.ndjson', ids.map((id) => ({ method: 'DELETE', path: `/users/${id}` })));
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    fake.latencyMs = 60;
    const child = execa(process.execPath, [scriptPath('bapi-curl'), '--batch', file, '--concurrency', '4'], { env: env(), extendEnv: false, reject: false, cwd: workDir, stripFinalNewline: false });
    const deleted = () => ids.filter((id) => fake.received('DELETE', `/v1/users/${id}`).length > 0).length;
    for (let waited = 0; deleted() < 10 && waited < 20_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    const killed = await child;
    // What the killed run printed: whole lines only (a line being written when it died is cut).
    const printedBefore = String(killed.stdout).split('\n').filter((line) => line.endsWith('}')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const sentBefore = deleted();
    assert.ok(sentBefore >= 10 && sentBefore < 40, `killed in the middle (${sentBefore} sent)`);

    const again = await run('bapi-curl', ['--batch', file]);
    assert.equal(again.exitCode, 2, 'an interrupted run is not started again without --resume');
    assert.match(again.stderr, /--resume/);
    const other = batchFile('other.ndjson', [{ method: 'DELETE', path: '/users/user_other' }]);
    const wrongFile = await run('bapi-curl', ['--batch', other, '--resume']);
    assert.equal(wrongFile.exitCode, 2, wrongFile.stderr);

    const resumed = await run('bapi-curl', ['--batch', file, '--resume']);
    const rows = results(resumed.stdout);
    // The killed run's output and the resumed run's, appended: each line once (the README's recipe).
    assert.deepEqual([...printedBefore, ...rows].map((r) => r.line).sort((a, b) => Number(a) - Number(b)), ids.map((_, i) => i + 1), resumed.stderr);
    const byLine = new Map(rows.map((r) => [r.line as number, r]));
    for (const [i, id] of ids.entries()) {
      const sent = fake.received('DELETE', `/v1/users/${id}`).length;
      assert.ok(sent <= 1, `${id} deleted at most once`);
      if (sent === 1) assert.equal(fake.getUser(id), undefined, `${id} is gone`);
      else {
        // In flight when killed, but it never reached the server: the GET finds it, and it is not resent.
        const row = byLine.get(i + 1)!;
        assert.equal((row.error as { code: string }).code, 'unknown_outcome', JSON.stringify(row));
        assert.equal((row.check as { status: number }).status, 200);
        assert.ok(fake.getUser(id));
      }
    }
    const skipped = Number(/(\d+) of them done in an earlier run/.exec(resumed.stderr)?.[1] ?? 0);
    const checked = rows.filter((r) => r.check !== undefined).length;
    assert.ok(skipped + checked >= sentBefore - 4, 'what left before the kill is skipped or checked, not resent');
    assert.equal(resumed.exitCode, rows.some((r) => r.error) ? 1 : 0);
    const finished = await run('bapi-curl', ['--batch', file, '--resume']);
    assert.equal(finished.exitCode, 0);
    assert.match(finished.stderr, /already finished/);
  });

  it('the same batch run twice at once: the second is refused while the first runs, and sends nothing', async () => {
    // 20 lines at 100 ms each, one at a time: the first run lasts ~2 s, long enough for the second to start.
    const ids = await userIds(20, 260);
    const file = batchFile('twice.ndjson', ids.map((id) => ({ method: 'PATCH', path: `/users/${id}/metadata`, body: { public_metadata: { twice: true } } })));
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    fake.latencyMs = 100;
    const first = execa(process.execPath, [scriptPath('bapi-curl'), '--batch', file, '--concurrency', '1'], { env: env(), extendEnv: false, reject: false, cwd: workDir });
    while (!ids.some((id) => fake.received('PATCH', `/v1/users/${id}/metadata`).length > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await run('bapi-curl', ['--batch', file, '--yes']);
    assert.equal(second.exitCode, 1, second.stderr);
    assert.match(second.stderr, /this batch is being run by another process/);
    const done = await first;
    assert.equal(done.exitCode, 0, String(done.stderr));
    for (const id of ids) assert.equal(fake.received('PATCH', `/v1/users/${id}/metadata`).length, 1);
  });

  it('two batches at once on one key stay under the shared budget: no 429', async () => {
    fake.rateLimit = { requests: 20, windowMs: 1000 };
    const a = batchFile('a.ndjson', Array.from({ length: 30 }, (_, i) => ({ method: 'GET', path: `/users?limit=1&offset=${i}` })));
    const b = batchFile('b.ndjson', Array.from({ length: 30 }, (_, i) => ({ method: 'GET', path: `/users?limit=1&offset=${i + 30}` })));
    const budget = { CLERK_BAPI_RATE_LIMIT: '20/1s' };
    const [ra, rb] = await Promise.all([run('bapi-curl', ['--batch', a, '--concurrency', '8'], budget), run('bapi-curl', ['--batch', b, '--concurrency', '8'], budget)]);
    assert.equal(ra.exitCode, 0, ra.stderr);
    assert.equal(rb.exitCode, 0, rb.stderr);
    assert.equal(fake.tooManyRequests, 0);
    assert.equal(results(ra.stdout).length + results(rb.stdout).length, 60);
  });

  it('an hourly limit that is spent fails fast, naming it and when it frees; the lines wait for --resume', async () => {
    // Spend POST /invitations' hourly budget as another process would have.
    const { governor } = await import('../lib/http/governor.js');
    const { describeSecretKey } = await import('../lib/guard/key.js');
    const spent = governor(stateDir, describeSecretKey(KEY).info.fingerprint as string, { requests: 100, windowMs: 3_600_000 }, { bucket: 'POST_/invitations' });
    for (let i = 0; i < 100; i++) await spent.acquire();
    const file = batchFile('hourly.ndjson', [{ method: 'POST', path: '/invitations', body: { email_address: 'late1@example.com' } }, { method: 'POST', path: '/invitations', body: { email_address: 'late2@example.com' } }]);
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    const before = fake.received('POST', '/v1/invitations').length;
    const started = Date.now();
    const result = await run('bapi-curl', ['--batch', file]);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.ok(Date.now() - started < 15_000, 'failed fast, without waiting for the hour');
    assert.match(result.stderr, /POST \/invitations is limited to 100 per hour .*frees at \d{4}-/);
    assert.match(result.stderr, /2 not sent/);
    assert.equal(fake.received('POST', '/v1/invitations').length, before);
    assert.equal(results(result.stdout).length, 0);
  });

  it('reads a batch from stdin (--batch -) for the guard and for the run alike', async () => {
    const ids = await userIds(2, 200);
    const text = `${ids.map((id) => JSON.stringify({ method: 'PATCH', path: `/users/${id}/metadata`, body: { public_metadata: { via: 'stdin' } } })).join('\n')}\n`;
    const checked = await run('bapi-guard', ['--batch', '-', '--json'], {}, text);
    assert.equal(checked.exitCode, 0, checked.stderr);
    assert.equal(JSON.parse(checked.stdout).batch.source, 'stdin');
    const ran = await run('bapi-curl', ['--batch', '-'], {}, text);
    assert.equal(ran.exitCode, 0, ran.stderr);
    assert.match(ran.stderr, /using batch approval apv_/);
    for (const id of ids) assert.equal((fake.getUser(id)!.public_metadata as { via: string }).via, 'stdin');
  });

  it('shows a progress line on a terminal, and keeps the results on stdout', { skip: !HAS_SCRIPT && 'needs script(1)' }, async () => {
    const ids = await userIds(12, 220);
    const file = batchFile('progress.ndjson', ids.map((id) => ({ method: 'PATCH', path: `/users/${id}/metadata`, body: { public_metadata: { seen: true } } })));
    fake.latencyMs = 40;
    const shown = await runAtTerminal('bapi-curl', ['--batch', file, '--concurrency', '1', '--yes'], '', /^$/, { env: env({ NO_COLOR: '1' }), cwd: workDir });
    outputs.push(shown);
    assert.equal(shown.exitCode, 0, shown.stdout);
    assert.match(shown.stdout, /batch: \d+ of 12 lines done/);
    assert.match(shown.stdout, /batch of 12 lines: 12 ok, 0 failed/);
  });

  it('a single write meets the hourly limit too: exit 1 at once, nothing sent', async () => {
    const { governor } = await import('../lib/http/governor.js');
    const { describeSecretKey } = await import('../lib/guard/key.js');
    const spent = governor(stateDir, describeSecretKey(KEY).info.fingerprint as string, { requests: 100, windowMs: 3_600_000 }, { bucket: 'POST_/invitations' });
    for (let i = 0; i < 100; i++) await spent.acquire();
    const before = fake.received('POST', '/v1/invitations').length;
    const result = await run('bapi-curl', ['POST', '/invitations', '-f', 'email_address=one@example.com']);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /POST \/invitations is limited to 100 per hour/);
    noStackTrace(result.stderr);
    assert.equal(fake.received('POST', '/v1/invitations').length, before);
  });

  it('--resume of a run that began more than 24 hours ago is refused: that consent has lapsed', async () => {
    const { governor } = await import('../lib/http/governor.js');
    const { describeSecretKey } = await import('../lib/guard/key.js');
    const { runBatch } = await import('../lib/http/batch.js');
    const { createHttpClient } = await import('../lib/http/client.js');
    const { selectSpec } = await import('../lib/spec/select.js');
    // An hourly limit that is spent leaves the run unfinished, with its lines for --resume.
    const spent = governor(stateDir, describeSecretKey(KEY).info.fingerprint as string, { requests: 100, windowMs: 3_600_000 }, { bucket: 'POST_/invitations' });
    for (let i = 0; i < 100; i++) await spent.acquire();
    const file = batchFile('old.ndjson', [{ method: 'POST', path: '/invitations', body: { email_address: 'old@example.com' } }]);
    assert.equal((await run('bapi-guard', ['--batch', file, '--yes'])).exitCode, 0);
    const err: string[] = [];
    const code = await runBatch(
      { batch: file, resume: false, concurrency: 1, timeoutMs: 10_000, admin: false, yes: false, backup: true, waitApprovalMs: null, spec: { includePlatform: false, offline: false, refresh: false } },
      {
        io: { stdin: Object.assign((async function* () {})(), { isTTY: false }), stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) > 0 }, env: env(), cwd: workDir },
        createClient: createHttpClient,
        selectSpec,
        now: () => new Date(Date.now() - 25 * 3600 * 1000),
      },
    );
    assert.equal(code, 1, err.join(''));
    const late = await run('bapi-curl', ['--batch', file, '--resume']);
    assert.equal(late.exitCode, 2, late.stderr);
    assert.match(late.stderr, /more than 24 hours ago/);
  });

  it('usage errors: --resume or --concurrency without --batch, --batch beside METHOD PATH', async () => {
    for (const args of [['GET', '/users', '--resume'], ['--concurrency', '2'], ['--batch', 'x.ndjson', 'GET', '/users'], ['--batch', 'x.ndjson', '--concurrency', '0'], ['--batch', 'missing.ndjson']]) {
      const result = await run('bapi-curl', args);
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`);
      noStackTrace(result.stderr);
    }
  });
});
