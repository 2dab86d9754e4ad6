// Stage http: sending requests, and what comes back (client, pages, jq, audit, backups). It may
// import core, spec, endpoint, request, guard (the guard's code is loaded only for writes).
//
// The executor: one request from arguments to response; the CLI and other front-ends call
// executeRequest with their own streams.
import { accessSync, constants } from 'node:fs';
import { ApprovalInvalidError, ApprovalPendingError, BackupFailedError, ConfirmationError, DeclinedError, EXIT, HttpStatusError, reported, StateDirUnusableError, ToolkitError, UsageError } from '../core/errors.js';
import { colorEnabled, colorsFor, readStdin, writeLine, type Colors, type IO, type OutStream } from '../core/io.js';
import { defaultStateDir, ensurePrivateDir, STATE_DIR_VARIABLE } from '../core/state-dir.js';
import { isObject } from '../core/values.js';
import { userAgent } from '../core/version.js';
import { EndpointNotFoundError, findEndpoint, hasGet, matchEndpoint } from '../endpoint/match.js';
import { deref } from '../endpoint/validate.js';
import { findSecretKey, keyError, redactingStream, redactSecret, type SecretKey } from '../guard/key.js';
import type { GuardRequest, GuardSpec, Verdict } from '../guard/policy.js';
import { isWriteMethod } from '../guard/scopes.js';
import { bodyFieldTypes, callFromArgs, callFromJson, formBinding, loadForm, type ApiCall, type LoadedFormField } from '../request/args.js';
import { buildRequestUrl, resolveBaseUrl, resolveRequestTarget } from '../request/url.js';
import { endpointKey, visibleEndpoints, type EndpointRaw, type SpecDetail } from '../spec/index.js';
import type { selectSpec, SelectedSpec, SpecOptions } from '../spec/select.js';
import type { AuditEntry } from './audit.js';
import type { ClientConfig, HttpClient, HttpResponse, OutgoingRequest } from './client.js';
import { renderDryRun } from './dry-run.js';
import { openJq, type JqStream } from './jq.js';
import { governor, rateLimitFor, RATE_LIMIT_VARIABLE, type Governor } from './governor.js';
import { DEFAULT_PAGE_LIMIT, paginate, pageWindow, progressLine } from './paginate.js';
import { errorSummary, parseBody, renderBody, renderHead, traceIdOf } from './response.js';

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
}

