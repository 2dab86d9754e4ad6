// Stage mcp: the toolkit as a stdio MCP server for agent hosts (bapi-mcp). It may import core, spec,
// endpoint, request, guard, http, custody. Every tool is a front-end over the same lib functions the commands
// use: describeEndpoint, the guard, executeCall. A write that needs consent gets it from the person:
// through the host's elicitation (the person sees the report and types the resource id), or a pending
// approval that the person grants with `bapi-guard approve`. Never from a tool argument.
// The tools are data (protocol.ts serves them): a name, JSON Schemas for input and output, annotations
// and a handler.
import { colorsFor, type IO, type OutStream } from '../core/io.js';
import { packageVersion } from '../core/version.js';
import { capture, failure, fitting, guarded, input, outputSchemas, printed, pruneSchema, quietIO, structured, type ToolResult } from './results.js';
import type { CallContext, Resource, ServerDefinition, Tool } from './protocol.js';
import type { JsonSchema } from './json-schema.js';
import { enabledTools, type ToolName } from './toolsets.js';
import { addWebhookTools } from './webhook-tools.js';
import { defaultStateDir } from '../core/state-dir.js';
import { ApprovalPendingError, DeclinedError, ToolkitError, UsageError } from '../core/errors.js';
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
const ANY_CASE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'post', 'put', 'patch', 'delete'];

const INSTRUCTIONS =
  "Clerk's Backend API with its spec at hand. Find an endpoint with search_endpoints, read it with describe_endpoint, read data with call_api. Every write goes through the guard (check_request shows its verdict first); one that destroys data or needs consent is confirmed by the person, never by a tool argument.";

/** What every tool handler shares: its options, the environment, the key and the state directory. */
export interface ToolContext {
  options: McpOptions;
  env: IO['env'];
  cwd: string;
  key: SecretKey;
  stateDir: string;
  limit: number;
  spec: (err: OutStream) => Promise<SelectedSpec>;
  /** A key-custody broker's socket: then it judges, asks its person and sends; this server holds no key. */
  broker: string | null;
  /** The tools the host sees; the others are not served. */
  enabled: Set<ToolName>;
  outputs: ReturnType<typeof outputSchemas>;
  /** Where each tool is added. */
  tools: Tool[];
}

const QUERY: JsonSchema = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'array'], items: { type: 'string' } } };

/** The server bapi-mcp serves: its tools and resources, as the options and the environment choose. */
export function defineServer(options: McpOptions, env: IO['env'], cwd: string): ServerDefinition {
  // An MCP server is driven by an agent: consent is a person's, whatever the environment says.
  const agentEnv = { ...env, CLERK_BAPI_AGENT: 'bapi-mcp' };
  const context: ToolContext = {
    options,
    env: agentEnv,
    cwd,
    key: findSecretKey(agentEnv, cwd),
    stateDir: defaultStateDir(agentEnv, cwd),
    limit: options.maxResultChars ?? DEFAULT_MAX_RESULT,
    spec: async (err: OutStream) => selectSpec(options.spec, quietIO(agentEnv, cwd, capture().stream, err)),
    broker: brokerSocket(agentEnv, cwd)?.path ?? null,
    enabled: enabledTools({ readOnly: options.readOnly, ...(options.tools ? { tools: options.tools } : {}), ...(options.excludeTools ? { exclude: options.excludeTools } : {}) }),
    outputs: outputSchemas(),
    tools: [],
  };
  if (context.broker) warnIfKeyReadable(quietIO(agentEnv, cwd, capture().stream, process.stderr as OutStream), 'bapi-mcp');
  addExploreTools(context);
  addCallTool(context);
  addCheckTool(context);
  addWriteTool(context);
  addWebhookTools(context);
  const resources: Resource[] = [
    {
      uri: 'clerk-bapi://spec/versions',
      name: 'spec-versions',
      description: 'Spec versions, the latest, the selected one, and its tags with endpoint counts',
      mimeType: 'application/json',
      read: async () => {
        const selected = await context.spec(capture().stream);
        return JSON.stringify({ versions: selected.versions, latest: selected.latest, selected: selected.version, tags: tagCounts(selected.summary, options.spec.includePlatform) }, null, 2);
      },
    },
  ];
  return {
    info: { name: 'clerk-bapi-toolkit', version: packageVersion() },
    instructions: INSTRUCTIONS,
    tools: context.tools.filter((tool) => context.enabled.has(tool.name as ToolName)),
    resources,
    invalidArguments: (tool, problem) => failure(new UsageError(`${tool}: ${problem}`, { hints: ["The tool's inputSchema (tools/list) says what it takes."] }), context.key),
    redact: (text) => redactSecret(text, context.key.value, context.key.info.masked ?? '[REDACTED]'),
  };
}

