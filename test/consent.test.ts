// Consent that only a person can give: an agent (CLAUDECODE=1) against the fake Clerk, a person at a
// pseudo-terminal (script(1)) approving, and every refusal in between. Counts what reaches the fake.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { agentMarker, consentFor } from '../lib/guard/consent.js';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { cleanEnv, type CliResult, runAtTerminal, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const HAS_SCRIPT = existsSync('/usr/bin/script');
const specsDir = SHARED_STORE;
const outputs: CliResult[] = [];
let fake: FakeClerk;
let stateDir: string;
let workDir: string;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: stateDir, HOME: workDir, ...extra });
}

const AGENT = { CLAUDECODE: '1' };

async function run(command: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  const result = await runCli(command, args, { env: env(extra), cwd: workDir });
  outputs.push(result);
  return result;
}

/** Runs a command at a pseudo-terminal and types `answer` once `prompt` shows; its terminal output is stdout. */
async function atTerminal(command: string, args: string[], answer: string, prompt: RegExp, extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  const out = await runAtTerminal(command, args, answer, prompt, { env: env(extra), cwd: workDir });
  outputs.push(out);
  return out;
}

function deletes(path: string): number {
  return fake.received('DELETE', path).length;
}

function pendingId(result: CliResult): string {
  const match = /To approve, run in your own terminal: bapi-guard approve (apr_[0-9a-f]{24})/.exec(result.stderr);
  assert.ok(match, result.stderr);
  return match[1]!;
}

function audit(): Array<Record<string, unknown>> {
  return readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 30 });
});

after(async () => {
  await fake.close();
  for (const result of outputs) assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY), 'the key is in no output');
});

beforeEach(() => {
  stateDir = join(tempDir('consent-state-'), 'state');
  workDir = tempDir('consent-cwd-');
});

