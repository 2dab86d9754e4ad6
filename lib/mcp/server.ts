// Stage mcp: the toolkit as a stdio MCP server for agent hosts (bapi-mcp). It may import core, spec,
// endpoint, request, guard, http, custody. Every tool is a front-end over the same lib functions the commands
// use: describeEndpoint, the guard, executeRequest. A write that needs consent gets it from the person:
// through the host's elicitation (the person sees the report and types the resource id), or a pending
// approval that the person grants with `bapi-guard approve`. Never from a tool argument.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { colorsFor, type IO, type OutStream } from '../core/io.js';
import { capture, failure, fitting, outputSchemas, printed, pruneSchema, quietIO, structured, type ToolResult } from './results.js';
import { enabledTools, type ToolName } from './toolsets.js';
import { defaultStateDir } from '../core/state-dir.js';
import { ApprovalPendingError, ToolkitError } from '../core/errors.js';
import { describeEndpoint } from '../endpoint/answer.js';
import { filterEndpoints, findTag, parseEndpointArgs } from '../endpoint/match.js';
import { approvalStore } from '../guard/approval-files.js';
import { findSecretKey, redactSecret, type SecretKey } from '../guard/key.js';
import { type GuardRequest } from '../guard/policy.js';
import { approvalRequestFor, guardSpecOf, runGuard, type GuardSpec } from '../guard/run-guard.js';
import { renderVerdict } from '../guard/render.js';
import { viaBroker, warnIfKeyReadable } from '../custody/client.js';
import { brokerSocket, type ForwardedCallOptions } from '../custody/protocol.js';
import { createHttpClient } from '../http/client.js';
import { executeCall, redactedIO, type CallOptions } from '../http/execute.js';
import { queryPairs, type ApiCall } from '../request/args.js';
import { checkBodyValue } from '../request/body.js';
import { tagCounts, visibleEndpoints } from '../spec/index.js';
import { selectSpec, type SelectedSpec, type SpecOptions } from '../spec/select.js';

export interface McpOptions {
  readOnly: boolean;
  spec: SpecOptions;
  /** --tools and --exclude-tools: which tools the host sees (see toolsets.ts). */
  tools?: string[];
  excludeTools?: string[];
  /** --webhook-url-allow: URLs (with `*`) trigger_webhook may send to besides this machine. */
  webhookUrlAllow?: string[];
  /** A result larger than this is cut, and says so (default 60 000 characters). */
  maxResultChars?: number;
}

const DEFAULT_MAX_RESULT = 60_000;

// A method as a host's model may write it (`patch`): the tools read it in upper case.
const ANY_CASE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'post', 'put', 'patch', 'delete'] as const;

/** What every tool handler shares: the server, its options, the environment, the key and the state directory. */
export interface ToolContext {
  server: McpServer;
  z: typeof import('zod').z;
  options: McpOptions;
  env: IO['env'];
  cwd: string;
  key: SecretKey;
  stateDir: string;
  limit: number;
  spec: (err: OutStream) => Promise<SelectedSpec>;
  /** A key-custody broker's socket: then it judges, asks its person and sends; this server holds no key. */
  broker: string | null;
  /** The tools the host sees; the others are not registered. */
  enabled: Set<ToolName>;
  outputs: ReturnType<typeof outputSchemas>;
}