function integerEnv(env: IO['env'], name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** True when the endpoint takes the query parameter `name`. */
function hasQueryParameter(raw: EndpointRaw | undefined, components: SpecDetail['components'], name: string): boolean {
  return (raw?.parameters ?? []).some((parameter) => {
    const resolved = deref(parameter, components);
    return isObject(resolved) && resolved.in === 'query' && resolved.name === name;
  });
}

/** The limit parameter's maximum for this endpoint (a page as large as Clerk allows). */
function pageLimitFor(raw: EndpointRaw | undefined, components: SpecDetail['components']): number {
  for (const parameter of raw?.parameters ?? []) {
    const resolved = deref(parameter, components);
    if (isObject(resolved) && resolved.name === 'limit' && resolved.in === 'query') {
      const schema = deref(resolved.schema, components);
      if (isObject(schema) && typeof schema.maximum === 'number' && schema.maximum > 0) return schema.maximum;
    }
  }
  return DEFAULT_PAGE_LIMIT;
}

export interface PagePlan {
  /** The query without limit/offset (plus paginated=true where it applies), the page size and the first offset. */
  window: { query: Array<[string, string]>; limit: number; offset: number };
  /** Follow starting_after instead of offset. */
  cursor: boolean;
  /** The count endpoint's path when more than one cursor can be in flight (GET /users beside /users/count); else null. */
  split: string | null;
  /** Why the walk goes by offset, when the endpoint has a cursor. */
  note: string | null;
  /** The first page's query, as sent. */
  firstQuery: Array<[string, string]>;
  /** The user's own `starting_after`: where the cursor walk starts (taken out of the query, so it is not sent twice). */
  startAfter: string | null;
}

/**
 * How --paginate walks this endpoint: Clerk's cursor (`starting_after`) where the endpoint has one
 * and the ordering allows it (large offsets slow down and time out); an explicit offset, or another
 * ordering, keeps offset pages. `paginated=true` where the endpoint takes it, so pages say their
 * total. Time ranges walked at once where the list can be cut by creation time and counted.
 */
export function pagePlan(call: { path: string; query: Array<[string, string]> }, raw: EndpointRaw | undefined, detail: SpecDetail | null, endpoints: Array<{ method: string; path: string }>, matchedPath: string | null, concurrency: number): PagePlan {
  const has = (name: string) => detail !== null && hasQueryParameter(raw, detail.components, name);
  const window = pageWindow(call.query, detail ? pageLimitFor(raw, detail.components) : DEFAULT_PAGE_LIMIT);
  if (has('paginated') && !window.query.some(([name]) => name === 'paginated')) window.query.push(['paginated', 'true']);
  const orderBy = call.query.find(([name]) => name === 'order_by')?.[1];
  const offsetGiven = call.query.some(([name]) => name === 'offset');
  const cursorExists = has('starting_after');
  const cursor = cursorExists && !offsetGiven && (orderBy === undefined || /^[+-]?created_at$/.test(orderBy));
  const note = cursorExists && !cursor ? `${offsetGiven ? 'an offset was given' : `order_by=${orderBy} cannot use the starting_after cursor`}: paging by offset, which slows down for large offsets` : null;
  const countPath = matchedPath === null ? null : `${matchedPath}/count`;
  const split =
    cursor && concurrency > 1 && has('created_at_after') && has('created_at_before') && countPath !== null && hasGet(endpoints, countPath) && !call.query.some(([name]) => name === 'starting_after')
      ? `${call.path.replace(/\?.*$/, '').replace(/\/+$/, '')}/count`
      : null;
  let startAfter: string | null = null;
  if (cursor) {
    startAfter = window.query.find(([name]) => name === 'starting_after')?.[1] ?? null;
    window.query = window.query.filter(([name]) => name !== 'starting_after');
  }
  const position: Array<[string, string]> = !cursor ? [['offset', String(window.offset)]] : startAfter === null ? [] : [['starting_after', startAfter]];
  const firstQuery: Array<[string, string]> = [...window.query, ['limit', String(window.limit)], ...position];
  return { window, cursor, split, note, firstQuery, startAfter };
}

/** Writes to a stream and waits when it asks us to (a slow reader must not make us buffer pages). */
async function emit(stream: OutStream, text: string): Promise<void> {
  if (text === '') return;
  const ok = stream.write(text);
  const events = stream as OutStream & { once?: (event: string, listener: () => void) => unknown };
  if (ok === false && typeof events.once === 'function') await new Promise<void>((resolve) => events.once!('drain', resolve));
}


/** The multipart body of --form fields, encoded once from the bytes already read (so a retry, and the approval, see the same). */
async function formBody(form: LoadedFormField[] | null): Promise<{ body: Buffer; contentType: string } | null> {
  if (!form) return null;
  const { basename } = await import('node:path');
  const encoded = new FormData();
  for (const field of form) {
    if (field.content !== undefined) encoded.append(field.name, new Blob([field.content], { type: field.type ?? 'application/octet-stream' }), basename(field.file ?? 'file'));
    else encoded.append(field.name, field.value ?? '');
  }
  const response = new Response(encoded);
  return { body: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'multipart/form-data' };
}


/**
 * Executes one request: the request from options or stdin, its one normalisation, the spec it is
 * checked against, the key, for a write the guard (an approval, or the guard here and now, with a
 * person's approval where consent needs one), the backup before a DELETE, the audit line reserved
 * before the write leaves, then the response or the pages, streamed to deps.io.stdout. Returns the
 * exit code; user errors are thrown as ToolkitErrors for the front-end to report.
 */
export async function executeRequest(options: ExecuteOptions, deps: ExecuteDeps): Promise<number> {
  const { io } = deps;
  const stdinCache: { read: boolean; text: string | null } = { read: false, text: null };
  const stdinText = async () => {
    if (!stdinCache.read) {
      stdinCache.read = true;
      stdinCache.text = await readStdin(io);
    }
    return stdinCache.text;
  };
  const needsStdin = options.data === '-' || options.typedFields.some((f) => /=@-$/.test(f)) || options.spec.spec === '-';
  if (needsStdin) await stdinText();

  // The request, from arguments or from JSON on stdin.
  let fromJson: ApiCall | null = null;
  if (options.method === null || options.path === null) {
    const text = await stdinText();
    if (text === null) throw new UsageError('missing METHOD PATH', { hints: ['Run bapi-curl --help for usage.'] });
    fromJson = callFromJson(text);
  }
  const method = fromJson?.method ?? (options.method as string);
  const write = isWriteMethod(method);
  if (options.paginate && method !== 'GET') throw new UsageError('--paginate is for GET list endpoints');

  // Where it goes, checked before anything else happens.
  const base = resolveBaseUrl(io.env.CLERK_API_URL);
  const rawPath = fromJson?.path ?? (options.path as string);
  resolveRequestTarget(base, rawPath);

  // The spec: for the Clerk-API-Version header, the guard, -F field types and page sizes. A read
  // with a pinned version needs none of it, so it starts at once and works without the store.
  const pinned = options.spec.apiVersion;
  const needSpec = write || options.paginate || options.typedFields.length > 0 || pinned === undefined;
  let selected: SelectedSpec | null = null;
  let detail: SpecDetail | null = null;
  if (needSpec) {
    selected = await deps.selectSpec(options.spec, io, options.spec.spec === '-' ? stdinCache.text : undefined);
    if (write || options.paginate || options.typedFields.length > 0) detail = await selected.loadDetail();
  }
  const version = selected?.version ?? (pinned as string);
  const endpoints = selected ? visibleEndpoints(selected.summary, options.spec.includePlatform) : [];
  const matched = selected ? safeMatch(endpoints, method, rawPath) : null;
  const raw = matched && detail ? detail.endpoints[endpointKey(matched.method, matched.path)] : undefined;

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
      readStdin: () => stdinCache.text,
      fieldType: detail ? bodyFieldTypes(raw, detail.components) : () => null,
      cwd: io.cwd,
    });
  if (fromJson) call.query.push(...callFromArgs({ method, path: '/', rawFields: [], typedFields: [], query: options.query, form: [], headers: [], cwd: io.cwd }).query);
  // One normalisation: the guard judges exactly the path and query that the URL carries.
  const target = resolveRequestTarget(base, call.path, call.query);
  const url = target.url;
  const form = call.form ? loadForm(call.form) : null;
  const judged: GuardRequest = { method, path: target.path, query: target.query, body: form ? formBinding(form) : call.body };
  const bodyText = call.body === undefined ? null : JSON.stringify(call.body);
  const headers: Record<string, string> = { 'clerk-api-version': version };
  if (bodyText !== null) headers['content-type'] = 'application/json';
  Object.assign(headers, call.headers);

  if (options.dryRun) {
    if (options.paginate) {
      // The first page's real query: page size, cursor or offset, paginated=true.
      const plan = pagePlan(call, raw, detail, endpoints, matched?.path ?? null, options.concurrency ?? 4);
      const firstPage = buildRequestUrl(base, target.path, plan.firstQuery);
      await emit(io.stdout, renderDryRun(method, firstPage, { accept: 'application/json', ...headers }, { ...call, query: plan.firstQuery }, bodyText));
      const how = plan.cursor ? `each next page adds starting_after=<the last item's id>${plan.split ? `; with more than one cursor (--concurrency, default 4, or one when the first page comes back within 40 ms), after the first page, GET ${plan.split} and one item in the other order cut the rest into created_at ranges walked at once` : ''}` : `each next page adds ${plan.window.limit} to offset`;
      writeLine(io.stderr, `bapi-curl: dry run of --paginate: the first page; ${how}. Nothing was sent.${plan.note ? ` (${plan.note})` : ''}`);
      return EXIT.ok;
    }
    await emit(io.stdout, renderDryRun(method, url, { accept: 'application/json', ...headers }, call, bodyText));
    if (write) {
      // What the guard would say, with no prompt, no approval and nothing pending.
      const { guardSpecOf, runGuard } = await import('../guard/policy.js');
      const spec: GuardSpec = guardSpecOf(selected as SelectedSpec, detail as SpecDetail, options.spec.includePlatform);
      const outcome = await runGuard(judged, spec, io, { admin: options.admin, yes: options.yes, key: deps.key ?? findSecretKey(io.env, io.cwd), prompter: null, issueApproval: false, issuePending: false, label: 'bapi-curl --dry-run (guard)' });
      writeLine(io.stderr, `bapi-curl: dry run: nothing was sent and nothing approved; the guard ${outcome.verdict.allowed ? 'would allow it' : `would refuse it (exit ${outcome.exitCode})`}.`);
    } else {
      writeLine(io.stderr, 'bapi-curl: dry run: nothing was sent.');
    }
    return EXIT.ok;
  }

  // The key, and for a write the guard: a matching approval, or the guard run here and now.
  const stateDir = defaultStateDir(io.env, io.cwd);
  let key: SecretKey = deps.key ?? findSecretKey(io.env, io.cwd);
  let approvalId: string | null = null;
  // What the audit says of consent: a read needs none.
  let consent: { confirmedBy: AuditEntry['confirmed_by']; consentMode: AuditEntry['consent_mode']; scopeBypass: AuditEntry['scope_bypass'] } = {
    confirmedBy: 'not-needed',
    consentMode: 'flag',
    scopeBypass: null,
  };
  if (!write) {
    if (!key.info.wellFormed || key.value === null) throw keyError(key.info);
    // With the spec at hand, a read is checked too: a warning for what looks wrong, exit 2 for what
    // is certain to (a limit over the maximum, which Clerk silently answers with 10 items).
    if (selected) {
      if (matched === null) {
        // No endpoint: said from the summary alone, with the closest ones (it is still sent: Clerk may know better).
        try {
          findEndpoint(endpoints, { method, path: target.path }, version);
        } catch (error) {
          if (error instanceof EndpointNotFoundError) writeLine(io.stderr, `bapi-curl: warning: ${error.message} (closest: ${error.closest.map((e) => `${e.method} ${e.path}${e.summary ? `  (${e.summary})` : ''}`).join('; ')})`);
          else throw error;
        }
      } else if (judged.query.length > 0) {
        // Query parameters need the endpoint's detail; a plain GET of a known endpoint costs nothing more.
        await checkReadAgainstSpec(judged, { endpoints, detail: detail ?? (await selected.loadDetail()), version, fromFile: selected.store === null }, io);
      }
    }
  } else {
    // Nothing is sent unless what it leaves behind (audit line, backup) can be written.
    usableStateDir(stateDir);
    const { authorizeWrite, confirmedByOf, guardSpecOf, verdictError } = await import('../guard/policy.js');
    const spec: GuardSpec = guardSpecOf(selected as SelectedSpec, detail as SpecDetail, options.spec.includePlatform);
    const { consentFor } = await import('../guard/consent.js');
    const guardOptions = {
      admin: options.admin,
      yes: options.yes,
      stateDir,
      key,
      label: 'bapi-curl (guard)',
      consent: consentFor(io.env, stateDir),
    };
    // A metadata replace is judged on what it would lose: read the resource first, as before a DELETE.
    if (options.backup && key.value !== null && replacesMetadata(method, matched, judged.body) && matched && hasGet(endpoints, matched.path)) {
      judged.current = await readCurrent(deps, { key: key.value, version, timeoutMs: options.timeoutMs }, buildRequestUrl(base, target.path, []));
      writeLine(io.stderr, judged.current === undefined ? `bapi-curl: could not read ${target.path} first; judging the metadata replace on the body alone` : `bapi-curl: read ${target.path} first, to see what replacing its metadata would lose`);
    }
    let authorization = await authorizeWrite(judged, spec, io, { ...guardOptions, ...(call.approvalId ? { approvalId: call.approvalId } : {}) });
    const pending = authorization.verdict?.approval?.status === 'pending' ? authorization.verdict.approval : null;
    if (!authorization.allowed && pending && options.waitApprovalMs !== null) {
      const decision = await waitForDecision(stateDir, pending.id, options.waitApprovalMs, io);
      if (decision === 'timeout') throw new ApprovalPendingError(`no decision on ${pending.id} within the wait; nothing was sent`, pending.id, pending.approveCommand ?? `bapi-guard approve ${pending.id}`);
      if (decision === 'denied') throw new DeclinedError(`approval ${pending.id} was denied; nothing was sent`);
      if (decision !== 'granted') throw new ApprovalInvalidError(`approval ${pending.id} was ${decision}; nothing was sent`);
      authorization = await authorizeWrite(judged, spec, io, { ...guardOptions, approvalId: pending.id });
    }
    // Refused, or waiting for a person: the guard's report on stderr said why; the failure goes on as data.
    if (!authorization.allowed) throw reported(verdictError(authorization.verdict as Verdict) ?? new ConfirmationError('refused by the guard'));
    key = authorization.key;
    const approval = authorization.approval;
    approvalId = approval?.id ?? null;
    consent = approval
      ? { confirmedBy: approval.confirmedBy ?? 'not-needed', consentMode: approval.consentMode ?? 'flag', scopeBypass: approval.scopeBypass ?? null }
      : authorization.verdict
        ? { confirmedBy: confirmedByOf(authorization.verdict), consentMode: authorization.verdict.consent.mode, scopeBypass: authorization.verdict.scopes?.bypassBy ?? null }
        : consent;
    if (approvalId) writeLine(io.stderr, `bapi-curl: using approval ${approvalId}`);
  }
  if (key.value === null) throw keyError(key.info);

  const client = clerkClient(deps, key, version, options.timeoutMs, stateDir);
  try {
    if (options.paginate) return await runPaginated(options, deps, client, base, call, headers, raw, detail, endpoints, matched?.path ?? null);

    let backupFile: string | null = null;
    if (method === 'DELETE' && options.backup && matched && hasGet(endpoints, matched.path)) {
      backupFile = await backupBeforeDelete(client, buildRequestUrl(base, target.path, []), version, `GET ${matched.path}`, stateDir, key, deps);
      writeLine(io.stderr, backupFile ? `bapi-curl: saved ${target.path} to ${backupFile} before deleting it` : `bapi-curl: nothing to back up at ${target.path} (404)`);
    }

    // Clerk's own limit for this endpoint (invitations per hour, updates per user), writes only.
    if (write && matched && key.info.fingerprint) {
      const { endpointLimiter } = await import('./endpoint-limits.js');
      await endpointLimiter(stateDir, key.info.fingerprint, (text) => writeLine(io.stderr, `bapi-curl: ${text}`)).acquire(matched, target.path);
    }

    const multipart = await formBody(form);
    if (multipart) headers['content-type'] = multipart.contentType;
    const request: OutgoingRequest = { method, url, headers, body: bodyText ?? multipart?.body ?? null };
    const auditLog = write ? await import('./audit.js') : null;
    const audit = auditLog?.auditTrail(
      stateDir,
      {
        method,
        path: url.pathname,
        query: target.query,
        endpoint: matched ? `${matched.method} ${matched.path}` : null,
        approval_id: approvalId,
        confirmed_by: consent.confirmedBy,
        consent_mode: consent.consentMode,
        scope_bypass: consent.scopeBypass,
        key_fingerprint: key.info.fingerprint,
        api_version: version,
        body_fields: auditLog.bodyFields(judged.body),
        backup: backupFile,
      },
      { now: deps.now, redact: (line) => redactSecret(line, key.value, key.info.masked ?? '[REDACTED]'), notSent: 'nothing was sent', described: `the ${method}`, warn: (text) => writeLine(io.stderr, `bapi-curl: warning: ${text}`) },
    );
    // The audit line is reserved before the write leaves: a write that cannot be recorded is not sent.
    audit?.reserve();
    const recordOutcome = (status: number | null, trace: string | null, error: string | null) => audit?.outcome(status, trace, error);
    if (options.verbose) {
      const shown = [`> ${method} ${url.href}`, `> Authorization: Bearer ${key.info.masked ?? '…'}`, ...Object.entries(headers).map(([name, value]) => `> ${name}: ${value}`)];
      writeLine(io.stderr, shown.join('\n'));
    }
    let response: HttpResponse;
    try {
      response = await client.send(request, { redirects: write ? 'never' : 'follow' });
      if (options.verbose) writeLine(io.stderr, [`< HTTP ${response.status} ${response.statusText}`.trimEnd(), ...Object.entries(response.headers).map(([name, value]) => `< ${name}: ${value}`)].join('\n'));
    } catch (error) {
      recordOutcome(null, null, error instanceof Error ? error.message : String(error));
      throw error;
    }
    recordOutcome(response.status, traceIdOf(response), null);
    return await printResponse(options, io, response);
  } finally {
    await client.close();
  }
}

