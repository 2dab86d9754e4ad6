// Key custody end to end: a broker (bapi-guard serve) in a pseudo-terminal holds the key and is the
// only place consent is given; clients run as an agent runs them (CLAUDECODE=1, no key), and the
// fake Clerk counts what reaches it. Every route the attack run used must send 0 writes here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { startBroker, type Broker } from './helpers/broker.js';
import { noStackTrace } from './helpers/cli-assert.js';
import { cleanEnv, runCli, scriptPath, SHARED_STORE, tempDir, type CliResult } from './helpers/run-cli.js';

const HAS_SCRIPT = existsSync('/usr/bin/script');
let fake: FakeClerk;
let broker: Broker;
/** The broker's state directory (audit, backups, journals) and the agent's own. */
let brokerState: string;
let agentState: string;
let workDir: string;
const outputs: string[] = [];
/** A key in the broker's own environment, which it must ignore: generated, like every test key. */
const ENVIRONMENT_KEY = `sk_test_${randomBytes(20).toString('hex')}`;

function brokerEnv(): Record<string, string | undefined> {
  return { CLERK_API_URL: fake.url, CLERK_BAPI_STATE_DIR: brokerState, CLERK_SPECS_DIR: SHARED_STORE, CLERK_BAPI_RETRY_DELAY_MS: '20', HOME: workDir };
}

/** An agent's shell: no key, an agent marker, the broker named. */
function agentEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({ CLERK_API_URL: fake.url, CLERK_BAPI_STATE_DIR: agentState, CLERK_SPECS_DIR: SHARED_STORE, CLERK_BAPI_BROKER: broker.socket, CLAUDECODE: '1', HOME: workDir, ...extra });
}

async function agent(command: string, args: string[], extra: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  const result = await runCli(command, args, { env: agentEnv(extra), cwd: workDir, ...(input !== undefined ? { input } : {}) });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** Runs `command` as the agent and, once the broker asks, has the person type `answer`. */
async function withPerson(answer: string, command: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  const from = broker.screen().length;
  const running = agent(command, args, extra);
  await broker.waitFor(/to confirm, anything else refuses it: $/, from);
  broker.type(answer);
  return running;
}

const writes = () => fake.received().filter((r) => r.method !== 'GET');

function audit(): Array<Record<string, unknown>> {
  const file = join(brokerState, 'audit.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) : [];
}

/** One request line written by hand on the broker's socket; the frames it answers with. */
async function raw(request: unknown): Promise<unknown[]> {
  const socket = connect(broker.socket);
  socket.write(`${typeof request === 'string' ? request : JSON.stringify(request)}\n`);
  if (typeof request === 'string') socket.end();
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  return text.trim().split('\n').map((line) => JSON.parse(line) as unknown);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name)).filter((path) => statSync(path).isFile());
}