describe('consent modes', () => {
  it('person when CLERK_BAPI_CONFIRM=person, a policy, or an agent marker; CLERK_BAPI_CONFIRM=flag cannot loosen an agent', () => {
    const dir = tempDir('consent-mode-');
    assert.equal(consentFor({}, dir).mode, 'flag');
    assert.equal(consentFor({ CLERK_BAPI_CONFIRM: 'person' }, dir).mode, 'person');
    for (const variable of ['CLAUDECODE', 'CODEX_SANDBOX', 'CURSOR_AGENT', 'GEMINI_CLI', 'CLERK_BAPI_AGENT', 'COPILOT_AGENT_SESSION_ID']) {
      assert.equal(consentFor({ [variable]: '1' }, dir).mode, 'person', variable);
    }
    assert.equal(agentMarker({ CLAUDECODE: '0' }), null);
    const loosened = consentFor({ CLAUDECODE: '1', CLERK_BAPI_CONFIRM: 'flag' }, dir);
    assert.equal(loosened.mode, 'person');
    assert.match(loosened.warnings[0] ?? '', /CLERK_BAPI_CONFIRM=flag is ignored/);
    writeFileSync(join(dir, 'policy.json'), '{"confirm":"person"}');
    assert.equal(consentFor({ CLERK_BAPI_CONFIRM: 'flag' }, dir).mode, 'person');
    assert.throws(() => consentFor({ CLERK_BAPI_CONFIRM: 'maybe' }, tempDir()), /person or flag/);
  });

  it('a policy that cannot be read or understood fails closed: person mode, with a warning; only no file means no policy', () => {
    const dir = tempDir();
    for (const text of ['{"confirm":"flg"}', 'not json', 'null', '{}']) {
      writeFileSync(join(dir, 'policy.json'), text);
      const consent = consentFor({}, dir);
      assert.equal(consent.mode, 'person', text);
      assert.match(consent.warnings.join('\n'), /is not one bapi-guard policy wrote/, text);
    }
    rmSync(join(dir, 'policy.json'));
    mkdirSync(join(dir, 'policy.json'));
    const unreadable = consentFor({}, dir);
    assert.equal(unreadable.mode, 'person');
    assert.match(unreadable.warnings.join('\n'), /cannot be read \(EISDIR\)/);
    assert.deepEqual(consentFor({}, tempDir()), { mode: 'flag', reasons: [], agent: null, warnings: [] });
  });

  it('without a marker, --yes and --admin work exactly as before (flag mode)', async () => {
    const before = deletes('/v1/users/user_seed0000001');
    const result = await run('bapi-curl', ['DELETE', '/users/user_seed0000001', '--yes', '--admin']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(deletes('/v1/users/user_seed0000001') - before, 1);
    const sent = audit().filter((line) => line.event === 'answered');
    assert.equal(sent[0]!.confirmed_by, 'yes-flag');
    assert.equal(sent[0]!.consent_mode, 'flag');
    assert.equal(sent[0]!.scope_bypass, 'admin-flag');
  });
});

describe('the agent flow (CLAUDECODE=1)', { skip: !HAS_SCRIPT && 'needs script(1) for a pseudo-terminal' }, () => {
  it('--yes/--admin send nothing; approve without a terminal or under the marker is refused; a person at a terminal approves; exactly one write; a rerun needs a new approval', async () => {
    const path = '/users/user_seed0000002';
    const asked = await run('bapi-curl', ['DELETE', path, '--yes', '--admin'], AGENT);
    assert.equal(asked.exitCode, 4, asked.stderr);
    assert.equal(deletes(`/v1${path}`), 0);
    assert.doesNotMatch(asked.stderr, /add --yes|rerun with --admin|, or add --yes/i, 'no refusal tells an agent to add a flag');
    assert.match(asked.stderr, /--yes confirms nothing here/);
    const id = pendingId(asked);

    // The agent asking again gets the same pending approval, not a second one.
    const again = await run('bapi-curl', ['DELETE', path], AGENT);
    assert.equal(pendingId(again), id);

    const noTerminal = await run('bapi-guard', ['approve', id]);
    assert.equal(noTerminal.exitCode, 4, noTerminal.stderr);
    assert.match(noTerminal.stderr, /needs a terminal/);
    const byAgent = await atTerminal('bapi-guard', ['approve', id], 'user_seed0000002', /to approve/, AGENT);
    assert.equal(byAgent.exitCode, 4, byAgent.stdout);
    assert.match(byAgent.stdout, /not by an agent \(CLAUDECODE is set/);
    assert.equal(deletes(`/v1${path}`), 0);

    const wrong = await atTerminal('bapi-guard', ['approve', id], 'user_seed0000003', /to approve: /);
    assert.equal(wrong.exitCode, 4, wrong.stdout);
    const approved = await atTerminal('bapi-guard', ['approve', id], 'user_seed0000002', /to approve: /);
    assert.equal(approved.exitCode, 0, approved.stdout);
    assert.match(approved.stdout, /IRREVERSIBLE/);
    assert.match(approved.stdout, /Scope bypass/);
    assert.match(approved.stdout, /test instance/);
    assert.equal(deletes(`/v1${path}`), 0, 'approving sends nothing by itself');

    const listed = await run('bapi-guard', ['approvals', '--json']);
    assert.equal(JSON.parse(listed.stdout).find((a: { id: string }) => a.id === id).status, 'granted');

    const sent = await run('bapi-curl', ['DELETE', path], AGENT);
    assert.equal(sent.exitCode, 0, sent.stderr);
    assert.equal(deletes(`/v1${path}`), 1);
    const line = audit().filter((entry) => entry.event === 'answered').at(-1)!;
    assert.equal(line.confirmed_by, 'approve-command');
    assert.equal(line.consent_mode, 'person');
    assert.equal(line.scope_bypass, 'approve-command');
    assert.equal(line.approval_id, id);

    const rerun = await run('bapi-curl', ['DELETE', path], AGENT);
    assert.equal(rerun.exitCode, 4, rerun.stderr);
    assert.notEqual(pendingId(rerun), id);
    assert.equal(deletes(`/v1${path}`), 1, 'still exactly one write');
    const used = await run('bapi-guard', ['approvals']);
    assert.match(used.stdout, new RegExp(`^used\\t${id}\\tDELETE /users/user_seed0000002`, 'm'));
  });

  it('--wait-approval waits for the decision, then sends once; an expiry while waiting is exit 4', async () => {
    const path = '/users/user_seed0000004';
    const waiting = execa(process.execPath, [scriptPath('bapi-curl'), 'DELETE', path, '--wait-approval=30'], { env: env(AGENT), extendEnv: false, reject: false, cwd: workDir });
    let stderr = '';
    const id = await new Promise<string>((resolve) => {
      waiting.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /waiting for a person to approve (apr_[0-9a-f]{24})/.exec(stderr);
        if (match) resolve(match[1]!);
      });
    });
    const approved = await atTerminal('bapi-guard', ['approve', id], 'user_seed0000004', /to approve: /);
    assert.equal(approved.exitCode, 0, approved.stdout);
    const result = await waiting;
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.equal(deletes(`/v1${path}`), 1);
    // It waits: not "Refused", not "run the same command again"; where the person decides, said once.
    assert.match(String(result.stderr), new RegExp(`Waiting for a person's decision on ${id}`));
    assert.doesNotMatch(String(result.stderr), /Refused|run the same command again/);
    assert.equal(String(result.stderr).split(`bapi-guard approve ${id}`).length - 1, 1);

    const expiring = await run('bapi-curl', ['DELETE', '/users/user_seed0000005', '--wait-approval'], { ...AGENT, CLERK_BAPI_PENDING_TTL: '2s' });
    assert.equal(expiring.exitCode, 4, expiring.stderr);
    assert.match(expiring.stderr, /was expired|no decision/);
    assert.equal(deletes('/v1/users/user_seed0000005'), 0);
  });
});