async function checkReadAgainstSpec(request: GuardRequest, spec: GuardSpec, io: IO): Promise<void> {
  const { checkRead } = await import('../guard/policy.js');
  const checked = checkRead(request, spec, io.env);
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

/** True for a write whose body sets a metadata object that the endpoint replaces as a whole. */
function replacesMetadata(method: string, matched: { method: string; path: string } | null, body: unknown): boolean {
  if (!matched || !isObject(body)) return false;
  if (!['public_metadata', 'private_metadata', 'unsafe_metadata'].some((field) => Object.hasOwn(body, field))) return false;
  return method === 'PATCH' && /^\/(users|organizations)\/\{[^}]+\}$/.test(matched.path);
}

/** The resource at `url` now, or undefined when it cannot be read (then the guard judges the body alone). */
async function readCurrent(deps: ExecuteDeps, config: { key: string; version: string; timeoutMs: number }, url: URL): Promise<unknown> {
  const client = deps.createClient({ key: config.key, apiVersion: config.version, userAgent: userAgent(), timeoutMs: config.timeoutMs, maxRetries: 1, retryDelayMs: 200, maxRetryAfterMs: 10_000 });
  try {
    const response = await client.send({ method: 'GET', url, headers: { 'clerk-api-version': config.version }, body: null }, { redirects: 'same-origin' });
    const parsed = response.status === 200 ? parseBody(response) : null;
    return parsed?.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  } finally {
    await client.close();
  }
}

