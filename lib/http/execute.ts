// Stage http: sending requests, and what comes back (client, pages, jq, audit, backups). It may
// import core, spec, endpoint, request, guard (the guard's code is loaded only for writes).
//
// bapi-curl's executor: one request through the pipeline (prepare → judge → authorize → send), with
// what the command line adds around it: the request from arguments or stdin, the dry run, the checks
// of a read, and printing. Front-ends with a request of their own (bapi-mcp) call executeCall.
import { EXIT, ToolkitError, UnavailableError, UsageError } from '../core/errors.js';
import { readStdin, writeLine, type IO } from '../core/io.js';
import { defaultStateDir } from '../core/state-dir.js';
import { isObject } from '../core/values.js';
import { EndpointNotFoundError, findEndpoint, hasGet, matchEndpoint } from '../endpoint/match.js';
import { placeholderIn } from '../endpoint/target.js';
import type { ApprovalStore } from '../guard/approvals.js';
import type { ConsentRecord } from '../guard/authorize.js';
import type { Consent } from '../guard/consent.js';
import { findSecretKey, keyError, redactingStream, type SecretKey } from '../guard/key.js';
import type { GuardRequest } from '../guard/policy.js';
import type { GuardSpec } from '../guard/run-guard.js';
import { isWriteMethod } from '../guard/scopes.js';
import { callFromArgs, callFromJson, type ApiCall } from '../request/args.js';
import { bodyFieldTypes } from '../request/body.js';
import { loadForm } from '../request/form.js';
import { bodyText, judgedRequest, prepareRequest, wireHeaders, type NormalizedRequest } from '../request/prepare.js';
import { buildRequestUrl, resolveBaseUrl, resolveRequestTarget } from '../request/url.js';
import { endpointKey, visibleEndpoints, type EndpointRaw, type EndpointSummary, type SpecDetail } from '../spec/index.js';
import type { selectSpec, SelectedSpec, SpecOptions } from '../spec/select.js';
import type { ClientConfig, HttpClient } from './client.js';
import { renderDryRun } from './dry-run.js';
import { pagePlan } from './page-plan.js';
import { emit, printResponse, runPaginated } from './print.js';
import { readCurrent } from './read-current.js';
import { clerkClient, sendRequest, usableStateDir } from './send.js';

/** One request to execute, as the command line (or another front-end) gives it. */
export interface ExecuteOptions {
  /** From the arguments; null when the request comes as JSON on stdin. */
  method: string | null;
  path: string | null;
  data?: string;
  rawFields: string[];
  typedFields: string[];
  query: string[];
  form: string[];
  headers: string[];
  include: boolean;
  /** The request line and headers (key masked), and the response's status and headers, on stderr. */
  verbose?: boolean;
  dryRun: boolean;
  paginate: boolean;
  slurp: boolean;
  /** --max-items N: --paginate stops after N items. */
  maxItems?: number;
  jq?: string;
  timeoutMs: number;
  admin: boolean;
  yes: boolean;
  backup: boolean;
  /** --wait-approval[=SECONDS]: how long to wait for a person's decision; null without the flag. */
  waitApprovalMs: number | null;
  /** --no-wait: under a key-custody broker (which waits for its person by default), return approval_pending at once. */
  noWait?: boolean;
  spec: SpecOptions;
  /** --concurrency N: cursors in flight for --paginate (GET /users), requests for --batch (default 4). */
  concurrency?: number;
  /** --batch FILE|- [--resume] [--concurrency N]: run an NDJSON batch instead of one request. */
  batch?: { file: string; resume: boolean; concurrency: number };
}

/** What the executor talks to; tests and other front-ends replace any of them. */
export interface ExecuteDeps {
  io: IO;
  createClient: (config: ClientConfig) => HttpClient;
  selectSpec: typeof selectSpec;
  now: () => Date;
  /** The key, when the caller found it already. */
  key?: SecretKey;
  /** Set when a key-custody broker executes the request for a client (lib/custody). */
  custody?: Custody;
}

/**
 * A key-custody broker's rules for what it executes for others: approvals in its memory, decided at
 * its terminal; consent is always a person's; batch journals sealed with a key derived from the
 * secret key (so no one without the key forges one); and the client's going away aborts a request
 * that has not been sent.
 */