/** Registers the tools and resources on `server`. */
export async function registerTools(server: McpServer, options: McpOptions, env: IO['env'], cwd: string): Promise<void> {
  const { z } = await import('zod');
  // An MCP server is driven by an agent: consent is a person's, whatever the environment says.
  const agentEnv = { ...env, CLERK_BAPI_AGENT: 'bapi-mcp' };
  const context: ToolContext = {
    server,
    z,
    options,
    env: agentEnv,
    cwd,
    key: findSecretKey(agentEnv, cwd),
    stateDir: defaultStateDir(agentEnv, cwd),
    limit: options.maxResultChars ?? DEFAULT_MAX_RESULT,
    spec: async (err: OutStream) => selectSpec(options.spec, quietIO(agentEnv, cwd, capture().stream, err)),
    broker: brokerSocket(agentEnv, cwd)?.path ?? null,
    enabled: enabledTools({ readOnly: options.readOnly, ...(options.tools ? { tools: options.tools } : {}), ...(options.excludeTools ? { exclude: options.excludeTools } : {}) }),
    outputs: outputSchemas(z),
  };
  if (context.broker) warnIfKeyReadable(quietIO(agentEnv, cwd, capture().stream, process.stderr as OutStream), 'bapi-mcp');
  registerExploreTools(context);
  if (context.enabled.has('list_webhook_events') || context.enabled.has('trigger_webhook')) {
    const { registerWebhookTools } = await import('./webhook-tools.js');
    registerWebhookTools(context);
  }
  if (context.enabled.has('call_api')) registerCallTool(context);
  if (context.enabled.has('check_request')) registerCheckTool(context);
  if (context.enabled.has('write_api')) registerWriteTool(context);
}

/** The spec versions resource, search_endpoints and describe_endpoint: the spec, nothing sent. */
function registerExploreTools({ server, z, options, env, cwd, key, limit, spec, enabled, outputs }: ToolContext): void {
  server.registerResource('spec-versions', 'clerk-bapi://spec/versions', { description: 'Spec versions, the latest, the selected one, and its tags with endpoint counts', mimeType: 'application/json' }, async (uri) => {
    const selected = await spec(capture().stream);
    const document = { versions: selected.versions, latest: selected.latest, selected: selected.version, tags: tagCounts(selected.summary, options.spec.includePlatform) };
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(document, null, 2) }] };
  });

  if (enabled.has('search_endpoints')) server.registerTool(
    'search_endpoints',
    {
      description: 'Find Backend API endpoints by tag, keyword and method in the selected spec version. Returns {endpoints: [{method, path, operationId, summary, tags, deprecated}], total, cut}.',
      inputSchema: { tag: z.string().optional(), keyword: z.string().optional(), method: z.enum(ANY_CASE_METHODS).optional() },
      outputSchema: outputs.search_endpoints,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const selected = await spec(capture().stream);
        const visible = visibleEndpoints(selected.summary, options.spec.includePlatform);
        const names = [...new Set(visible.flatMap((e) => e.tags))];
        const tag = args.tag ? findTag(names, args.tag, selected.version) : null;
        const grep = (args.keyword ?? '').toLowerCase().split(/\s+/).filter((w) => w !== '');
        const found = filterEndpoints(visible, tag, grep, args.method ? [args.method.toUpperCase()] : []);
        const all = found.map((e) => ({ method: e.method, path: e.path, operationId: e.operationId ?? null, summary: e.summary ?? null, tags: e.tags, deprecated: e.deprecated }));
        const endpoints = fitting(all, limit);
        const document = { endpoints, total: all.length, cut: endpoints.length < all.length };
        return structured(document, JSON.stringify(document, null, 2), limit, 'narrow it with tag, keyword or method');
      } catch (error) {
        return failure(error, key);
      }
    },
  );

  if (enabled.has('describe_endpoint')) server.registerTool(
    'describe_endpoint',
    {
      description: 'One endpoint in full: parameters, request body schema, responses (every $ref resolved), ready bapi-curl/curl lines and the @clerk/backend call. depth limits the field trees of responses. Returns {endpoint, cut}.',
      inputSchema: { method: z.enum(ANY_CASE_METHODS), path: z.string().min(1), depth: z.number().int().min(0).max(20).optional() },
      outputSchema: outputs.describe_endpoint,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const out = capture();
        await describeEndpoint({ endpoint: parseEndpointArgs([args.method, args.path]), format: 'json', diff: null, depth: null, spec: options.spec }, quietIO(env, cwd, out.stream, capture().stream));
        // Response schemas (the User object, …) are most of the size: cut below `depth` (default 2).
        const document = JSON.parse(out.text()) as { responses?: Record<string, { schema?: unknown }> };
        const depth = args.depth ?? 2;
        for (const response of Object.values(document.responses ?? {})) if (response && response.schema !== undefined) response.schema = pruneSchema(response.schema, depth);
        let text = JSON.stringify(document, null, 2);
        // Still over the cap: the response schemas go, and the result says so.
        const cut = text.length > limit;
        if (cut) {
          for (const response of Object.values(document.responses ?? {})) if (response) response.schema = { $cut: 'ask again with a smaller depth' };
          text = JSON.stringify(document, null, 2);
        }
        return structured({ endpoint: document, cut }, text, limit, 'ask again with a smaller depth');
      } catch (error) {
        return failure(error, key);
      }
    },
  );

}

