// bapi-mcp's protocol layer: JSON-RPC over the stdio transport, serving both eras of MCP from one
// process, as the 2026-07-28 revision's "dual-era" server:
// - modern (2026-07-28): every request carries its protocol version and the client's capabilities in
//   `_meta`; no handshake; `server/discover`; results carry `resultType`; a server that needs the
//   person's answer returns `input_required` with an elicitation and a sealed `requestState`, and the
//   client calls again with the answer (multi round-trip requests);
// - legacy (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05): `initialize` chooses the revision for
//   the process; elicitation is a request from the server to the client.
// Our own, not the SDK's: the server module of @modelcontextprotocol/sdk 1.x costs 120-155 ms to
// import here, its v2 ~110 ms, against a start-up target of twice node's (~45 ms in all); what
// bapi-mcp speaks is small (the methods below), and both SDKs' clients test it (test/mcp.test.ts).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isObject } from '../core/values.js';
import { canonicalJson } from '../guard/approval-digest.js';
import { schemaProblem, type JsonSchema } from './json-schema.js';
import type { ToolResult } from './results.js';

export const MODERN_VERSIONS = ['2026-07-28'] as const;
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';

export const ERRORS = { parse: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, internal: -32603, resourceNotFound: -32002, unsupportedVersion: -32022 } as const;

export type Id = string | number;
export interface Message {
  jsonrpc: '2.0';
  id?: Id | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface ElicitAnswer {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}

/** A form for the host's person: string, enum and boolean fields only (what every eliciting host renders). */
export interface Question {
  message: string;
  requestedSchema: { type: 'object'; properties: Record<string, JsonSchema & { title?: string }>; required?: string[] };
}

export interface CallContext {
  signal: AbortSignal;
  /** The host declared that it can ask its person (elicitation, form mode). */
  canElicit: boolean;
  /** Asks the host's person. In 2026-07-28 this ends the call with `input_required` (InputRequired), and the client's retry brings the answer here. */
  elicit(question: Question): Promise<ElicitAnswer>;
}

export interface Tool {
  name: string;
  /** What a host shows a person (2025-06-18 on; older hosts read annotations.title, which tools/list also sets). */
  title: string;
  description: string;
  inputSchema: JsonSchema & { type: 'object' };
  outputSchema: JsonSchema & { type: 'object' };
  annotations: Record<string, boolean>;
  handler(args: Record<string, unknown>, context: CallContext): Promise<ToolResult>;
}

export interface Resource {
  uri: string;
  name: string;
  description: string;
  mimeType: string;
  read(): Promise<string>;
}

export interface ServerDefinition {
  info: { name: string; version: string };
  instructions: string;
  tools: Tool[];
  resources: Resource[];
  /** The result of a call whose arguments break the tool's input schema (a tool error the model can correct). */
  invalidArguments(tool: string, problem: string): ToolResult;
  /** Any text of an unexpected failure, made safe to send (the secret key masked). */
  redact(text: string): string;
}

/** Thrown by `elicit` in a 2026-07-28 call: the call ends with `input_required`. Handlers let it through. */
export class InputRequired extends Error {
  constructor(readonly result: Record<string, unknown>) {
    super('input required');
  }
}

class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

const STATE_TTL_MS = 10 * 60_000;
const ANSWER_KEY = 'confirm';

/** `value` when it is a JSON object, else null: what a message's optional objects are read with. */
function object(value: unknown): Record<string, unknown> | null {
  return isObject(value) ? value : null;
}

/** 2026-07-28 cache hints for a list this process gives the same answer to: its tools and resources. */
const CACHE_HINTS = { ttlMs: 3_600_000, cacheScope: 'private' } as const;

/** Whether declared client capabilities include form elicitation (`{}` means form, as the 2025-11-25 revision reads it). */
function formElicitation(capabilities: Record<string, unknown> | null): boolean {
  const elicitation = object(capabilities?.elicitation);
  if (!elicitation) return false;
  return Object.keys(elicitation).length === 0 || object(elicitation.form) !== null;
}

export class McpProtocolServer {
  /** The client's capabilities as its `initialize` declared them (legacy era; null before one). */
  private legacyCapabilities: Record<string, unknown> | null = null;
  private readonly inFlight = new Map<Id, AbortController>();
  private readonly asked = new Map<Id, { resolve: (answer: ElicitAnswer) => void; reject: (error: Error) => void }>();
  private nextAsk = 1;
  /** Seals `requestState`; it lives as long as the process (a restarted server asks again). */
  private readonly secret = randomBytes(32);
  /** Nonces of answered requestStates, until they expire: an answer confirms one call, not its replays. */
  private readonly spent = new Map<string, number>();