export interface Custody {
  store: ApprovalStore;
  consent: Consent;
  seal: (record: unknown) => string;
  signal?: AbortSignal;
}

/** How one call is carried out and printed: what any front-end chooses, with no command-line request syntax in it. */
export type CallOptions = Omit<ExecuteOptions, 'method' | 'path' | 'data' | 'rawFields' | 'typedFields' | 'query' | 'form' | 'headers' | 'batch' | 'noWait'>;

/** The spec a request is checked against, and what it says of this request's endpoint. */
export interface SpecContext {
  /** Null for a read with a pinned version: it starts at once and works without the store. */
  selected: SelectedSpec | null;
  /** Loaded for writes, --paginate and -F (field types). */
  detail: SpecDetail | null;
  version: string;
  endpoints: EndpointSummary[];
  matched: EndpointSummary | null;
  raw: EndpointRaw | undefined;
}

/** bapi-curl's request: from METHOD PATH and the flags, or JSON on stdin; then executeCall. Returns the exit code. */
export async function executeRequest(options: ExecuteOptions, deps: ExecuteDeps): Promise<number> {
  const { call, spec } = await readCall(options, deps, true);
  return executeCall(call, options, deps, spec ?? undefined);
}

/**
 * The call bapi-curl's arguments (or the JSON on stdin) mean, with files and stdin read, and the
 * spec context when `withSpec` (else only when -F needs its field types: a key-custody client lets
 * the broker load its own).
 */
export async function readCall(options: ExecuteOptions, deps: ExecuteDeps, withSpec: boolean): Promise<{ call: ApiCall; spec: SpecContext | null }> {
  const { io } = deps;
  let stdin: Promise<string | null> | null = null;
  const stdinText = () => (stdin ??= readStdin(io));
  const needsStdin = options.data === '-' || options.typedFields.some((f) => /=@-$/.test(f)) || options.spec.spec === '-';
  const early = needsStdin ? await stdinText() : null;
  let fromJson: ApiCall | null = null;
  if (options.method === null || options.path === null) {
    const text = await stdinText();
    if (text === null) throw new UsageError('missing METHOD PATH', { hints: ['Run bapi-curl --help for usage.'] });
    fromJson = callFromJson(text);
  }
  const method = fromJson?.method ?? (options.method as string);
  if (options.paginate && method !== 'GET') throw new UsageError('--paginate is for GET list endpoints');
  // Where it goes, checked before anything else happens.
  const rawPath = fromJson?.path ?? (options.path as string);
  resolveRequestTarget(resolveBaseUrl(io.env.CLERK_API_URL), rawPath);
  const fieldTypes = options.typedFields.length > 0;
  const spec = withSpec || fieldTypes ? await loadSpecContext(options, deps, method, rawPath, options.spec.spec === '-' ? early : undefined, fieldTypes) : null;
  const call: ApiCall =
    fromJson ??
    callFromArgs({
      method,
      path: rawPath,
      data: options.data,
      rawFields: options.rawFields,
      typedFields: options.typedFields,
      query: options.query,
      form: options.form,
      headers: options.headers,
      readStdin: () => early,
      fieldType: spec?.detail ? bodyFieldTypes(spec.raw, spec.detail.components) : () => null,
      cwd: io.cwd,
    });
  if (fromJson) call.query.push(...callFromArgs({ method, path: '/', rawFields: [], typedFields: [], query: options.query, form: [], headers: [], cwd: io.cwd }).query);
  return { call, spec };
}

/**
 * The spec for the Clerk-API-Version header, the guard, -F field types, page sizes and the checks of
 * a read. A pinned version (--api-version, CLERK_API_VERSION) is checked too: it must be one the
 * source has, and the read is checked against it; only when the store cannot answer at all is it
 * sent as given, with a warning.
 */