/** One request through the executor: what it printed, and its failure as data (never read back from stderr). */
async function execute({ options, env, cwd, key, broker }: ToolContext, call: { method: string; path: string; query?: unknown; body?: unknown }, extra: Partial<CallOptions>): Promise<{ code: number; out: string; err: string; error: unknown }> {
  const out = capture();
  const err = capture();
  const io = redactedIO(quietIO(env, cwd, out.stream, err.stream), key);
  // The tool's own request, straight into the pipeline: no command-line flags are rebuilt.
  const apiCall: ApiCall = { method: call.method, path: call.path, query: queryPairs(call.query ?? null), body: call.body, form: null, headers: {} };
  const request: CallOptions = {
    include: false,
    dryRun: false,
    paginate: false,
    slurp: false,
    timeoutMs: 30_000,
    admin: false,
    yes: false,
    backup: true,
    waitApprovalMs: null,
    spec: options.spec,
    ...extra,
  };
  try {
    const code = broker
      ? await viaBroker(broker, { op: 'call', call: apiCall, options: forwardedOptions(request), wait: null, terminal: { stdout: false, stderr: false, noColor: true } }, io)
      : await executeCall(apiCall, request, { io, createClient: createHttpClient, selectSpec, now: () => new Date(), key });
    return { code, out: out.text(), err: err.text(), error: null };
  } catch (error) {
    const message = error instanceof ToolkitError ? [error.message, ...error.hints].join('\n') : error instanceof Error ? error.message : String(error);
    return { code: error instanceof ToolkitError ? error.exitCode : 1, out: out.text(), err: `${err.text()}${redactSecret(message, key.value, key.info.masked ?? '[REDACTED]')}`, error };
  }
}

/** call_api: a GET, with pagination up to max_items and a jq filter. */
function registerCallTool(context: ToolContext): void {
  const { server, z, key, limit } = context;
  server.registerTool(
    'call_api',
    {
      description: 'A GET request to the Backend API (reads only). query is an object of parameters; paginate follows the pages up to max_items (default 100); jq filters the response. The result is capped and says when it was cut.',
      inputSchema: {
        path: z.string().min(1),
        query: z.record(z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
        paginate: z.boolean().optional(),
        max_items: z.number().int().min(1).max(100_000).optional(),
        jq: z.string().optional(),
      },
      outputSchema: context.outputs.call_api,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      if (extra.signal.aborted) return failure(new Error('cancelled before it was sent'), key);
      const paginate = args.paginate === true;
      const done = await execute(context, { method: 'GET', path: args.path, query: args.query }, { paginate, ...(paginate ? { maxItems: args.max_items ?? 100 } : {}), ...(args.jq ? { jq: args.jq } : {}) });
      // An HTTP error: Clerk's summary, then the body it sent (both already free of the key).
      if (done.code !== 0) return failure(done.error ?? new Error(`exit ${done.code}`), key, [done.err.trim(), done.out.slice(0, limit)].filter(Boolean).join('\n'));
      return printed(done.out, limit, paginate ? 'lower max_items, or filter with jq' : 'ask for fewer items (limit), or filter with jq', paginate);
    },
  );

}

async function guardSpec({ options, spec }: ToolContext): Promise<GuardSpec> {
  const selected = await spec(capture().stream);
  return guardSpecOf(selected, await selected.loadDetail(), options.spec.includePlatform);
}

function writeInput(z: ToolContext['z']) {
  return {
    method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().min(1),
    query: z.record(z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
    body: z.unknown().optional(),
  };
}

/** A tool call's request for the guard; its body meets the CLI's limits (depth, finite numbers) before anything walks it. */
function judged(args: { method: string; path: string; query?: unknown; body?: unknown }): GuardRequest {
  if (args.body !== undefined) checkBodyValue(args.body, 'body');
  return { method: args.method, path: args.path, query: queryPairs(args.query ?? null), body: args.body };
}

/** check_request: the guard's verdict; nothing sent, nothing approved. */
function registerCheckTool(context: ToolContext): void {
  const { server, z, env, cwd, key, stateDir, limit } = context;
  server.registerTool(
    'check_request',
    {
      description: "The guard's verdict on a request, with nothing sent and nothing approved: key, request against the spec (problems at their JSON paths), scopes, what it destroys (IRREVERSIBLE) and what it only takes away until undone, metadata advice, and whether a person must confirm.",
      inputSchema: { ...writeInput(z), method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) },
      outputSchema: context.outputs.check_request,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        if (context.broker) {
          const text = await brokerVerdict(context, judged(args));
          return structured({ verdict: JSON.parse(text) as Record<string, unknown> }, text, limit, 'see problems and checks');
        }
        const err = capture();
        const outcome = await runGuard(judged(args), await guardSpec(context), quietIO(env, cwd, capture().stream, err.stream), { key, prompter: null, issueApproval: false, issuePending: false, explain: false, stateDir });
        return structured({ verdict: outcome.verdict as unknown as Record<string, unknown> }, JSON.stringify(outcome.verdict, null, 2), limit, 'see problems and checks');
      } catch (error) {
        return failure(error, key);
      }
    },
  );
}