/** The client every request of one run goes through: the key, the version, retries, and the instance's shared budget. */
export function clerkClient(deps: ExecuteDeps, key: SecretKey, version: string, timeoutMs: number, stateDir: string): HttpClient {
  const { io } = deps;
  if (key.value === null) throw keyError(key.info);
  const budget = sharedBudget(stateDir, key, io);
  return deps.createClient({
    key: key.value,
    apiVersion: version,
    userAgent: userAgent(),
    timeoutMs,
    maxRetries: integerEnv(io.env, 'CLERK_BAPI_MAX_RETRIES', 3),
    retryDelayMs: integerEnv(io.env, 'CLERK_BAPI_RETRY_DELAY_MS', 500),
    maxRetryAfterMs: 60_000,
    maxResponseBytes: responseLimit(io.env),
    onRetry: (message) => writeLine(io.stderr, `bapi-curl: ${message}`),
    ...(budget ? { beforeAttempt: () => budget.acquire(), onRateLimited: (ms: number) => budget.pause(ms) } : {}),
  });
}

/**
 * The instance's rate-limit budget, shared by every process with this key; null when the state
 * directory cannot hold it (a read then goes without, as before).
 */
function sharedBudget(stateDir: string, key: SecretKey, io: IO): Governor | null {
  const limit = rateLimitFor(io.env, key.info.kind);
  if (key.info.fingerprint === null) return null;
  try {
    return governor(stateDir, key.info.fingerprint, limit, {
      onWait: (ms) => writeLine(io.stderr, `bapi-curl: waiting ${(ms / 1000).toFixed(1)}s for the rate limit (${limit.requests} per ${limit.windowMs / 1000}s, ${RATE_LIMIT_VARIABLE})`),
      onWarning: (message) => writeLine(io.stderr, `bapi-curl: warning: ${message}`),
    });
  } catch {
    return null;
  }
}