export async function loadSpecContext(options: CallOptions, deps: ExecuteDeps, method: string, rawPath: string, stdinSpec?: string | null, fieldTypes = false): Promise<SpecContext> {
  const write = isWriteMethod(method);
  const pinned = options.spec.apiVersion;
  let selected: SelectedSpec | null = null;
  let detail: SpecDetail | null = null;
  try {
    selected = await deps.selectSpec(options.spec, deps.io, stdinSpec);
  } catch (error) {
    if (write || options.paginate || fieldTypes || pinned === undefined || !(error instanceof UnavailableError)) throw error;
    writeLine(deps.io.stderr, `bapi-curl: warning: cannot check the request against spec ${pinned} (${error.message}); sending it as given`);
  }
  if (selected && (write || options.paginate || fieldTypes)) detail = await selected.loadDetail();
  const endpoints = selected ? visibleEndpoints(selected.summary, options.spec.includePlatform) : [];
  const matched = selected ? safeMatch(endpoints, method, rawPath) : null;
  const raw = matched && detail ? detail.endpoints[endpointKey(matched.method, matched.path)] : undefined;
  return { selected, detail, version: selected?.version ?? (pinned as string), endpoints, matched, raw };
}

/**
 * One call through the pipeline: prepared, judged and authorized (a read: the key and its checks
 * against the spec; a write: an approval, or the guard now, with a person's approval where consent
 * needs one), sent, and printed to deps.io.stdout. Returns the exit code; a refusal or a pending
 * approval is thrown as its failure (ApprovalPendingError carries the approval's id).
 */
export async function executeCall(call: ApiCall, options: CallOptions, deps: ExecuteDeps, given?: SpecContext): Promise<number> {
  const { io } = deps;
  const spec = given ?? (await loadSpecContext(options, deps, call.method, call.path));
  const base = resolveBaseUrl(io.env.CLERK_API_URL);
  const request = prepareRequest(call, base, call.form ? loadForm(call.form) : null);
  const judged: GuardRequest = judgedRequest(request);
  if (options.dryRun) return dryRun(call, request, judged, options, deps, spec);
  const stateDir = defaultStateDir(io.env, io.cwd);
  let key: SecretKey = deps.key ?? findSecretKey(io.env, io.cwd);
  const write = isWriteMethod(call.method);
  let approvalId: string | null = null;
  let consent: ConsentRecord = { confirmedBy: 'not-needed', consentMode: 'flag', scopeBypass: null };
  if (!write) {
    if (!key.info.wellFormed || key.value === null) throw keyError(key.info);
    // The toolkit's own examples print `<user_id>`: sent, it would be %3Cuser_id%3E. Refused, as the guard refuses it for a write.
    const placeholder = placeholderIn(judged.path);
    if (placeholder !== null) throw new UsageError(`fill in ${placeholder.replace(/^[<{:]|[>}]$/g, '')}: ${placeholder} in ${judged.path} is a placeholder, not an id; nothing was sent`);
    await checkRead(judged, spec, io);
  } else {
    ({ key, approvalId, consent } = await authorizeWrite(request, judged, options, deps, spec, key, stateDir));
  }
  if (key.value === null) throw keyError(key.info);
  const client = clerkClient(deps, key, spec.version, options.timeoutMs, stateDir);
  try {
    if (options.paginate) return await runPaginated(options, deps, client, base, call, wireHeaders(request, spec.version), spec.raw, spec.detail, spec.endpoints, spec.matched?.path ?? null);
    // Clerk's own limit for this endpoint (invitations per hour, updates per user), writes only.
    if (write && spec.matched && key.info.fingerprint) {
      const { endpointLimiter } = await import('./endpoint-limits.js');
      await endpointLimiter(stateDir, key.info.fingerprint, (text) => writeLine(io.stderr, `bapi-curl: ${text}`)).acquire(spec.matched, request.path);
    }
    const { response } = await sendRequest(request, {
      client,
      stateDir,
      key,
      version: spec.version,
      now: deps.now,
      endpoint: spec.matched,
      readable: spec.matched !== null && hasGet(spec.endpoints, spec.matched.path),
      backup: options.backup,
      consent,
      approvalId,
      say: (text) => writeLine(io.stderr, `bapi-curl: ${text}`),
      ...(options.verbose ? { verbose: (lines: string) => writeLine(io.stderr, lines) } : {}),
    });
    return await printResponse(options, io, response);
  } finally {
    await client.close();
  }
}