/** write_api: a write behind the guard, confirmed by the person (elicitation, or a pending approval). */
function registerWriteTool(context: ToolContext): void {
  const { server, env, cwd, key, stateDir, limit } = context;
  server.registerTool(
    'write_api',
    {
      description:
        "A write (POST, PUT, PATCH, DELETE) behind the guard. A write that needs consent (it destroys data, uses a live key, or is outside CLERK_BAPI_SCOPES) is confirmed by the person: the host asks them (they see what it destroys and type the resource id), or, when the host cannot ask, the result names a 'bapi-guard approve apr_…' command for the person to run in their own terminal; call again with the same request afterwards. Nothing in the arguments can confirm it.",
      inputSchema: writeInput(context.z),
      outputSchema: context.outputs.write_api,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        const request = judged(args);
        if (context.broker) return await writeThroughBroker(context, args);
        const guardIo = quietIO(env, cwd, capture().stream, capture().stream);
        const target = await guardSpec(context);
        // The verdict as the person will read it, with nothing issued yet.
        const verdict = (await runGuard(request, target, guardIo, { key, prompter: null, issueApproval: false, issuePending: false, explain: false, stateDir })).verdict;
        const needsPerson = !verdict.allowed && verdict.confirmation.person;
        if (!verdict.allowed && !needsPerson) return failure(new Error(`refused by the guard (exit ${verdict.exitCode}): ${verdict.reason ?? ''}`), key, JSON.stringify({ problems: verdict.problems, checks: verdict.checks }, null, 2));
        if (needsPerson && key.info.fingerprint && server.server.getClientCapabilities()?.elicitation) {
          const expected = verdict.confirmation.expected ?? 'yes';
          const report = renderVerdict(verdict, colorsFor({ isTTY: false, write: () => true }, {}), { outcome: false, label: 'bapi-mcp' });
          const answer = await server.server.elicitInput(
            {
              message: `${report}\nTo send this request once, type ${expected === 'yes' ? 'yes' : `the id ${expected}`}.`,
              requestedSchema: { type: 'object', properties: { confirm: { type: 'string', title: `Type ${expected} to confirm` } }, required: ['confirm'] },
            },
            { signal: extra.signal },
          );
          const typed = typeof answer.content?.confirm === 'string' ? answer.content.confirm.trim() : '';
          if (answer.action !== 'accept' || typed !== expected) {
            return failure(new Error(answer.action === 'accept' ? `not confirmed: the answer was not ${expected}; nothing was sent` : `the person ${answer.action === 'decline' ? 'declined' : 'cancelled'}; nothing was sent`), key);
          }
          // The person's answer, through the host, is the consent: one approval for exactly this request.
          approvalStore(stateDir).create(approvalRequestFor(verdict, target, env, key.info.fingerprint), {
            endpoint: verdict.endpoint ? `${verdict.endpoint.method} ${verdict.endpoint.path}` : null,
            destructive: verdict.destructive,
            confirmedBy: 'elicitation',
            scopeBypass: verdict.scopes?.personNeeded ? 'elicitation' : null,
            consentMode: 'person',
            destroys: verdict.destroys,
          });
        }
        if (extra.signal.aborted) return failure(new Error('cancelled; nothing was sent'), key);
        // The executor consumes the approval (or, without one, records a pending approval for the person).
        const done = await execute(context, args, { waitApprovalMs: null });
        if (done.code === 0) return printed(done.out, limit, 'the write was applied; read it back with call_api for the parts you need');
        if (done.error instanceof ApprovalPendingError) {
          const pending = done.error;
          return failure(new ApprovalPendingError(`a person must approve this request: ask them to run in their own terminal: ${pending.approveCommand}, then call write_api again with the same request`, pending.approvalId, pending.approveCommand, { decideWhere: "the person's own terminal, not one the agent drives" }), key, done.err);
        }
        return failure(done.error ?? new Error(`exit ${done.code}`), key, [done.err.trim(), done.out].filter(Boolean).join('\n'));
      } catch (error) {
        return failure(error, key);
      }
    },
  );
}