describe('key custody: bapi-guard serve', { skip: !HAS_SCRIPT && 'script(1) is not installed' }, () => {
  before(async () => {
    fake = await startFakeClerk({ users: 30 });
    workDir = tempDir();
    brokerState = tempDir('bapi-broker-state-');
    agentState = tempDir('bapi-agent-state-');
    broker = await startBroker({ key: fake.key, env: { ...brokerEnv(), CLERK_SECRET_KEY: ENVIRONMENT_KEY }, scopes: 'write,delete' });
  });
  after(async () => {
    await broker?.stop();
    await fake?.close();
  });

  it('says it ignores a key in its own environment, and listens on a 0600 socket in a 0700 directory', () => {
    assert.match(broker.screen(), /CLERK_SECRET_KEY is set in this environment and is not used/);
    assert.match(broker.screen(), new RegExp(`holding the key sk_test_…${fake.key.slice(-4)} \\(from --key-command\\)`));
    assert.equal(statSync(broker.socket).mode & 0o777, 0o600);
    assert.equal(statSync(join(broker.socket, '..')).mode & 0o777, 0o700);
  });

  it('--socket in a directory others can enter is refused, and the directory is left as it was', async () => {
    const open = tempDir('bapi-open-');
    chmodSync(open, 0o755);
    const refused = await runCli('bapi-guard', ['serve', '--socket', join(open, 'broker.sock'), '--key-command', 'true'], { env: cleanEnv(brokerEnv()), cwd: workDir });
    assert.equal(refused.exitCode, 2, refused.stderr);
    assert.match(refused.stderr, /not a directory only you can enter \(mode 755\)/);
    assert.equal(statSync(open).mode & 0o777, 0o755);
  });

  it('api-specs-context says a broker is in use, and what it holds (masked)', async () => {
    const context = await agent('api-specs-context', ['--json']);
    assert.equal(context.exitCode, 0, context.stderr);
    const shown = (JSON.parse(context.stdout) as { broker: { socket: string; status: { key: { masked: string }; scopes: string } } }).broker;
    assert.equal(shown.socket, broker.socket);
    assert.equal(shown.status.key.masked, `sk_test_…${fake.key.slice(-4)}`);
    assert.equal(shown.status.scopes, 'write,delete');
    const text = await agent('api-specs-context', []);
    assert.match(text.stdout, /KEY CUSTODY: a broker at .*broker\.sock \(pid \d+/);
    const none = await runCli('api-specs-context', ['--json'], { env: cleanEnv({ CLERK_SPECS_DIR: SHARED_STORE, CLERK_BAPI_STATE_DIR: agentState, XDG_RUNTIME_DIR: workDir }) });
    assert.equal((JSON.parse(none.stdout) as { broker: unknown }).broker, null);
  });

  it('a read goes through the broker with no key on the client', async () => {
    const listed = await agent('bapi-curl', ['GET', '/users', '-q', 'limit=2', '--jq', '.[].id']);
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, 2);
    assert.equal(listed.stderr, '');
  });

  it('a DELETE waits for the person, who types the id in the broker: sent once; the same again needs the person again', async () => {
    const before = writes().length;
    const deleted = await withPerson('user_seed0000003', 'bapi-curl', ['DELETE', '/users/user_seed0000003']);
    assert.equal(deleted.exitCode, 0, deleted.stderr);
    assert.match(broker.screen(), /a client asks: DELETE \/users\/user_seed0000003/);
    assert.match(broker.screen(), /This deletes .*First3 Last3/);
    assert.equal(fake.received('DELETE', '/v1/users/user_seed0000003').length, 1);
    const line = audit().at(-1)!;
    assert.equal(line.confirmed_by, 'broker-terminal');
    assert.equal(line.consent_mode, 'person');
    const again = await withPerson('no', 'bapi-curl', ['DELETE', '/users/user_seed0000003']);
    assert.equal(again.exitCode, 4, again.stderr);
    assert.match(again.stderr, /denied; nothing was sent/);
    assert.equal(writes().length, before + 1);
  });

  it('--no-wait returns approval_pending at once; once the person answers, the same command is sent once', async () => {
    const before = writes().length;
    const from = broker.screen().length;
    const pending = await agent('bapi-curl', ['DELETE', '/users/user_seed0000004', '--no-wait']);
    assert.equal(pending.exitCode, 4, pending.stderr);
    assert.match(pending.stderr, /The person answers apr_[0-9a-f]{24} in the terminal running bapi-guard serve/);
    assert.doesNotMatch(pending.stderr, /bapi-guard approve/);
    await broker.waitFor(/to confirm, anything else refuses it: $/, from);
    broker.type('user_seed0000004');
    await broker.waitFor(/Approved apr_/, from);
    const sent = await agent('bapi-curl', ['DELETE', '/users/user_seed0000004', '--no-wait']);
    assert.equal(sent.exitCode, 0, sent.stderr);
    assert.equal(writes().length, before + 1);
  });

  it('every route of the attack run sends 0 writes', async () => {
    const before = writes().length;
    const from = broker.screen().length;
    // The agent's own scopes, flag mode, --yes --admin and a policy file of its own count for nothing.
    mkdirSync(agentState, { recursive: true });
    writeFileSync(join(agentState, 'policy.json'), '{"confirm":"flag"}');
    const flags = await agent('bapi-curl', ['POST', '/users/user_seed0000005/ban', '--yes', '--admin', '--no-wait'], { CLERK_BAPI_SCOPES: 'write,delete,users:write', CLERK_BAPI_CONFIRM: 'flag', CLAUDECODE: undefined });
    assert.equal(flags.exitCode, 4, flags.stderr);
    assert.match(flags.stderr, /--admin counts for nothing under a key-custody broker/);
    const id = /apr_[0-9a-f]{24}/.exec(flags.stderr)?.[0];
    assert.ok(id, flags.stderr);
    // `bapi-guard approve` at a fake terminal: there is nothing in the agent's state directory to approve.
    const approved = await execa('script', ['-qec', `printf '%s\\n' ${id} | '${process.execPath}' '${scriptPath('bapi-guard')}' approve ${id}`, '/dev/null'], { env: agentEnv(), extendEnv: false, reject: false, cwd: workDir });
    assert.notEqual(approved.exitCode, 0, String(approved.stdout));
    // A crafted spec in which ban destroys nothing: not used for judging.
    const evil = join(workDir, 'evil.yml');
    writeFileSync(evil, 'openapi: 3.0.3\ninfo: {title: evil, version: 2025-11-10}\npaths: {}\n');
    const crafted = await agent('bapi-curl', ['POST', '/users/user_seed0000005/ban', '--spec', evil, '--no-wait']);
    assert.equal(crafted.exitCode, 4, crafted.stderr);
    assert.match(crafted.stderr, /--spec is not used for judging/);
    const viaGuard = await agent('bapi-guard', ['POST', '/users/user_seed0000005/ban', '--no-wait', '--yes', '--admin', '--json']);
    assert.equal(viaGuard.exitCode, 4, viaGuard.stderr);
    assert.equal((JSON.parse(viaGuard.stdout) as { code: string }).code, 'approval_pending');
    // Request lines written by hand on the socket: a header that changes what is judged, a body that is not JSON's, garbage.
    const header = await raw({ op: 'call', call: { method: 'POST', path: '/users/user_seed0000005/ban', query: [], body: null, form: null, headers: { authorization: 'Bearer sk_test_other' } }, options: {}, wait: null });
    assert.equal((header.at(-1) as { error: { code: string } }).error.code, 'usage');
    const garbage = await raw('{"op":');
    assert.equal((garbage.at(-1) as { error: { message: string } }).error.message, 'the broker got a message that is not JSON');
    const unknown = await raw({ op: 'approve', id: id });
    assert.match((unknown.at(-1) as { error: { message: string } }).error.message, /does not know the request "approve"/);
    // The one pending approval stays the person's: refused at the broker, nothing sent.
    await broker.waitFor(/to confirm, anything else refuses it: $/, from);
    broker.type('n');
    await broker.waitFor(/is denied/, from);
    assert.equal(writes().length, before, JSON.stringify(writes().slice(before)));
  });

  it('bapi-guard through the broker: the verdict after the person approves, then bapi-curl sends it once', async () => {
    const before = writes().length;
    const judged = await withPerson('user_seed0000006', 'bapi-guard', ['DELETE', '/users/user_seed0000006', '--json']);
    assert.equal(judged.exitCode, 0, judged.stderr);
    const verdict = JSON.parse(judged.stdout) as { allowed: boolean; confirmation: { by: string } };
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.confirmation.by, 'broker-terminal');
    const sent = await agent('bapi-curl', ['DELETE', '/users/user_seed0000006']);
    assert.equal(sent.exitCode, 0, sent.stderr);
    assert.match(sent.stderr, /using approval apr_/);
    assert.equal(writes().length, before + 1);
  });

  it("bapi-mcp under the broker: an MCP client that accepts every elicitation gets nothing sent; the person is asked at the broker", async () => {
    const before = writes().length;
    const from = broker.screen().length;
    const transport = new StdioClientTransport({ command: process.execPath, args: [scriptPath('bapi-mcp')], env: agentEnv() as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'self-approving agent', version: '1' }, { capabilities: { elicitation: {} } });
    let elicited = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => (elicited++, { action: 'accept', content: { confirm: 'user_seed0000007' } }));
    await client.connect(transport);
    try {
      const read = (await client.callTool({ name: 'call_api', arguments: { path: '/users', query: { limit: 1 } } })) as { isError?: boolean; content: Array<{ text: string }> };
      assert.notEqual(read.isError, true, read.content[0]?.text);
      const written = (await client.callTool({ name: 'write_api', arguments: { method: 'DELETE', path: '/users/user_seed0000007' } })) as { isError?: boolean; structuredContent?: { error?: Record<string, unknown> } };
      assert.equal(written.isError, true);
      assert.equal(written.structuredContent?.error?.code, 'approval_pending');
      assert.match(String(written.structuredContent?.error?.decide_where), /the terminal running bapi-guard serve/);
      assert.equal(elicited, 0, 'under a broker, an elicitation grants nothing, so none is asked');
      const checked = (await client.callTool({ name: 'check_request', arguments: { method: 'DELETE', path: '/users/user_seed0000007' } })) as { content: Array<{ text: string }> };
      assert.match(checked.content[0]!.text, /"allowed": false/);
    } finally {
      await client.close();
    }
    outputs.push(broker.screen());
    await broker.waitFor(/to confirm, anything else refuses it: $/, from);
    broker.type('');
    await broker.waitFor(/is denied/, from);
    assert.equal(writes().length, before);
  });

  it('--paginate and a guarded batch through the broker: one consent for the batch, each line sent once', async () => {
    const paged = await agent('bapi-curl', ['GET', '/users', '-q', 'limit=5', '--paginate', '--jq', '.id']);
    assert.equal(paged.exitCode, 0, paged.stderr);
    assert.ok(paged.stdout.trim().split('\n').length >= 20, paged.stdout);
    const file = join(workDir, 'deletes.ndjson');
    writeFileSync(file, ['user_seed0000020', 'user_seed0000021'].map((id) => JSON.stringify({ method: 'DELETE', path: `/users/${id}` })).join('\n') + '\n');
    const judged = await withPerson('2', 'bapi-guard', ['--batch', file]);
    assert.equal(judged.exitCode, 0, judged.stderr);
    const ran = await agent('bapi-curl', ['--batch', file]);
    assert.equal(ran.exitCode, 0, ran.stderr);
    assert.match(ran.stderr, /using batch approval apr_/);
    for (const id of ['user_seed0000020', 'user_seed0000021']) assert.equal(fake.received('DELETE', `/v1/users/${id}`).length, 1);
    assert.equal(audit().at(-1)!.confirmed_by, 'broker-terminal');
  });

  it('a client that can read a key anyway is warned; a named broker that is not there sends nothing', async () => {
    writeFileSync(join(workDir, '.env.local'), `CLERK_SECRET_KEY=${fake.key}\n`);
    try {
      const warned = await agent('bapi-curl', ['GET', '/users', '-q', 'limit=1']);
      assert.equal(warned.exitCode, 0);
      assert.match(warned.stderr, /\.env\.local holds CLERK_SECRET_KEY: the agent can read that key/);
    } finally {
      writeFileSync(join(workDir, '.env.local'), '');
    }
    const before = writes().length;
    const gone = await agent('bapi-curl', ['POST', '/users/user_seed0000007/ban'], { CLERK_BAPI_BROKER: join(workDir, 'no-broker.sock'), CLERK_SECRET_KEY: fake.key });
    assert.equal(gone.exitCode, 1);
    assert.match(gone.stderr, /cannot reach the key-custody broker .* nothing was sent/);
    noStackTrace(gone.stderr);
    assert.equal(writes().length, before);
  });

  it('a batch killed with its broker resumes through a new broker: no line sent twice', async () => {
    const ids = Array.from({ length: 24 }, (_, i) => `user_seed${String(i + 8).padStart(7, '0')}`);
    const file = join(workDir, 'patch.ndjson');
    writeFileSync(file, `${ids.map((id) => JSON.stringify({ method: 'PATCH', path: `/users/${id}/metadata`, body: { public_metadata: { custody: true } } })).join('\n')}\n`);
    fake.latencyMs = 80;
    const patched = () => ids.filter((id) => fake.received('PATCH', `/v1/users/${id}/metadata`).length > 0).length;
    const child = execa(process.execPath, [scriptPath('bapi-curl'), '--batch', file, '--concurrency', '2'], { env: agentEnv(), extendEnv: false, reject: false, cwd: workDir });
    for (let waited = 0; patched() < 4 && waited < 15_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    await broker.stop();
    const cut = await child;
    assert.notEqual(cut.exitCode, 0);
    fake.latencyMs = 0;
    broker = await startBroker({ key: fake.key, env: brokerEnv(), scopes: 'write,delete', socket: broker.socket });
    const journals = filesUnder(join(brokerState, 'batches')).filter((path) => path.endsWith('.journal'));
    assert.ok(journals.length >= 1, 'the journal is in the broker\'s state directory');
    const resumed = await agent('bapi-curl', ['--batch', file, '--resume']);
    assert.ok([0, 1].includes(resumed.exitCode), resumed.stderr);
    for (const id of ids) assert.ok(fake.received('PATCH', `/v1/users/${id}/metadata`).length <= 1, `${id} patched at most once`);
    // The agent cannot forge the journal: its seal is keyed by the secret key, which it does not have.
    const [journal] = journals;
    const lines = readFileSync(journal!, 'utf8').split('\n');
    writeFileSync(journal!, `${lines[0]}\n`);
    const edited = await agent('bapi-curl', ['--batch', file, '--resume']);
    assert.notEqual(edited.exitCode, 0);
    for (const id of ids) assert.ok(fake.received('PATCH', `/v1/users/${id}/metadata`).length <= 1, `${id} patched at most once after the edit`);
  });

  it('without --key-command the person types the key at the broker, and it is not shown', async () => {
    const typed = await startBroker({ key: fake.key, env: brokerEnv(), typed: true });
    try {
      assert.match(typed.screen(), /typing is not shown/);
      assert.match(typed.screen(), /\(from the key typed\)/);
      outputs.push(typed.screen());
      const listed = await runCli('bapi-curl', ['GET', '/users', '-q', 'limit=1'], { env: cleanEnv({ CLERK_BAPI_BROKER: typed.socket, CLERK_SPECS_DIR: SHARED_STORE, HOME: workDir }), cwd: workDir });
      assert.equal(listed.exitCode, 0, listed.stderr);
    } finally {
      await typed.stop();
    }
  });

  it('the key is in no process environment or argv, no file the toolkit wrote, no output', async () => {
    const key = fake.key;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      for (const part of ['environ', 'cmdline']) {
        let text = '';
        try {
          text = readFileSync(`/proc/${pid}/${part}`, 'latin1');
        } catch {
          continue;
        }
        assert.ok(!text.includes(key), `the key is in /proc/${pid}/${part}`);
      }
    }
    for (const path of [...filesUnder(brokerState), ...filesUnder(agentState)]) assert.ok(!readFileSync(path, 'latin1').includes(key), `the key is in ${path}`);
    for (const text of [...outputs, broker.screen()]) {
      assert.ok(!text.includes(key), 'the key is in an output');
      assert.ok(!text.includes(ENVIRONMENT_KEY), 'the ignored environment key is in an output');
    }
  });
});
