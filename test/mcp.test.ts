// bapi-mcp through the SDKs' own clients over stdio, against the fake Clerk: the 1.x client (2025-11-25)
// and the 2.x client pinned to 2026-07-28; the tools and their annotations, each tool called (each
// client validates structuredContent against the tool's outputSchema), consent for a destructive write
// only from the person (elicitation, or a pending approval), the key in no result, and malformed calls
// that never break the server. The protocol layer's revisions, raw, are in mcp-protocol.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { cleanEnv, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const specsDir = SHARED_STORE;
const stateDir = join(tempDir('mcp-state-'), 'state');
let fake: FakeClerk;
const texts: string[] = [];

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, string> };

async function connect(options: { elicitation?: (message: string) => Answer; args?: string[]; env?: Record<string, string> } = {}): Promise<Client> {
  const env = cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: stateDir, CLERK_BAPI_SCOPES: 'write', ...options.env });
  const transport = new StdioClientTransport({ command: process.execPath, args: [scriptPath('bapi-mcp'), ...(options.args ?? [])], env: env as Record<string, string>, stderr: 'pipe' });
  const client = new Client({ name: 'test', version: '1' }, { capabilities: options.elicitation ? { elicitation: {} } : {} });
  if (options.elicitation) {
    const answer = options.elicitation;
    client.setRequestHandler(ElicitRequestSchema, async (request) => answer(String(request.params.message)));
  }
  await client.connect(transport);
  // The tools' output schemas, cached by the client: every callTool then validates structuredContent against them.
  await client.listTools();
  open.push(client);
  return client;
}

/** Every client, closed at the end even when a test failed early (an open one keeps the file running). */
const open: Client[] = [];

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; structured: Record<string, unknown> | undefined }> {
  const result = (await client.callTool({ name, arguments: args })) as { content: Array<{ type: string; text?: string }>; isError?: boolean; structuredContent?: Record<string, unknown> };
  const text = result.content.map((c) => c.text ?? '').join('\n');
  texts.push(text, JSON.stringify(result.structuredContent ?? {}));
  return { text, isError: result.isError === true, structured: result.structuredContent };
}

function deletes(path: string): number {
  return fake.received('DELETE', path).length;
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 10 });
});

after(async () => {
  await Promise.all(open.map((client) => client.close().catch(() => undefined)));
  await fake.close();
  for (const text of texts) assert.ok(!text.includes(KEY), 'the key is in no tool result');
});