  constructor(
    private readonly definition: ServerDefinition,
    private readonly send: (message: Message) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /** One message from the client; answers are sent as they are ready (requests run side by side). */
  handle(message: Message): void {
    if (message.method === undefined) {
      this.onResponse(message);
      return;
    }
    if (message.id === undefined || message.id === null) {
      this.onNotification(message.method, object(message.params));
      return;
    }
    const id = message.id;
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    const params = object(message.params) ?? {};
    const method = message.method;
    const run = async () => {
      const modern = this.modernVersion(method, params);
      const result = await this.dispatch(method, params, modern, controller.signal);
      return modern ? { resultType: 'complete', ...result } : result;
    };
    run()
      .then(
        (result) => ({ jsonrpc: '2.0' as const, id, result }),
        (error: unknown) => {
          if (error instanceof InputRequired) return { jsonrpc: '2.0' as const, id, result: error.result };
          const known = error instanceof RpcError ? error : new RpcError(ERRORS.internal, this.definition.redact(error instanceof Error ? error.message : String(error)));
          return { jsonrpc: '2.0' as const, id, error: { code: known.code, message: known.message, ...(known.data !== undefined ? { data: known.data } : {}) } };
        },
      )
      .then(async (answer) => {
        this.inFlight.delete(id);
        // A cancelled request gets no answer (both eras).
        if (!controller.signal.aborted) await this.send(answer);
      })
      .catch(() => undefined);
  }

  /** The client closed its side: a question to it can no longer be answered; calls under way finish and answer. */
  close(): void {
    for (const pending of this.asked.values()) pending.reject(new Error('the client closed the connection; nothing was sent'));
    this.asked.clear();
  }

  /** A 2026-07-28 request names its version in `_meta`; null for a legacy one. An unknown version is refused. */
  private modernVersion(method: string, params: Record<string, unknown>): string | null {
    if (method === 'initialize') return null;
    const version = object(params._meta)?.[VERSION_KEY];
    if (version === undefined) {
      if (method === 'server/discover') throw new RpcError(ERRORS.invalidParams, `server/discover needs _meta["${VERSION_KEY}"]`);
      return null;
    }
    if (typeof version === 'string' && (MODERN_VERSIONS as readonly string[]).includes(version)) return version;
    throw new RpcError(ERRORS.unsupportedVersion, 'Unsupported protocol version', { supported: [...MODERN_VERSIONS], requested: String(version) });
  }

  private async dispatch(method: string, params: Record<string, unknown>, modern: string | null, signal: AbortSignal): Promise<Record<string, unknown>> {
    const { info, instructions, tools, resources } = this.definition;
    const capabilities = { tools: { listChanged: false }, resources: { subscribe: false, listChanged: false } };
    switch (method) {
      case 'initialize': {
        const asked = String(params.protocolVersion ?? '');
        const version = (LEGACY_VERSIONS as readonly string[]).includes(asked) ? asked : LEGACY_VERSIONS[0];
        this.legacyCapabilities = object(params.capabilities);
        return { protocolVersion: version, capabilities, serverInfo: info, instructions };
      }
      case 'server/discover':
        return { supportedVersions: [...MODERN_VERSIONS], capabilities, instructions, ttlMs: 3_600_000, cacheScope: 'public', _meta: { [SERVER_INFO_KEY]: info } };
      case 'ping':
        if (modern) break;
        return {};
      case 'tools/list':
        return { tools: tools.map(({ name, title, description, inputSchema, outputSchema, annotations }) => ({ name, title, description, inputSchema, outputSchema, annotations: { title, ...annotations } })), ...(modern ? CACHE_HINTS : {}) };
      case 'tools/call':
        return (await this.callTool(params, modern, signal)) as unknown as Record<string, unknown>;
      case 'resources/list':
        return { resources: resources.map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })), ...(modern ? CACHE_HINTS : {}) };
      case 'resources/templates/list':
        return { resourceTemplates: [], ...(modern ? CACHE_HINTS : {}) };
      case 'resources/read': {
        const resource = resources.find((r) => r.uri === params.uri);
        if (!resource) throw new RpcError(modern ? ERRORS.invalidParams : ERRORS.resourceNotFound, `Resource not found: ${String(params.uri)}`, { uri: params.uri });
        return { contents: [{ uri: resource.uri, mimeType: resource.mimeType, text: await resource.read() }] };
      }
    }
    throw new RpcError(ERRORS.methodNotFound, `Method not found: ${method}`);
  }

  private async callTool(params: Record<string, unknown>, modern: string | null, signal: AbortSignal): Promise<ToolResult> {
    const name = params.name;
    const tool = this.definition.tools.find((t) => t.name === name);
    if (typeof name !== 'string' || !tool) throw new RpcError(ERRORS.invalidParams, `Unknown tool: ${String(name)}`);
    const args = params.arguments === undefined ? {} : object(params.arguments);
    if (!args) return this.definition.invalidArguments(tool.name, 'arguments: expected an object');
    const problem = schemaProblem(tool.inputSchema, args);
    if (problem) return this.definition.invalidArguments(tool.name, problem);
    const capabilities = modern ? object(object(params._meta)?.[CAPABILITIES_KEY]) : this.legacyCapabilities;
    const context: CallContext = {
      signal,
      canElicit: formElicitation(capabilities),
      elicit: (question) => (modern ? this.answerFromRetry(tool.name, args, params, question) : this.askClient(question, signal)),
    };
    return tool.handler(args, context);
  }

  // --- elicitation, legacy: a request to the client, answered on the same connection.

  private askClient(question: Question, signal: AbortSignal): Promise<ElicitAnswer> {
    const id = `bapi-mcp-elicit-${this.nextAsk++}`;
    return new Promise<ElicitAnswer>((resolve, reject) => {
      const onAbort = () => {
        this.asked.delete(id);
        void this.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the tool call was cancelled' } });
        reject(new Error('cancelled while the person was asked'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.asked.set(id, {
        resolve: (answer) => (signal.removeEventListener('abort', onAbort), resolve(answer)),
        reject: (error) => (signal.removeEventListener('abort', onAbort), reject(error)),
      });
      void this.send({ jsonrpc: '2.0', id, method: 'elicitation/create', params: { message: question.message, requestedSchema: question.requestedSchema } });
    });
  }

  private onResponse(message: Message): void {
    if (message.id === undefined || message.id === null) return;
    const pending = this.asked.get(message.id);
    if (!pending) return;
    this.asked.delete(message.id);
    if (message.error) {
      pending.reject(new Error(`the host could not ask the person: ${message.error.message}`));
      return;
    }
    pending.resolve(elicitAnswer(message.result) ?? { action: 'cancel' });
  }

  private onNotification(method: string, params: Record<string, unknown> | null): void {
    if (method === 'notifications/cancelled') {
      const id = params?.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.inFlight.get(id)?.abort();
    }
    // notifications/initialized and the rest need nothing.
  }

  // --- elicitation, 2026-07-28: input_required, and the answer on the client's retry.

  private async answerFromRetry(tool: string, args: Record<string, unknown>, params: Record<string, unknown>, question: Question): Promise<ElicitAnswer> {
    const digest = createHash('sha256').update(canonicalJson({ tool, args })).digest('base64url');
    const state = params.requestState;
    if (state !== undefined) {
      const payload = this.openState(state);
      // requestState comes through the client: sealed, for this very call, unexpired, and answered once.
      if (!payload || payload.digest !== digest || payload.expires < this.now()) {
        throw new RpcError(ERRORS.invalidParams, 'requestState is not valid for this call (expired, altered, or from another request): call again without it');
      }
      if (this.spent.has(payload.nonce)) throw new RpcError(ERRORS.invalidParams, 'requestState was already answered: call again without it');
      const answer = elicitAnswer(object(params.inputResponses)?.[ANSWER_KEY]);
      if (answer) {
        this.spend(payload.nonce, payload.expires);
        return answer;
      }
      // No answer to what was asked: ask again.
    }
    const sealed = this.sealState({ digest, expires: this.now() + STATE_TTL_MS, nonce: randomBytes(12).toString('base64url') });
    throw new InputRequired({
      resultType: 'input_required',
      inputRequests: { [ANSWER_KEY]: { method: 'elicitation/create', params: { mode: 'form', message: question.message, requestedSchema: question.requestedSchema } } },
      requestState: sealed,
    });
  }

  private sealState(payload: { digest: string; expires: number; nonce: string }): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${createHmac('sha256', this.secret).update(body).digest('base64url')}`;
  }

  private openState(state: unknown): { digest: string; expires: number; nonce: string } | null {
    if (typeof state !== 'string' || state.length > 1024) return null;
    const [body, mac, extra] = state.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const expected = createHmac('sha256', this.secret).update(body).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const payload = object(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
      if (!payload || typeof payload.digest !== 'string' || typeof payload.expires !== 'number' || typeof payload.nonce !== 'string') return null;
      return { digest: payload.digest, expires: payload.expires, nonce: payload.nonce };
    } catch {
      return null;
    }
  }

  private spend(nonce: string, expires: number): void {
    const now = this.now();
    for (const [old, until] of this.spent) if (until < now) this.spent.delete(old);
    this.spent.set(nonce, expires);
  }
}

function elicitAnswer(value: unknown): ElicitAnswer | null {
  const answer = object(value);
  if (!answer || (answer.action !== 'accept' && answer.action !== 'decline' && answer.action !== 'cancel')) return null;
  const content = object(answer.content);
  return { action: answer.action, ...(content ? { content } : {}) };
}