/** Waits for a person's decision on a pending approval: polls its file, with one line on stderr. */
export async function waitForDecision(stateDir: string, id: string, waitMs: number, io: IO): Promise<'granted' | 'denied' | 'expired' | 'timeout'> {
  const { readApprovalById, listingOf } = await import('../guard/approvals.js');
  const started = Date.now();
  writeLine(io.stderr, `bapi-curl: waiting for a person to approve ${id}; in their own terminal: bapi-guard approve ${id}`);
  for (;;) {
    const found = readApprovalById(stateDir, id);
    if (!found || found.tampered) return 'expired';
    const status = listingOf(found.approval).status;
    if (status === 'granted') return 'granted';
    if (status === 'denied' || status === 'expired' || status === 'used') return status === 'used' ? 'expired' : status;
    if (Date.now() - started >= waitMs) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The state directory, made private, or a clear error naming it: checked before a write is sent. */
export function usableStateDir(stateDir: string): void {
  try {
    ensurePrivateDir(stateDir);
    accessSync(stateDir, constants.W_OK);
  } catch (error) {
    if (error instanceof ToolkitError) throw new StateDirUnusableError(`${error.message}; nothing was sent`, { hints: error.hints });
    throw new StateDirUnusableError(`the state directory ${stateDir} cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was sent`, {
      hints: [`Set ${STATE_DIR_VARIABLE} to a writable directory of your own.`],
    });
  }
}

const DEFAULT_MAX_RESPONSE_MB = 256;

/** CLERK_BAPI_MAX_RESPONSE_MB: the largest answer read into memory (default 256 MB). */
function responseLimit(env: IO['env']): number {
  return integerEnv(env, 'CLERK_BAPI_MAX_RESPONSE_MB', DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024;
}

function safeMatch(endpoints: ReturnType<typeof visibleEndpoints>, method: string, path: string) {
  try {
    return matchEndpoint(endpoints, { method, path })?.endpoint ?? null;
  } catch {
    return null;
  }
}

export async function backupBeforeDelete(client: HttpClient, url: URL, version: string, endpoint: string, stateDir: string, key: SecretKey, deps: ExecuteDeps): Promise<string | null> {
  let response: HttpResponse;
  try {
    // Another host's answer is not this resource's last state.
    response = await client.send({ method: 'GET', url, headers: { 'clerk-api-version': version }, body: null }, { redirects: 'same-origin' });
  } catch (error) {
    throw new BackupFailedError(`could not back up ${url.pathname} before deleting it: ${(error as Error).message}; nothing was deleted`, {
      hints: ['Rerun when the API answers, or add --no-backup to delete without a backup.'],
    });
  }
  if (response.status === 404) return null;
  const parsed = parseBody(response);
  if (response.status !== 200 || !parsed.ok) {
    throw new BackupFailedError(`could not back up ${url.pathname} before deleting it (${errorSummary(response)}); nothing was deleted`, {
      hints: ['Add --no-backup to delete without a backup.'],
    });
  }
  const { saveBackup } = await import('./backup.js');
  const backup = {
    saved_at: deps.now().toISOString(),
    path: url.pathname,
    endpoint,
    api_version: version,
    status: response.status,
    clerk_trace_id: traceIdOf(response, parsed.value),
    resource: parsed.value,
  };
  return saveBackup(stateDir, redactSecret(backup, key.value, key.info.masked ?? '[REDACTED]'));
}

async function printResponse(options: ExecuteOptions, io: IO, response: HttpResponse): Promise<number> {
  const pretty = io.stdout.isTTY === true;
  if (options.include) await emit(io.stdout, renderHead(response));
  if (response.status >= 400) {
    await emit(io.stdout, renderBody(response, pretty));
    throw new HttpStatusError(errorSummary(response), response.status);
  }
  const type = response.headers['content-type'];
  if (options.jq !== undefined && response.body.length > 0 && (type === undefined || /json/i.test(type))) {
    // jq parses the body itself (and says so when it is not JSON); parsing it here too would double the cost.
    const jq = await openJq(options.jq, (text) => io.stdout.write(text), { pretty, env: io.env });
    await jq.write(response.body.toString('utf8'));
    await jq.end();
    return EXIT.ok;
  }
  const parsed = parseBody(response);
  if (!parsed.ok && response.body.length > 0) {
    await emit(io.stdout, renderBody(response, false));
    throw new ToolkitError(`HTTP ${response.status}, but ${parsed.reason}`, { hints: ['The answer was printed as received.'] });
  }
  if (options.jq !== undefined && parsed.ok) {
    const jq = await openJq(options.jq, (text) => io.stdout.write(text), { pretty, env: io.env });
    await jq.write(response.body.toString('utf8'));
    await jq.end();
    return EXIT.ok;
  }
  if (pretty && parsed.ok) {
    const text = JSON.stringify(parsed.value, null, 2);
    await emit(io.stdout, `${colorEnabled(io.stdout, io.env) ? colorJson(text, colorsFor(io.stdout, io.env)) : text}\n`);
    return EXIT.ok;
  }
  // As received, with the final newline a pipe's reader expects (as gh and jq print it).
  const text = response.body.toString('utf8');
  await emit(io.stdout, text === '' || text.endsWith('\n') ? text : `${text}\n`);
  return EXIT.ok;
}

async function runPaginated(
  options: ExecuteOptions,
  deps: ExecuteDeps,
  client: HttpClient,
  base: URL,
  call: ApiCall,
  headers: Record<string, string>,
  raw: EndpointRaw | undefined,
  detail: SpecDetail | null,
  endpoints: Array<{ method: string; path: string }>,
  matchedPath: string | null,
): Promise<number> {
  const { io } = deps;
  const progress = progressLine(io.stderr);
  const stdout = progress.around(io.stdout);
  const pretty = io.stdout.isTTY === true;
  const plan = pagePlan(call, raw, detail, endpoints, matchedPath, options.concurrency ?? 4);
  if (plan.note) writeLine(io.stderr, `bapi-curl: note: ${plan.note}`);
  const window = plan.window;
  const useCursor = plan.cursor;
  let jq: JqStream | null = null;
  const slurped: string[] | null = options.slurp && options.jq !== undefined ? [] : null;
  if (options.jq !== undefined && slurped === null) {
    jq = await openJq(options.jq, (text) => stdout.write(text), { pretty, env: io.env });
  }
  let first = true;
  if (options.slurp && slurped === null) await emit(stdout, '[');
  const fetchPage = (query: Array<[string, string]>) => client.send({ method: 'GET', url: buildRequestUrl(base, call.path, query), headers, body: null });
  const onItems = async (items: string[]) => {
    if (slurped) slurped.push(...items);
    else if (jq) await jq.write(items.join('\n'));
    else if (options.slurp) {
      await emit(stdout, `${first ? '\n' : ',\n'}${items.join(',\n')}`);
      first = false;
    } else await emit(stdout, `${items.join('\n')}\n`);
  };
  const onProgress = (items: number, totalCount: number | null) => progress.update(items, totalCount);
  const walk = plan.split
    ? (await import('./split-walk.js')).splitWalk({
        query: window.query,
        limit: window.limit,
        concurrency: options.concurrency ?? 4,
        adaptive: options.concurrency === undefined,
        ...(options.maxItems !== undefined ? { maxItems: options.maxItems } : {}),
        fetchList: fetchPage,
        fetchCount: (query) => client.send({ method: 'GET', url: buildRequestUrl(base, plan.split as string, query), headers, body: null }),
        onItems,
        onProgress,
        onNote: (text) => (options.verbose ? writeLine(io.stderr, `bapi-curl: ${text}`) : undefined),
      })
    : paginate({
        query: window.query,
        limit: window.limit,
        offset: window.offset,
        fetchPage,
        ...(options.maxItems !== undefined ? { maxItems: options.maxItems } : {}),
        ...(useCursor ? { cursor: 'starting_after' } : {}),
        ...(plan.startAfter !== null ? { startAfter: plan.startAfter } : {}),
        onItems,
        onProgress,
      });
  let result: Awaited<typeof walk>;
  try {
    result = await walk.finally(() => progress.clear());
  } catch (error) {
    // What jq was given so far is printed, and its process ends: left open, it waits for input for ever.
    if (jq) await jq.end().catch(() => undefined);
    throw error;
  }
  if (options.slurp && slurped === null) await emit(stdout, first ? ']\n' : '\n]\n');
  if (jq) await jq.end();
  if (slurped) {
    const stream = await openJq(options.jq as string, (text) => stdout.write(text), { pretty, env: io.env });
    await stream.write(`[${slurped.join(',')}]`);
    await stream.end();
  }
  if (result.failed) {
    throw new HttpStatusError(`${errorSummary(result.failed)} (after ${result.items} items in ${result.pages} pages)`, result.failed.status);
  }
  return EXIT.ok;
}

/** `io` with the key replaced by its masked form in everything written to it (whatever a server echoes). */
export function redactedIO(io: IO, key: SecretKey): IO {
  const masked = key.info.masked ?? '[REDACTED]';
  return { ...io, stdout: redactingStream(io.stdout, key.value, masked), stderr: redactingStream(io.stderr, key.value, masked) };
}

/** Indented JSON with keys, strings and literals coloured, for a terminal. */
export function colorJson(text: string, c: Colors): string {
  return text.replace(/("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, (match, string: string | undefined, colon: string | undefined, literal: string | undefined, number: string | undefined) => {
    if (string !== undefined) return colon !== undefined ? `${c.cyan(string)}${colon}` : c.green(string);
    if (literal !== undefined) return c.yellow(literal);
    if (number !== undefined) return c.yellow(number);
    return match;
  });
}