/**
 * write_api under a key-custody broker: the broker judges it and asks the person at its terminal;
 * no elicitation here (whatever a host answered would grant nothing). Pending: where the person
 * answers, as data, and to call again.
 */
async function writeThroughBroker(context: ToolContext, args: { method: string; path: string; query?: unknown; body?: unknown }): Promise<ToolResult> {
  const done = await execute(context, args, { waitApprovalMs: null });
  if (done.code === 0) return printed(done.out, context.limit, 'the write was applied; read it back with call_api for the parts you need');
  const error = done.error as { code?: string; approvalId?: unknown; toJSON?: () => Record<string, unknown> } | null;
  if (error?.code === 'approval_pending') {
    const details = error.toJSON?.() ?? {};
    const id = String(details.approval_id ?? '');
    const where = String(details.decide_where ?? 'the terminal running bapi-guard serve');
    return failure(new ApprovalPendingError(`the person must answer ${id} in ${where} (it is shown there now); then call write_api again with the same request. Nothing for you to run.`, id, null, { decideWhere: where }), context.key, done.err);
  }
  return failure(done.error ?? new Error(`exit ${done.code}`), context.key, [done.err.trim(), done.out].filter(Boolean).join('\n'));
}

/** check_request under a broker: its verdict, judged with its spec and scopes; nothing issued. */
async function brokerVerdict(context: ToolContext, request: GuardRequest): Promise<string> {
  const out = capture();
  const io = quietIO(context.env, context.cwd, out.stream, capture().stream);
  await viaBroker(context.broker as string, { op: 'guard', check: true, request, json: true, wait: null, ...(context.options.spec.apiVersion ? { apiVersion: context.options.spec.apiVersion } : {}), includePlatform: context.options.spec.includePlatform, terminal: { stdout: false, stderr: false, noColor: true } }, io).catch((error: unknown) => {
    // A refusal is a verdict too: its JSON is on stdout.
    if (out.text() === '') throw error;
  });
  return out.text();
}

function forwardedOptions(request: CallOptions): ForwardedCallOptions {
  return {
    include: request.include,
    verbose: false,
    dryRun: request.dryRun,
    paginate: request.paginate,
    slurp: request.slurp,
    ...(request.maxItems !== undefined ? { maxItems: request.maxItems } : {}),
    ...(request.jq !== undefined ? { jq: request.jq } : {}),
    timeoutMs: request.timeoutMs,
    backup: request.backup,
    ...(request.spec.apiVersion !== undefined ? { apiVersion: request.spec.apiVersion } : {}),
    includePlatform: request.spec.includePlatform,
  };
}