/** A write's authorization, or its failure thrown (already explained on stderr by the guard). */
async function authorizeWrite(request: NormalizedRequest, judged: GuardRequest, options: CallOptions, deps: ExecuteDeps, spec: SpecContext, key: SecretKey, stateDir: string): Promise<{ key: SecretKey; approvalId: string | null; consent: ConsentRecord }> {
  const { io } = deps;
  // Nothing is sent unless what it leaves behind (audit line, backup) can be written.
  usableStateDir(stateDir);
  const [{ guardSpecOf }, { authorizeRequest }, { consentFor }] = await Promise.all([import('../guard/run-guard.js'), import('../guard/authorize.js'), import('../guard/consent.js')]);
  const target: GuardSpec = guardSpecOf(spec.selected as SelectedSpec, spec.detail as SpecDetail, options.spec.includePlatform);
  // A metadata replace is judged on what it would lose: read the resource first, as before a DELETE.
  if (options.backup && key.value !== null && replacesMetadata(judged.method, spec.matched, judged.body) && spec.matched && hasGet(spec.endpoints, spec.matched.path)) {
    judged.current = await readCurrent(deps, { key: key.value, version: spec.version, timeoutMs: options.timeoutMs }, buildRequestUrl(resolveBaseUrl(io.env.CLERK_API_URL), judged.path, []));
    writeLine(io.stderr, judged.current === undefined ? `bapi-curl: could not read ${judged.path} first; judging the metadata replace on the body alone` : `bapi-curl: read ${judged.path} first, to see what replacing its metadata would lose`);
  }
  const approvalId = request.approvalId;
  const outcome = await authorizeRequest(judged, target, io, {
    admin: options.admin,
    yes: options.yes,
    stateDir,
    key,
    label: 'bapi-curl (guard)',
    consent: deps.custody?.consent ?? consentFor(io.env, stateDir),
    ...(deps.custody ? { store: deps.custody.store } : {}),
    waitApprovalMs: options.waitApprovalMs,
    ...(approvalId ? { approvalId } : {}),
    // A person asked to confirm a DELETE is told who it deletes (the GET the backup makes, made first).
    ...(judged.method === 'DELETE' && spec.matched && hasGet(spec.endpoints, spec.matched.path)
      ? { describeTarget: (keyValue: string) => readCurrent(deps, { key: keyValue, version: spec.version, timeoutMs: Math.min(options.timeoutMs, 5_000) }, buildRequestUrl(resolveBaseUrl(io.env.CLERK_API_URL), judged.path, [])) }
      : {}),
  });
  if (outcome.kind !== 'allowed') throw outcome.failure;
  // The client that asked a broker for it went away while the person decided: not sent for no one.
  if (deps.custody?.signal?.aborted) throw new ToolkitError('the client went away before the request was sent; nothing was sent');
  if (outcome.approval) writeLine(io.stderr, `bapi-curl: using approval ${outcome.approval.id}`);
  return { key: outcome.key, approvalId: outcome.approval?.id ?? null, consent: outcome.consent };
}

/** With the spec at hand, a read is checked too: a warning for what looks wrong, exit 2 for what is certain to (a limit over the maximum). */
async function checkRead(judged: GuardRequest, spec: SpecContext, io: IO): Promise<void> {
  const { selected } = spec;
  if (!selected) return;
  if (spec.matched === null) {
    // No endpoint: said from the summary alone, with the closest ones (it is still sent: Clerk may know better).
    try {
      findEndpoint(spec.endpoints, { method: judged.method, path: judged.path }, spec.version);
    } catch (error) {
      if (!(error instanceof EndpointNotFoundError)) throw error;
      writeLine(io.stderr, `bapi-curl: warning: ${error.message} (closest: ${error.closest.map((e) => `${e.method} ${e.path}${e.summary ? `  (${e.summary})` : ''}`).join('; ')})`);
    }
    return;
  }
  // Query parameters need the endpoint's detail; a plain GET of a known endpoint costs nothing more.
  if (judged.query.length === 0) return;
  const { checkRead: check } = await import('../guard/check-request.js');
  const checked = check(judged, { endpoints: spec.endpoints, detail: spec.detail ?? (await selected.loadDetail()), version: spec.version }, io.env);
  if (checked.endpoint === null) {
    writeLine(io.stderr, `bapi-curl: warning: ${checked.message}${checked.hints.length > 0 ? ` (${checked.hints.join(' ')})` : ''}`);
    return;
  }
  const overLimit = checked.problems.find((p) => p.path === 'query.limit' && p.keyword === 'maximum');
  if (overLimit) {
    throw new UsageError(`-q limit: ${overLimit.message} for ${checked.endpoint.method} ${checked.endpoint.path} in spec ${spec.version}`, {
      hints: ['Clerk answers a limit over the maximum with its default page of 10, without an error. Use --paginate for more.'],
    });
  }
  for (const problem of checked.problems) writeLine(io.stderr, `bapi-curl: warning: ${problem.path}: ${problem.message}`);
  for (const warning of checked.warnings) writeLine(io.stderr, `bapi-curl: warning: ${warning}`);
}