function text(args: Record<string, unknown>, name: string): string | undefined {
  return typeof args[name] === 'string' ? (args[name] as string) : undefined;
}

/** search_endpoints and describe_endpoint: the spec, nothing sent. */
function addExploreTools({ tools, options, env, cwd, key, limit, spec, outputs }: ToolContext): void {
  tools.push({
    name: 'search_endpoints',
    title: 'Search Backend API endpoints',
    description: 'Find Backend API endpoints by tag, keyword and method in the selected spec version. Returns {endpoints: [{method, path, operationId, summary, tags, deprecated}], total, cut}.',
    inputSchema: input({ tag: { type: 'string' }, keyword: { type: 'string' }, method: { type: 'string', enum: ANY_CASE_METHODS } }),
    outputSchema: outputs.search_endpoints,
    annotations: { readOnlyHint: true, openWorldHint: false },
    handler: guarded(key, async (args) => {
      const selected = await spec(capture().stream);
      const visible = visibleEndpoints(selected.summary, options.spec.includePlatform);
      const names = [...new Set(visible.flatMap((e) => e.tags))];
      const tagName = text(args, 'tag');
      const tag = tagName ? findTag(names, tagName, selected.version) : null;
      const grep = (text(args, 'keyword') ?? '').toLowerCase().split(/\s+/).filter((w) => w !== '');
      const method = text(args, 'method');
      const found = filterEndpoints(visible, tag, grep, method ? [method.toUpperCase()] : []);
      const all = found.map((e) => ({ method: e.method, path: e.path, operationId: e.operationId ?? null, summary: e.summary ?? null, tags: e.tags, deprecated: e.deprecated }));
      const endpoints = fitting(all, limit);
      const document = { endpoints, total: all.length, cut: endpoints.length < all.length };
      return structured(document, JSON.stringify(document, null, 2), limit, 'narrow it with tag, keyword or method');
    }),
  });

  tools.push({
    name: 'describe_endpoint',
    title: 'Describe an endpoint',
    description: 'One endpoint in full: parameters, request body schema, responses (every $ref resolved), ready bapi-curl/curl lines and the @clerk/backend call. depth limits the field trees of responses. Returns {endpoint, cut}.',
    inputSchema: input({ method: { type: 'string', enum: ANY_CASE_METHODS }, path: { type: 'string', minLength: 1 }, depth: { type: 'integer', minimum: 0, maximum: 20 } }, ['method', 'path']),
    outputSchema: outputs.describe_endpoint,
    annotations: { readOnlyHint: true, openWorldHint: false },
    handler: guarded(key, async (args) => {
      const out = capture();
      await describeEndpoint({ endpoint: parseEndpointArgs([String(args.method), String(args.path)]), format: 'json', diff: null, depth: null, spec: options.spec }, quietIO(env, cwd, out.stream, capture().stream));
      // Response schemas (the User object, …) are most of the size: cut below `depth` (default 2).
      const document = JSON.parse(out.text()) as { responses?: Record<string, { schema?: unknown }> };
      const depth = typeof args.depth === 'number' ? args.depth : 2;
      for (const response of Object.values(document.responses ?? {})) if (response && response.schema !== undefined) response.schema = pruneSchema(response.schema, depth);
      let shown = JSON.stringify(document, null, 2);
      // Still over the cap: the response schemas go, and the result says so.
      const cut = shown.length > limit;
      if (cut) {
        for (const response of Object.values(document.responses ?? {})) if (response) response.schema = { $cut: 'ask again with a smaller depth' };
        shown = JSON.stringify(document, null, 2);
      }
      return structured({ endpoint: document, cut }, shown, limit, 'ask again with a smaller depth');
    }),
  });
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
function addCallTool(context: ToolContext): void {
  const { key, limit } = context;
  context.tools.push({
    name: 'call_api',
    title: 'Read from the Backend API (GET)',
    description: 'A GET request to the Backend API (reads only). query is an object of parameters; paginate follows the pages up to max_items (default 100); jq filters the response. The result is capped and says when it was cut.',
    inputSchema: input({ path: { type: 'string', minLength: 1 }, query: QUERY, paginate: { type: 'boolean' }, max_items: { type: 'integer', minimum: 1, maximum: 100_000 }, jq: { type: 'string' } }, ['path']),
    outputSchema: context.outputs.call_api,
    annotations: { readOnlyHint: true, openWorldHint: true },
    handler: guarded(key, async (args, call) => {
      if (call.signal.aborted) return failure(new Error('cancelled before it was sent'), key);
      const paginate = args.paginate === true;
      const jq = text(args, 'jq');
      const maxItems = typeof args.max_items === 'number' ? args.max_items : 100;
      const done = await execute(context, { method: 'GET', path: String(args.path), query: args.query }, { paginate, ...(paginate ? { maxItems } : {}), ...(jq ? { jq } : {}) });
      // An HTTP error: Clerk's summary, then the body it sent (both already free of the key).
      if (done.code !== 0) return failure(done.error ?? new Error(`exit ${done.code}`), key, [done.err.trim(), done.out.slice(0, limit)].filter(Boolean).join('\n'));
      return printed(done.out, limit, paginate ? 'lower max_items, or filter with jq' : 'ask for fewer items (limit), or filter with jq', paginate);
    }),
  });
}

async function guardSpec({ options, spec }: ToolContext): Promise<GuardSpec> {
  const selected = await spec(capture().stream);
  return guardSpecOf(selected, await selected.loadDetail(), options.spec.includePlatform);
}

function writeInput(methods: string[]): JsonSchema & { type: 'object' } {
  return input({ method: { type: 'string', enum: methods }, path: { type: 'string', minLength: 1 }, query: QUERY, body: {} }, ['method', 'path']);
}

type WriteArgs = { method: string; path: string; query?: unknown; body?: unknown };

/** A tool call's request for the guard; its body meets the CLI's limits (depth, finite numbers) before anything walks it. */
function judged(args: WriteArgs): GuardRequest {
  if (args.body !== undefined) checkBodyValue(args.body, 'body');
  return { method: args.method, path: args.path, query: queryPairs(args.query ?? null), body: args.body };
}

/** check_request: the guard's verdict; nothing sent, nothing approved. */
function addCheckTool(context: ToolContext): void {
  const { env, cwd, key, stateDir, limit } = context;
  context.tools.push({
    name: 'check_request',
    title: 'Check a request with the guard',
    description: "The guard's verdict on a request, with nothing sent and nothing approved: key, request against the spec (problems at their JSON paths), scopes, what it destroys (IRREVERSIBLE) and what it only takes away until undone, metadata advice, and whether a person must confirm.",
    inputSchema: writeInput(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    outputSchema: context.outputs.check_request,
    annotations: { readOnlyHint: true, openWorldHint: false },
    handler: guarded(key, async (args) => {
      const request = judged(args as WriteArgs);
      if (context.broker) {
        const verdict = await brokerVerdict(context, request);
        return structured({ verdict: JSON.parse(verdict) as Record<string, unknown> }, verdict, limit, 'see problems and checks');
      }
      const outcome = await runGuard(request, await guardSpec(context), quietIO(env, cwd, capture().stream, capture().stream), { key, prompter: null, issueApproval: false, issuePending: false, explain: false, stateDir });
      return structured({ verdict: outcome.verdict as unknown as Record<string, unknown> }, JSON.stringify(outcome.verdict, null, 2), limit, 'see problems and checks');
    }),
  });
}

/** write_api: a write behind the guard, confirmed by the person (elicitation, or a pending approval). */
function addWriteTool(context: ToolContext): void {
  const { key, limit } = context;
  context.tools.push({
    name: 'write_api',
    title: 'Write through the guard',
    description:
      "A write (POST, PUT, PATCH, DELETE) behind the guard. A write that needs consent (it destroys data, uses a live key, or is outside CLERK_BAPI_SCOPES) is confirmed by the person: the host asks them (they see what it destroys and type the resource id), or, when the host cannot ask, the result names a 'bapi-guard approve apr_…' command for the person to run in their own terminal; call again with the same request afterwards. Nothing in the arguments can confirm it.",
    inputSchema: writeInput(['POST', 'PUT', 'PATCH', 'DELETE']),
    outputSchema: context.outputs.write_api,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    handler: guarded(key, async (raw, call) => {
      const args = raw as WriteArgs;
      const request = judged(args);
      if (context.broker) return await writeThroughBroker(context, args);
      const refused = await askThePerson(context, request, call);
      if (refused) return refused;
      if (call.signal.aborted) return failure(new Error('cancelled; nothing was sent'), key);
      // The executor consumes the approval (or, without one, records a pending approval for the person).
      const done = await execute(context, args, { waitApprovalMs: null });
      if (done.code === 0) return printed(done.out, limit, 'the write was applied; read it back with call_api for the parts you need');
      if (done.error instanceof ApprovalPendingError) {
        const pending = done.error;
        return failure(new ApprovalPendingError(`a person must approve this request: ask them to run in their own terminal: ${pending.approveCommand}, then call write_api again with the same request`, pending.approvalId, pending.approveCommand, { decideWhere: "the person's own terminal, not one the agent drives" }), key, done.err);
      }
      return failure(done.error ?? new Error(`exit ${done.code}`), key, [done.err.trim(), done.out].filter(Boolean).join('\n'));
    }),
  });
}

/**
 * The guard's verdict, and, when it needs a person and the host can ask, the person's answer through
 * the host: typed right, it becomes one approval for exactly this request. A refusal is the result to
 * return; null goes on to the executor (which consumes the approval, or records a pending one).
 */
async function askThePerson(context: ToolContext, request: GuardRequest, call: CallContext): Promise<ToolResult | null> {
  const { env, cwd, key, stateDir } = context;
  const target = await guardSpec(context);
  // The verdict as the person will read it, with nothing issued yet.
  const verdict = (await runGuard(request, target, quietIO(env, cwd, capture().stream, capture().stream), { key, prompter: null, issueApproval: false, issuePending: false, explain: false, stateDir })).verdict;
  const needsPerson = !verdict.allowed && verdict.confirmation.person;
  if (!verdict.allowed && !needsPerson) return failure(new Error(`refused by the guard (exit ${verdict.exitCode}): ${verdict.reason ?? ''}`), key, JSON.stringify({ problems: verdict.problems, checks: verdict.checks }, null, 2));
  if (!needsPerson || !key.info.fingerprint || !call.canElicit) return null;
  const expected = verdict.confirmation.expected ?? 'yes';
  const report = renderVerdict(verdict, colorsFor({ isTTY: false, write: () => true }, {}), { outcome: false, label: 'bapi-mcp' });
  const answer = await call.elicit({
    message: `${report}\nTo send this request once, type ${expected === 'yes' ? 'yes' : `the id ${expected}`}.`,
    requestedSchema: { type: 'object', properties: { confirm: { type: 'string', title: `Type ${expected} to confirm` } }, required: ['confirm'] },
  });
  const typed = typeof answer.content?.confirm === 'string' ? answer.content.confirm.trim() : '';
  if (answer.action !== 'accept' || typed !== expected) {
    return failure(new DeclinedError(answer.action === 'accept' ? `not confirmed: the answer was not ${expected}; nothing was sent` : `the person ${answer.action === 'decline' ? 'declined' : 'cancelled'}; nothing was sent`), key);
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
  return null;
}

/**
 * write_api under a key-custody broker: the broker judges it and asks the person at its terminal;
 * no elicitation here (whatever a host answered would grant nothing). Pending: where the person
 * answers, as data, and to call again.
 */
async function writeThroughBroker(context: ToolContext, args: WriteArgs): Promise<ToolResult> {
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
