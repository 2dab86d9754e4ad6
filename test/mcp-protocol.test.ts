// bapi-mcp's protocol layer in process (lib/mcp/protocol.ts): both eras from one server, raw JSON-RPC
// per revision, the argument check, cancellation, and elicitation: a request to a legacy client, an
// `input_required` result with a sealed requestState for a 2026-07-28 one (altered, for another
// call, expired or replayed: refused).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { input } from '../lib/mcp/results.js';
import { LEGACY_VERSIONS, McpProtocolServer, MODERN_VERSIONS, type ElicitAnswer, type Message, type Tool } from '../lib/mcp/protocol.js';

const MODERN = '2026-07-28';
const meta = (capabilities: Record<string, unknown> = {}, version = MODERN) => ({ 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': capabilities });
const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }], structuredContent: { value } });

/** A server with two tools: `echo` (answers at once, or waits for `wait` until cancelled) and `confirm` (asks the person). */
function world(now = () => Date.now()) {
  const sent: Message[] = [];
  let waiting: ((message: Message) => void) | null = null;
  const ran: string[] = [];
  const tools: Tool[] = [
    {
      name: 'echo',
      title: 'Echo',
      description: 'echo',
      inputSchema: input({ say: { type: 'string', minLength: 1 }, wait: { type: 'boolean' }, times: { type: 'integer', minimum: 1, maximum: 3 } }, ['say']),
      outputSchema: input({ value: { type: 'string' } }),
      annotations: { readOnlyHint: true },
      handler: async (args, call) => {
        if (args.wait) await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve(), { once: true }));
        ran.push(String(args.say));
        return text(String(args.say));
      },
    },
    {
      name: 'confirm',
      title: 'Confirm',
      description: 'asks',
      inputSchema: input({ id: { type: 'string' } }, ['id']),
      outputSchema: input({ value: { type: 'string' } }),
      annotations: { destructiveHint: true },
      handler: async (args, call) => {
        if (!call.canElicit) return text('pending');
        const answer: ElicitAnswer = await call.elicit({ message: `delete ${String(args.id)}?`, requestedSchema: { type: 'object', properties: { confirm: { type: 'string' } }, required: ['confirm'] } });
        const done = answer.action === 'accept' && answer.content?.confirm === args.id;
        if (done) ran.push(`deleted ${String(args.id)}`);
        return text(done ? 'deleted' : answer.action);
      },
    },
  ];
  const server = new McpProtocolServer(
    { info: { name: 'test', version: '1' }, instructions: 'hi', tools, resources: [
        { uri: 'x://r', name: 'r', description: 'r', mimeType: 'text/plain', read: async () => 'R' },
        { uri: 'x://broken', name: 'broken', description: 'fails', mimeType: 'text/plain', read: async () => { throw new Error('could not read with sk_test_secret'); } },
      ], invalidArguments: (tool, problem) => ({ ...text(`${tool}: ${problem}`), isError: true }), redact: (value) => value.replaceAll('sk_test_secret', '[REDACTED]') },
    async (message) => {
      sent.push(message);
      waiting?.(message);
    },
    now,
  );
  let nextId = 1;
  /** Sends a request and waits for the answer with its id (or any message the predicate picks). */
  const request = async (method: string, params?: Record<string, unknown>, id: string | number = nextId++): Promise<Message> => {
    const answered = new Promise<Message>((resolve) => {
      const found = () => sent.find((m) => m.id === id && m.method === undefined);
      waiting = (message) => {
        if (message.id === id && message.method === undefined) resolve(message);
      };
      const early = found();
      if (early) resolve(early);
    });
    server.handle({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    return answered;
  };
  const next = (predicate: (message: Message) => boolean) =>
    new Promise<Message>((resolve) => {
      const early = sent.find(predicate);
      if (early) return resolve(early);
      waiting = (message) => {
        if (predicate(message)) resolve(message);
      };
    });
  return { server, sent, ran, request, next };
}

describe('MCP protocol layer', () => {
  for (const version of LEGACY_VERSIONS) {
    it(`legacy ${version}: initialize echoes the revision; tools/list, tools/call, resources and ping answer without resultType`, async () => {
      const { request, server } = world();
      const init = await request('initialize', { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } });
      assert.equal((init.result as { protocolVersion: string }).protocolVersion, version);
      server.handle({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const list = (await request('tools/list')).result as { tools: Array<{ name: string; outputSchema: unknown }>; resultType?: string };
      assert.deepEqual(list.tools.map((t) => t.name), ['echo', 'confirm']);
      assert.equal(list.resultType, undefined);
      const called = (await request('tools/call', { name: 'echo', arguments: { say: 'hi' } })).result as { structuredContent: unknown };
      assert.deepEqual(called.structuredContent, { value: 'hi' });
      assert.deepEqual((await request('ping')).result, {});
      assert.equal(((await request('resources/read', { uri: 'x://r' })).result as { contents: Array<{ text: string }> }).contents[0]?.text, 'R');
      assert.equal((await request('resources/read', { uri: 'x://nope' })).error?.code, -32002);
    });
  }

  it('legacy: a revision it does not know gets the newest legacy one back; 2026-07-28 asked by initialize is served as 2025-11-25', async () => {
    for (const asked of ['1999-01-01', MODERN]) {
      const { request } = world();
      assert.equal(((await request('initialize', { protocolVersion: asked, capabilities: {} })).result as { protocolVersion: string }).protocolVersion, LEGACY_VERSIONS[0]);
    }
  });

  it('2026-07-28: server/discover, resultType on every result, cache hints, -32022 naming what it supports, no ping', async () => {
    const { request } = world();
    const discover = (await request('server/discover', { _meta: meta() })).result as Record<string, unknown>;
    assert.equal(discover.resultType, 'complete');
    assert.deepEqual(discover.supportedVersions, [...MODERN_VERSIONS]);
    assert.deepEqual((discover._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo'], { name: 'test', version: '1' });
    assert.equal(typeof discover.ttlMs, 'number');
    const list = (await request('tools/list', { _meta: meta() })).result as Record<string, unknown>;
    assert.equal(list.resultType, 'complete');
    assert.equal(list.cacheScope, 'private');
    const called = (await request('tools/call', { _meta: meta(), name: 'echo', arguments: { say: 'x' } })).result as Record<string, unknown>;
    assert.equal(called.resultType, 'complete');
    const unsupported = await request('tools/list', { _meta: meta({}, '1900-01-01') });
    assert.deepEqual(unsupported.error, { code: -32022, message: 'Unsupported protocol version', data: { supported: [...MODERN_VERSIONS], requested: '1900-01-01' } });
    assert.equal((await request('ping', { _meta: meta() })).error?.code, -32601);
    assert.equal((await request('server/discover')).error?.code, -32602, 'a probe without _meta is not a modern request');
  });

  it('an unknown tool is a protocol error; arguments that break the input schema are a tool error the model can correct', async () => {
    const { request } = world();
    assert.deepEqual((await request('tools/call', { name: 'nope', arguments: {} })).error, { code: -32602, message: 'Unknown tool: nope' });
    const cases: Array<[unknown, RegExp]> = [
      [{}, /arguments\.say: required/],
      [{ say: '' }, /arguments\.say: must not be empty/],
      [{ say: 3 }, /arguments\.say: expected string, got integer/],
      [{ say: 'a', times: 9 }, /arguments\.times: must be at most 3/],
      [{ say: 'a', times: 1.5 }, /arguments\.times: expected integer, got number/],
      ['text', /arguments: expected an object/],
    ];
    for (const [args, problem] of cases) {
      const result = (await request('tools/call', { name: 'echo', arguments: args })).result as { isError: boolean; content: Array<{ text: string }> };
      assert.equal(result.isError, true);
      assert.match(result.content[0]!.text, problem);
    }
  });

  it('an unexpected failure is an internal error whose message is redacted', async () => {
    const { request } = world();
    assert.deepEqual((await request('resources/read', { uri: 'x://broken' })).error, { code: -32603, message: 'could not read with [REDACTED]' });
  });

  it('a cancelled call stops and gets no answer; an unknown method is -32601', async () => {
    const { request, server, sent, ran } = world();
    server.handle({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'echo', arguments: { say: 'slow', wait: true } } });
    server.handle({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow' } });
    assert.equal((await request('nope/nope')).error?.code, -32601);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(ran, ['slow'], 'the handler saw the abort');
    assert.ok(!sent.some((m) => m.id === 'slow'), 'no answer for a cancelled request');
  });

  it('legacy elicitation: a request to a client that declared it; the answer goes to the call; without the capability, none is asked', async () => {
    const { request, next, server, ran, sent } = world();
    await request('initialize', { protocolVersion: '2025-06-18', capabilities: { elicitation: {} } });
    const answer = request('tools/call', { name: 'confirm', arguments: { id: 'user_1' } });
    const asked = await next((m) => m.method === 'elicitation/create');
    assert.match(String(asked.params?.message), /delete user_1\?/);
    server.handle({ jsonrpc: '2.0', id: asked.id!, result: { action: 'accept', content: { confirm: 'user_1' } } });
    assert.deepEqual(((await answer).result as { structuredContent: unknown }).structuredContent, { value: 'deleted' });
    assert.deepEqual(ran, ['deleted user_1']);

    const plain = world();
    await plain.request('initialize', { protocolVersion: '2025-06-18', capabilities: {} });
    assert.deepEqual(((await plain.request('tools/call', { name: 'confirm', arguments: { id: 'user_1' } })).result as { structuredContent: unknown }).structuredContent, { value: 'pending' });
    assert.ok(!plain.sent.some((m) => m.method === 'elicitation/create'));
    assert.ok(sent.length > 0);
  });

  it('2026-07-28 elicitation: input_required with a sealed requestState; the retry with the answer completes once; altered, moved, expired or replayed state is refused', async () => {
    let clock = 1_000_000;
    const { request, ran } = world(() => clock);
    const caps = meta({ elicitation: { form: {} } });
    const first = (await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_2' } })).result as { resultType: string; inputRequests: Record<string, { method: string; params: { mode: string; message: string } }>; requestState: string };
    assert.equal(first.resultType, 'input_required');
    assert.equal(first.inputRequests.confirm?.method, 'elicitation/create');
    assert.equal(first.inputRequests.confirm?.params.mode, 'form');
    assert.match(first.inputRequests.confirm!.params.message, /delete user_2\?/);
    const state = first.requestState;
    const yes = { confirm: { action: 'accept', content: { confirm: 'user_2' } } };

    // Altered: one character of the sealed payload changed.
    const altered = `${state.slice(0, 5)}${state[5] === 'A' ? 'B' : 'A'}${state.slice(6)}`;
    assert.equal((await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_2' }, inputResponses: yes, requestState: altered })).error?.code, -32602);
    // Moved to another call: the state names the call it was given for.
    assert.equal((await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_3' }, inputResponses: { confirm: { action: 'accept', content: { confirm: 'user_3' } } }, requestState: state })).error?.code, -32602);
    // No answer in the retry: asked again.
    assert.equal(((await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_2' }, requestState: state })).result as { resultType: string }).resultType, 'input_required');
    assert.deepEqual(ran, []);

    const done = (await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_2' }, inputResponses: yes, requestState: state })).result as { resultType: string; structuredContent: unknown };
    assert.equal(done.resultType, 'complete');
    assert.deepEqual(done.structuredContent, { value: 'deleted' });
    // Replayed: an answer confirms one call.
    assert.match(String((await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_2' }, inputResponses: yes, requestState: state })).error?.message), /already answered/);
    assert.deepEqual(ran, ['deleted user_2']);

    // Expired: ten minutes.
    const later = (await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_4' } })).result as { requestState: string };
    clock += 11 * 60_000;
    assert.equal((await request('tools/call', { _meta: caps, name: 'confirm', arguments: { id: 'user_4' }, inputResponses: { confirm: { action: 'accept', content: { confirm: 'user_4' } } }, requestState: later.requestState })).error?.code, -32602);
    assert.deepEqual(ran, ['deleted user_2']);

    // A client that did not declare elicitation is never asked.
    assert.deepEqual(((await request('tools/call', { _meta: meta(), name: 'confirm', arguments: { id: 'user_5' } })).result as { structuredContent: unknown }).structuredContent, { value: 'pending' });
  });
});