describe('bad input and faults', { skip: !HAS_SCRIPT && 'needs script(1) for a pseudo-terminal' }, () => {
  it('malformed id exit 2; unknown, denied or edited exit 4; another key refused; unwritable state exit 1', async () => {
    assert.equal((await run('bapi-guard', ['approve', 'apr_nope'])).exitCode, 2);
    assert.equal((await atTerminal('bapi-guard', ['approve', `apr_${'0'.repeat(24)}`], 'x', /to approve: /)).exitCode, 4);

    const denied = pendingId(await run('bapi-curl', ['DELETE', '/users/user_seed0000006'], AGENT));
    assert.equal((await run('bapi-guard', ['deny', denied])).exitCode, 0);
    const afterDeny = await atTerminal('bapi-guard', ['approve', denied], 'user_seed0000006', /to approve: /);
    assert.equal(afterDeny.exitCode, 4);
    assert.match(afterDeny.stdout, /is not pending: it is denied/);

    const edited = pendingId(await run('bapi-curl', ['DELETE', '/users/user_seed0000007'], AGENT));
    const file = join(stateDir, 'approvals', `${edited}.json`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"pending"', '"granted"'));
    const sent = await run('bapi-curl', ['DELETE', '/users/user_seed0000007'], AGENT);
    assert.equal(sent.exitCode, 4, sent.stderr);
    assert.equal((await atTerminal('bapi-guard', ['approve', edited], 'user_seed0000007', /to approve: /)).exitCode, 4);
    assert.equal(deletes('/v1/users/user_seed0000007'), 0);

    const other = pendingId(await run('bapi-curl', ['DELETE', '/users/user_seed0000008'], AGENT));
    const otherKey = await atTerminal('bapi-guard', ['approve', other], 'user_seed0000008', /to approve: /, { CLERK_SECRET_KEY: `sk_test_${randomBytes(24).toString('hex')}` });
    assert.equal(otherKey.exitCode, 3, otherKey.stdout);
    assert.match(otherKey.stdout, /another secret key/);

    const blocked = join(workDir, 'file');
    writeFileSync(blocked, '');
    const unwritable = await run('bapi-curl', ['DELETE', '/users/user_seed0000009'], { ...AGENT, CLERK_BAPI_STATE_DIR: join(blocked, 'state') });
    assert.equal(unwritable.exitCode, 1, unwritable.stderr);
    assert.equal(deletes('/v1/users/user_seed0000009'), 0);
  });

  it('of racing approve and deny, exactly one wins', async () => {
    const id = pendingId(await run('bapi-curl', ['DELETE', '/users/user_seed0000010'], AGENT));
    const module = new URL('../lib/guard/approval-files.ts', import.meta.url).href;
    const script = `import { approvalStore } from ${JSON.stringify(module)};
      await new Promise((r) => setTimeout(r, Number(process.env.START_AT) - Date.now()));
      const result = approvalStore(process.env.STATE).decide(process.env.ID, process.env.DECISION, { keyFingerprint: process.env.FP });
      process.stdout.write(result.ok ? 'won' : 'lost');`;
    const { keyFingerprint } = await import('../lib/guard/key.js');
    const startAt = String(Date.now() + 1500);
    const runs = ['grant', 'deny', 'grant', 'deny', 'grant', 'deny'].map((decision) =>
      execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, STATE: stateDir, ID: id, DECISION: decision, FP: keyFingerprint(KEY), START_AT: startAt },
        reject: false,
      }),
    );
    const results = (await Promise.all(runs)).map((r) => String(r.stdout));
    assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
    assert.equal(results.filter((r) => r === 'lost').length, 5);
  });

  it('a policy is set only at a terminal, and then --yes confirms nothing even without a marker', async () => {
    const refused = await run('bapi-guard', ['policy', 'person']);
    assert.equal(refused.exitCode, 4, refused.stderr);
    const set = await atTerminal('bapi-guard', ['policy', 'person'], '', /never/);
    assert.equal(set.exitCode, 0, set.stdout);
    assert.equal((await run('bapi-guard', ['policy'])).stdout, 'person\n');
    const result = await run('bapi-curl', ['DELETE', '/users/user_seed0000011', '--yes'], { CLERK_BAPI_SCOPES: 'write,delete' });
    assert.equal(result.exitCode, 4, result.stderr);
    pendingId(result);
    assert.equal(deletes('/v1/users/user_seed0000011'), 0);
  });
});