describe('bapi-mcp', () => {
  it('lists its tools with their annotations, and none for writes with --read-only', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual([...byName.keys()].sort(), ['call_api', 'check_request', 'describe_endpoint', 'list_webhook_events', 'search_endpoints', 'trigger_webhook', 'write_api']);
    for (const name of ['search_endpoints', 'describe_endpoint', 'call_api', 'check_request']) assert.equal(byName.get(name)?.annotations?.readOnlyHint, true, name);
    assert.equal(byName.get('write_api')?.annotations?.destructiveHint, true);
    // A title for the person, top-level (2025-06-18 on) and in the annotations (2025-03-26).
    for (const tool of tools) assert.ok(tool.title && tool.annotations?.title === tool.title, tool.name);
    const resources = await client.listResources();
    assert.ok(resources.resources.some((r) => r.uri === 'clerk-bapi://spec/versions'));
    await client.close();
    const readOnly = await connect({ args: ['--read-only'] });
    assert.ok(!(await readOnly.listTools()).tools.some((t) => t.name === 'write_api' || t.name === 'trigger_webhook'));
    await readOnly.close();
  });

  it('--tools and --exclude-tools choose what tools/list shows; --read-only wins; a hidden tool cannot be called', async () => {
    const names = async (args: string[]) => (await (await connect({ args })).listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(await names(['--tools', 'explore,check_request']), ['check_request', 'describe_endpoint', 'search_endpoints']);
    assert.deepEqual(await names(['--tools', '*_api', '--read-only']), ['call_api']);
    assert.deepEqual(await names(['--exclude-tools', 'write', '--exclude-tools', 'describe_*,webhooks']), ['call_api', 'check_request', 'search_endpoints']);
    const hidden = await connect({ args: ['--tools', 'read'] });
    // A protocol error (-32602, as the specification says for an unknown tool): the SDK's client throws it.
    await assert.rejects(hidden.callTool({ name: 'write_api', arguments: { method: 'DELETE', path: '/users/user_seed0000009' } }), (error: { code?: number; message?: string }) => error.code === -32602 && /Unknown tool: write_api/.test(String(error.message)));
    assert.equal(deletes('/v1/users/user_seed0000009'), 0);
    const unknown = await runCli('bapi-mcp', ['--tools', 'users']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /--tools users: no tool or group of that name/);
    const none = await runCli('bapi-mcp', ['--tools', 'write', '--read-only']);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /leave no tool to serve/);
  });

  it('the webhook tools: the events as data; an event sent to a local app, signed with the secret of the environment; elsewhere only when allowed', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const received: Array<{ type: string; signature: string | undefined }> = [];
    const app = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ type: (JSON.parse(body) as { type: string }).type, signature: req.headers['svix-signature'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(app.address() as { port: number }).port}/api/webhooks`;
    try {
      const client = await connect({ args: ['--tools', 'webhooks'], env: { CLERK_WEBHOOK_SIGNING_SECRET: secret } });
      const listed = await call(client, 'list_webhook_events', { grep: 'user' });
      assert.deepEqual((listed.structured as { events: Array<{ type: string }> }).events.map((e) => e.type), ['user.created', 'user.updated', 'user.deleted']);
      const sent = await call(client, 'trigger_webhook', { event: 'user.created', url, set: { 'data.first_name': 'Ada' } });
      assert.equal(sent.isError, false, sent.text);
      assert.equal((sent.structured as { status: number }).status, 204);
      assert.equal(received[0]?.type, 'user.created');
      assert.match(String(received[0]?.signature), /^v1,/);
      const away = await call(client, 'trigger_webhook', { event: 'user.created', url: 'https://example.com/api/webhooks' });
      assert.equal(away.isError, true);
      assert.match(away.text, /only to this machine/);
      assert.ok(!sent.text.includes(secret.slice(6)) && !JSON.stringify(sent.structured).includes(secret.slice(6)), 'the secret is in no result');
    } finally {
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });

  it('answers each read tool', async () => {
    const client = await connect();
    const found = await call(client, 'search_endpoints', { tag: 'users', method: 'DELETE' });
    assert.equal(found.isError, false, found.text);
    const endpoints = (found.structured as { endpoints: Array<{ method: string; path: string }>; total: number; cut: boolean }).endpoints;
    assert.ok(endpoints.some((e) => e.path === '/users/{user_id}'));
    assert.equal(found.structured?.cut, false);
    // A method as a model writes it: `patch` is PATCH.
    const lower = await call(client, 'search_endpoints', { tag: 'users', method: 'patch' });
    assert.equal(lower.isError, false, lower.text);
    const patches = (lower.structured as { endpoints: Array<{ method: string }> }).endpoints;
    assert.ok(patches.length > 0 && patches.every((e) => e.method === 'PATCH'));
    const detail = await call(client, 'describe_endpoint', { method: 'patch', path: '/users/{user_id}/metadata' });
    assert.equal((detail.structured as { endpoint: { sdk: Array<{ call: string }> } }).endpoint.sdk[0]!.call, 'clerkClient.users.updateUserMetadata(userId, params)');
    const unknown = await call(client, 'describe_endpoint', { method: 'GET', path: '/userz' });
    assert.equal(unknown.isError, true);
    assert.equal((unknown.structured?.error as { code: string }).code, 'not_found');
    assert.match(unknown.text, /no endpoint GET \/userz[\s\S]*Closest endpoints/);
    const users = await call(client, 'call_api', { path: '/users', paginate: true, max_items: 3, jq: '.id' });
    assert.equal(users.isError, false, users.text);
    assert.equal(users.text.trim().split('\n').length, 3);
    // Raw strings (jq prints a string as text) stay text; JSON lines become items.
    assert.equal((users.structured as { items?: unknown[] }).items, undefined);
    const objects = await call(client, 'call_api', { path: '/users', paginate: true, max_items: 3, jq: '{id}' });
    assert.deepEqual((objects.structured as { items: Array<{ id: string }> }).items.map((item) => typeof item.id), ['string', 'string', 'string']);
    const one = await call(client, 'call_api', { path: '/users', query: { limit: 2 } });
    assert.equal((one.structured as { data: unknown[] }).data.length, 2);
    const checked = await call(client, 'check_request', { method: 'POST', path: '/users', body: { email_address: 'not-an-array' } });
    const verdict = (checked.structured as { verdict: { allowed: boolean; problems: Array<{ path: string }> } }).verdict;
    assert.equal(verdict.allowed, false);
    assert.ok(verdict.problems.some((p) => p.path.startsWith('$.email_address')));
    const versions = await client.readResource({ uri: 'clerk-bapi://spec/versions' });
    assert.ok(JSON.parse(String((versions.contents[0] as { text: string }).text)).versions.length > 0);
    await client.close();
  });

  it('a destructive write without a host that can ask is refused, names the approve command, and sends nothing', async () => {
    const client = await connect();
    const result = await call(client, 'write_api', { method: 'DELETE', path: '/users/user_seed0000001' });
    assert.equal(result.isError, true);
    assert.match(result.text, /a person must approve this request: ask them to run in their own terminal: bapi-guard approve apr_[0-9a-f]{24}/);
    // The failure as data, from the executor's error (no stderr is read back): its stable code and the approval.
    const error = result.structured?.error as { code: string; approval_id: string; approve_command: string; exit_code: number };
    assert.equal(error.code, 'approval_pending');
    assert.match(error.approval_id, /^apr_[0-9a-f]{24}$/);
    assert.equal(error.approve_command, `bapi-guard approve ${error.approval_id}`);
    assert.equal(error.exit_code, 4);
    assert.equal(deletes('/v1/users/user_seed0000001'), 0);
    await client.close();
  });

  it('with elicitation: the person types the id and exactly one write arrives; a decline sends nothing', async () => {
    const asked: string[] = [];
    const client = await connect({ elicitation: (message) => (asked.push(message), { action: 'accept', content: { confirm: 'user_seed0000002' } }) });
    const result = await call(client, 'write_api', { method: 'DELETE', path: '/users/user_seed0000002' });
    assert.equal(result.isError, false, result.text);
    assert.equal(deletes('/v1/users/user_seed0000002'), 1);
    assert.match(asked[0] ?? '', /IRREVERSIBLE/);
    const audit = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(audit.at(-1).confirmed_by, 'elicitation');
    await client.close();

    const declining = await connect({ elicitation: () => ({ action: 'decline' }) });
    const declined = await call(declining, 'write_api', { method: 'DELETE', path: '/users/user_seed0000003' });
    assert.equal(declined.isError, true);
    assert.match(declined.text, /declined; nothing was sent/);
    assert.equal(deletes('/v1/users/user_seed0000003'), 0);
    const wrong = await connect({ elicitation: () => ({ action: 'accept', content: { confirm: 'user_seed0000009' } }) });
    assert.equal((await call(wrong, 'write_api', { method: 'DELETE', path: '/users/user_seed0000003' })).isError, true);
    assert.equal(deletes('/v1/users/user_seed0000003'), 0);
    await declining.close();
    await wrong.close();
  });

  it('2026-07-28 with the SDK 2.x client: discovery, the tools, a read, and a destructive write confirmed through input_required exactly once', async () => {
    const env = cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: stateDir, CLERK_BAPI_SCOPES: 'write' });
    const modern = async (answer: (message: string) => { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, string> }) => {
      const client = new ModernClient({ name: 'modern-test', version: '1' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
      client.setRequestHandler('elicitation/create', async (request) => answer(String((request.params as { message?: string }).message)));
      await client.connect(new ModernStdioTransport({ command: process.execPath, args: [scriptPath('bapi-mcp')], env: env as Record<string, string>, stderr: 'pipe' }));
      return client;
    };
    const asked: string[] = [];
    const client = await modern((message) => (asked.push(message), { action: 'accept', content: { confirm: 'user_seed0000004' } }));
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      const { tools } = await client.listTools();
      assert.equal(tools.length, 7);
      const search = await client.callTool({ name: 'search_endpoints', arguments: { tag: 'users', method: 'DELETE' } });
      texts.push(JSON.stringify(search));
      assert.ok(((search.structuredContent as { endpoints: Array<{ path: string }> }).endpoints).some((e) => e.path === '/users/{user_id}'));
      const written = await client.callTool({ name: 'write_api', arguments: { method: 'DELETE', path: '/users/user_seed0000004' } });
      texts.push(JSON.stringify(written));
      assert.equal(written.isError ?? false, false, JSON.stringify(written).slice(0, 500));
      assert.equal(asked.length, 1);
      assert.match(asked[0]!, /IRREVERSIBLE/);
      assert.equal(deletes('/v1/users/user_seed0000004'), 1);
    } finally {
      await client.close();
    }
    const declining = await modern(() => ({ action: 'decline' }));
    try {
      const declined = await declining.callTool({ name: 'write_api', arguments: { method: 'DELETE', path: '/users/user_seed0000005' } });
      assert.equal(declined.isError, true);
      assert.equal((declined.structuredContent as { error: { code: string } }).error.code, 'declined');
      assert.equal(deletes('/v1/users/user_seed0000005'), 0);
    } finally {
      await declining.close();
    }
  });

  it('100 malformed calls each get an error, and the server still answers', async () => {
    const client = await connect();
    const bad: Array<[string, unknown]> = [
      ['no_such_tool', {}],
      ['describe_endpoint', {}],
      ['describe_endpoint', { method: 'FETCH', path: '/users' }],
      ['describe_endpoint', { method: 'GET', path: 42 }],
      ['call_api', { path: '/users', max_items: -1 }],
      ['call_api', { path: '/users\\..\\x' }],
      ['call_api', { path: 'https://evil.example/v1/users' }],
      ['write_api', { method: 'GET', path: '/users' }],
      ['write_api', { method: 'DELETE', path: '/users/<user_id>' }],
      ['check_request', { method: 'POST', path: '/users', query: 'nope' }],
    ];
    let errors = 0;
    for (let i = 0; i < 100; i++) {
      const [name, args] = bad[i % bad.length]!;
      try {
        const result = (await client.callTool({ name, arguments: args as Record<string, unknown> })) as { isError?: boolean; content: Array<{ text?: string }> };
        texts.push(result.content.map((c) => c.text ?? '').join('\n'));
        if (result.isError) errors++;
      } catch {
        errors++;
      }
    }
    assert.equal(errors, 100);
    assert.equal((await client.listTools()).tools.length, 7);
    assert.equal(fake.received('DELETE').filter((r) => r.path.includes('user_id')).length, 0);
    await client.close();
  });

  it('a 20 MB message gets a JSON-RPC error with its id, a bad line a parse error, and the server keeps serving (round 2)', async () => {
    const env = cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: stateDir });
    const child = spawn(process.execPath, [scriptPath('bapi-mcp')], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const answers: Array<Record<string, unknown>> = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
        answers.push(JSON.parse(buffered.slice(0, at)) as Record<string, unknown>);
        buffered = buffered.slice(at + 1);
      }
    });
    const answered = async (id: number | null, count: number) => {
      for (let i = 0; i < 400 && answers.filter((a) => a.id === id).length < count; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      return answers.filter((a) => a.id === id);
    };
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await answered(1, 1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    child.stdin.write(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"check_request","arguments":{"method":"POST","path":"/users","body":{"x":"${'a'.repeat(20 * 1024 * 1024)}"}}}}\n`);
    const [tooBig] = await answered(2, 1);
    assert.match(String((tooBig?.error as { message?: string })?.message), /larger than/);
    child.stdin.write('{not json\n');
    const [parse] = await answered(null, 1);
    assert.equal((parse?.error as { code?: number })?.code, -32700);
    send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    const [listed] = await answered(3, 1);
    assert.equal(((listed?.result as { tools?: unknown[] })?.tools ?? []).length, 7);
    // A body 100 000 levels deep: the CLI's limit, as a tool error, before anything walks it.
    child.stdin.write(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"write_api","arguments":{"method":"POST","path":"/organizations","body":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}\n`);
    const [deep] = await answered(4, 1);
    const result = deep?.result as { isError?: boolean; content?: Array<{ text?: string }> };
    assert.equal(result?.isError, true, JSON.stringify(deep).slice(0, 300));
    assert.match(String(result.content?.[0]?.text), /nests deeper than 64 levels/);
    send({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
    assert.equal((await answered(5, 1)).length, 1, 'still serving');
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
  });
});