/** --dry-run: the request (or the first page) as text and as curl; for a write, what the guard would say. Nothing is sent or approved. */
async function dryRun(call: ApiCall, request: NormalizedRequest, judged: GuardRequest, options: CallOptions, deps: ExecuteDeps, spec: SpecContext): Promise<number> {
  const { io } = deps;
  const headers = { accept: 'application/json', ...wireHeaders(request, spec.version) };
  if (options.paginate) {
    // The first page's real query: page size, cursor or offset, paginated=true.
    const plan = pagePlan(call, spec.raw, spec.detail, spec.endpoints, spec.matched?.path ?? null, options.concurrency ?? 4);
    const firstPage = buildRequestUrl(resolveBaseUrl(io.env.CLERK_API_URL), request.path, plan.firstQuery);
    await emit(io.stdout, renderDryRun(request.method, firstPage, headers, { ...call, query: plan.firstQuery }, bodyText(request)));
    const how = plan.cursor ? `each next page adds starting_after=<the last item's id>${plan.split ? `; with more than one cursor (--concurrency, default 4, or one when the first page comes back within 40 ms), after the first page, GET ${plan.split} and one item in the other order cut the rest into created_at ranges walked at once` : ''}` : `each next page adds ${plan.window.limit} to offset`;
    writeLine(io.stderr, `bapi-curl: dry run of --paginate: the first page; ${how}. Nothing was sent.${plan.note ? ` (${plan.note})` : ''}`);
    return EXIT.ok;
  }
  await emit(io.stdout, renderDryRun(request.method, request.url, headers, call, bodyText(request)));
  if (!isWriteMethod(request.method)) {
    writeLine(io.stderr, 'bapi-curl: dry run: nothing was sent.');
    return EXIT.ok;
  }
  // What the guard would say, with no prompt, no approval and nothing pending.
  const { guardSpecOf, runGuard } = await import('../guard/run-guard.js');
  const target = guardSpecOf(spec.selected as SelectedSpec, spec.detail as SpecDetail, options.spec.includePlatform);
  const outcome = await runGuard(judged, target, io, { admin: options.admin, yes: options.yes, key: deps.key ?? findSecretKey(io.env, io.cwd), prompter: null, issueApproval: false, issuePending: false, label: 'bapi-curl --dry-run (guard)', ...(deps.custody ? { consent: deps.custody.consent } : {}) });
  writeLine(io.stderr, `bapi-curl: dry run: nothing was sent and nothing approved; the guard ${outcome.verdict.allowed ? 'would allow it' : `would refuse it (exit ${outcome.exitCode})`}.`);
  return EXIT.ok;
}

/** True for a write whose body sets a metadata object that the endpoint replaces as a whole. */
function replacesMetadata(method: string, matched: { method: string; path: string } | null, body: unknown): boolean {
  if (!matched || !isObject(body)) return false;
  if (!['public_metadata', 'private_metadata', 'unsafe_metadata'].some((field) => Object.hasOwn(body, field))) return false;
  return method === 'PATCH' && /^\/(users|organizations)\/\{[^}]+\}$/.test(matched.path);
}

function safeMatch(endpoints: EndpointSummary[], method: string, path: string): EndpointSummary | null {
  try {
    return matchEndpoint(endpoints, { method, path })?.endpoint ?? null;
  } catch {
    return null;
  }
}

/** `io` with the key replaced by its masked form in everything written to it (whatever a server echoes). */
export function redactedIO(io: IO, key: SecretKey): IO {
  const masked = key.info.masked ?? '[REDACTED]';
  return { ...io, stdout: redactingStream(io.stdout, key.value, masked), stderr: redactingStream(io.stderr, key.value, masked) };
}
