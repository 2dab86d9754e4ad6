// Stage guard: whether a request may be sent: key, spec, scopes, destruction, metadata, consent,
// approvals. It may import core, spec, endpoint, request.
//
// The guard's policy: the pre-flight check in front of every write. `evaluate` is the decision, a
// pure function over (request, spec, environment); `runGuard` adds the I/O around it (find the key,
// ask at a terminal, issue the approval); `authorizeWrite` is what the executor calls.
import {
  approvalTtl,
  createApproval,
  findOpenApproval,
  pendingTtl,
  type Approval,
  type ApprovalRequest,
  type ConfirmedBy,
  type ScopeBypass,
} from './approvals.js';
import { consentFor, type Consent } from './consent.js';
import { colorsFor, escapeControls, type IO } from '../core/io.js';
import { canPrompt, isConfirmed, terminalPrompter, type Prompter } from './confirm.js';
import { destructionByPath, destructionFor, type Destruction } from './destruction.js';
import { findEndpoint, parseRequestTarget, type EndpointMatch } from '../endpoint/match.js';
import { ApprovalPendingError, ConfirmationError, DeclinedError, EXIT, KeyInvalidError, NotFoundError, RequestInvalidError, ScopeDeniedError, ToolkitError } from '../core/errors.js';
import { adviseMetadata, type MetadataAdvice } from './metadata.js';
import { deprecatedProperties, deref, validateValue, type SchemaProblem } from '../endpoint/validate.js';
import { checkScopes, isWriteMethod, parseScopes, SCOPES_VARIABLE, type ScopeCheck } from './scopes.js';
import { describeSecretKey, findSecretKey, KEY_HINTS, redactSecret, type KeyInfo, type SecretKey } from './key.js';
import { checkBodyValue } from '../request/body.js';
import { resolveBaseUrl } from '../request/url.js';
import { endpointKey, visibleEndpoints, type EndpointRaw, type EndpointSummary, type SpecDetail } from '../spec/index.js';
import { provenanceOf } from '../spec/published.js';
import type { SelectedSpec } from '../spec/select.js';
import { defaultStateDir } from '../core/state-dir.js';
import { isObject } from '../core/values.js';
import { renderOutcome, renderVerdict } from './render.js';

// The executor's whole interface lives here: evaluate/runGuard/authorizeWrite, and the approvals.
export { keyError, redactSecret } from './key.js';
export { consumeApproval, createApproval, type Approval, type ApprovalRequest, type ConsumeResult } from './approvals.js';

export const SCOPE_REFUSAL = 'This is a write operation and your current scopes may not allow it. Rerun with --admin to bypass?';

export interface GuardRequest {
  method: string;
  /** Concrete path (`/users/user_123`), with or without /v1, a query string or https://api.clerk.com. */
  path: string;
  query: Array<[string, string]>;
  /** Parsed JSON body; undefined when there is none. */
  body: unknown;
  /** The resource as it is now, when the executor fetched it: a metadata replace is then judged on what it loses. */
  current?: unknown;
}

/** The keys of `before` that `after` does not have, as dotted paths (a replaced object loses them). */
export function lostKeys(before: unknown, after: unknown, prefix = '', out: string[] = []): string[] {
  if (!isObject(before)) return out;
  for (const [key, value] of Object.entries(before)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (!isObject(after) || !Object.hasOwn(after, key)) out.push(path);
    else if (isObject(value)) lostKeys(value, after[key], path, out);
  }
  return out;
}

export type CheckId = 'key' | 'request' | 'scopes' | 'destruction' | 'metadata' | 'confirmation';

export interface GuardCheck {
  id: CheckId;
  ok: boolean;
  message: string;
}

export interface GuardContext {
  /** The selected spec's endpoints (already filtered for --include-platform). */
  endpoints: EndpointSummary[];
  detail: SpecDetail;
  version: string;
  /** The spec is a --spec file or stdin, not a version from the store. */
  specFromFile?: boolean;
  /** The spec is one Clerk published (spec/published): anything else is unverified, and judged so. */
  specPublished?: boolean;
  /** Where the spec came from and why it is (not) published, in words. */
  specProvenance?: string;
  env: Record<string, string | undefined>;
  keyInfo: KeyInfo;
  admin: boolean;
  yes: boolean;
  /** A person can be asked at a terminal. */
  interactive: boolean;
  /** Who may consent (default: flag mode, as scripts and CI have it). */
  consent?: Consent;
}

export interface Verdict {
  allowed: boolean;
  request: { method: string; path: string; query: Array<[string, string]>; body: unknown };
  endpoint: { method: string; path: string; operationId: string | null } | null;
  checks: GuardCheck[];
  destroys: string[];
  /** What the request takes away until another request gives it back (a ban's sign-in ability). */
  reversible: string[];
  warnings: string[];
  approval: { id: string; expiresAt: string; status: 'granted' | 'pending'; approveCommand?: string } | null;
  /** What failed, stable across releases (README, Error codes): null when allowed. */
  code: string | null;
  /** The exit code this verdict means: 0 allowed, 2 invalid, 3 policy, 4 confirmation. */
  exitCode: number;
  /** Why it is not allowed (the first failing check's message); null when allowed. */
  reason: string | null;
  hints: string[];
  version: string;
  write: boolean;
  destructive: boolean;
  /** Each problem of the request against the spec, at its JSON path (`$.…` body, `query.…`, `path.…`). */
  problems: SchemaProblem[];
  key: { source: string | null; masked: string | null; kind: string | null; fingerprint: string | null };
  scopes: { needs: string[]; grantedBy: string[]; wouldAllow: string[]; bypassed: boolean; bypassBy: ScopeBypass | null; personNeeded: boolean } | null;
  metadata: MetadataAdvice | null;
  /** What a person must type to confirm at a terminal; null when no confirmation is needed. */
  confirmation: {
    required: boolean;
    reasons: string[];
    expected: string | null;
    /** A prompt at this terminal is about to ask. */
    pending: boolean;
    by: 'yes-flag' | 'prompt' | 'approve-command' | null;
    /** Only a person's `bapi-guard approve` can allow it (person mode, no terminal or an agent). */
    person: boolean;
    /** A person was asked at the terminal and did not confirm. */
    declined?: boolean;
  };
  /** Who may consent, and why. */
  consent: { mode: 'flag' | 'person'; reasons: string[]; agent: string | null };
  destroysNote: string | null;
}

const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** The JSON paths (escaped for display) of body keys that hold a control or bidi character. */
function unsafeKeys(value: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item, i) => unsafeKeys(item, `${path}[${i}]`, out));
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const here = `${path}.${escapeControls(key)}`;
      if (CONTROL_OR_BIDI.test(key)) out.push(here);
      unsafeKeys(item, here, out);
    }
  }
  return out;
}

// Query values arrive as text; give them the type their schema expects before validating.
function typedQueryValue(raw: string, schema: unknown): unknown {
  const type = isObject(schema) ? schema.type : undefined;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function knownOrigins(env: Record<string, string | undefined>): string[] {
  const origins = ['https://api.clerk.com'];
  if (env.CLERK_API_URL) {
    try {
      origins.push(new URL(env.CLERK_API_URL).origin);
    } catch {
      // An invalid CLERK_API_URL is the executor's to report.
    }
  }
  return origins;
}

interface RequestCheck {
  match: EndpointMatch | null;
  raw: EndpointRaw | null;
  path: string;
  query: Array<[string, string]>;
  problems: SchemaProblem[];
  warnings: string[];
  message: string;
  hints: string[];
}

function checkRequest(request: GuardRequest, context: GuardContext): RequestCheck {
  const method = request.method.trim().toUpperCase();
  const result: RequestCheck = { match: null, raw: null, path: request.path, query: [...request.query], problems: [], warnings: [], message: '', hints: [] };
  let target;
  try {
    target = parseRequestTarget(request.path);
  } catch (error) {
    result.message = error instanceof Error ? error.message : String(error);
    result.problems.push({ path: 'path', message: result.message });
    return result;
  }
  try {
    // Before anything walks the body, however it arrived (a tool call skips the CLI's parser).
    if (request.body !== undefined) checkBodyValue(request.body, 'the body');
  } catch (error) {
    result.message = error instanceof Error ? error.message : String(error);
    result.problems.push({ path: '$', message: result.message });
    return result;
  }
  result.path = target.path;
  result.query = [...target.query, ...request.query];
  if (target.origin !== undefined && !knownOrigins(context.env).includes(target.origin)) {
    result.message = `${target.origin} is not Clerk's Backend API (https://api.clerk.com or CLERK_API_URL); give a path such as /users`;
    result.problems.push({ path: 'path', message: result.message });
    return result;
  }
  try {
    result.match = findEndpoint(context.endpoints, { method, path: target.path }, context.version);
  } catch (error) {
    if (!(error instanceof ToolkitError)) throw error;
    result.message = error.message;
    result.hints = error.hints;
    result.problems.push({ path: 'path', message: error.message });
    return result;
  }
  const endpoint = result.match.endpoint;
  const raw = context.detail.endpoints[endpointKey(endpoint.method, endpoint.path)] ?? null;
  result.raw = raw;
  if (endpoint.deprecated) result.warnings.push(`${endpoint.method} ${endpoint.path} is deprecated in spec ${context.version}`);
  const components = context.detail.components;

  const placeholders = [...endpoint.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string).filter((name) => !(name in result.match!.pathParams));
  for (const name of placeholders) result.problems.push({ path: `path.${name}`, message: `path parameter {${name}} needs a concrete value (e.g. /users/user_123, not /users/{user_id})` });
  for (const [name, value] of Object.entries(result.match.pathParams)) {
    if (value.trim() === '') result.problems.push({ path: `path.${name}`, message: 'path parameter is empty' });
    // The toolkit's own examples print `<user_id>`; a template gives `{user_id}`: neither is an id.
    else if (/^<[^>]*>$|^\{[^}]*\}$/.test(value.trim())) result.problems.push({ path: `path.${name}`, message: `fill in ${name}: ${value} is a placeholder, not an id` });
  }

  const parameters = (raw?.parameters ?? []).map((p) => deref(p, components)).filter(isObject);
  // Path parameters are checked like query ones: `GET /api_keys/zzz` fails the spec's pattern.
  for (const parameter of parameters.filter((p) => p.in === 'path' && typeof p.name === 'string')) {
    const name = parameter.name as string;
    const value = result.match.pathParams[name];
    if (value === undefined || value.trim() === '' || result.problems.some((p) => p.path === `path.${name}`)) continue;
    const schema = deref(parameter.schema, components);
    for (const problem of validateValue(typedQueryValue(value, schema), schema, components)) result.problems.push({ ...problem, path: problem.path.replace(/^\$/, `path.${name}`) });
  }
  // What a person reads and a server parses must be the same text: no controls or bidi overrides
  // in a query name or value, or in a body key (a metadata key that clears the approval screen).
  for (const [name, value] of result.query) {
    if (CONTROL_OR_BIDI.test(name)) result.problems.push({ path: `query.${escapeControls(name)}`, message: 'the query parameter name holds a control or bidirectional-override character: refused' });
    else if (CONTROL_OR_BIDI.test(value)) result.problems.push({ path: `query.${name}`, message: 'the value holds a control or bidirectional-override character: refused' });
  }
  for (const path of unsafeKeys(request.body)) result.problems.push({ path, message: 'the body key holds a control or bidirectional-override character: refused' });
  const queryParameters = parameters.filter((p) => p.in === 'query' && typeof p.name === 'string');
  const given = new Map<string, string[]>();
  for (const [name, value] of result.query) given.set(name, [...(given.get(name) ?? []), value]);
  for (const parameter of queryParameters) {
    const name = parameter.name as string;
    const values = given.get(name) ?? given.get(`${name}[]`);
    if (values === undefined) {
      if (parameter.required === true) result.problems.push({ path: `query.${name}`, message: 'required query parameter is missing' });
      continue;
    }
    const schema = deref(parameter.schema, components);
    if (isObject(schema) && schema.type === 'array') {
      const typed = values.map((v) => typedQueryValue(v, deref(schema.items, components)));
      for (const problem of validateValue(typed, schema, components)) result.problems.push({ ...problem, path: problem.path.replace(/^\$/, `query.${name}`) });
    } else {
      if (values.length > 1) result.warnings.push(`query parameter ${name} is given ${values.length} times; Clerk reads one value`);
      for (const value of values) {
        for (const problem of validateValue(typedQueryValue(value, schema), schema, components)) result.problems.push({ ...problem, path: problem.path.replace(/^\$/, `query.${name}`) });
      }
    }
  }
  const knownQuery = new Set(queryParameters.map((p) => p.name as string));
  for (const name of given.keys()) {
    if (!knownQuery.has(name) && !knownQuery.has(name.replace(/\[\]$/, ''))) result.warnings.push(`query parameter ${name} is not in the spec for ${endpoint.method} ${endpoint.path}`);
  }

  const requestBody = deref(raw?.requestBody ?? null, components);
  if (!isObject(requestBody)) {
    if (request.body !== undefined) result.problems.push({ path: '$', message: `${endpoint.method} ${endpoint.path} takes no request body` });
  } else if (request.body === undefined) {
    if (requestBody.required === true) result.problems.push({ path: '$', message: 'a request body is required (give it with -d JSON, -d @file or -d -)' });
  } else {
    const content = isObject(requestBody.content) ? requestBody.content : {};
    const jsonType = Object.keys(content).find((type) => /^application\/(.+\+)?json/.test(type));
    const media = jsonType ? content[jsonType] : undefined;
    if (isObject(media) && media.schema !== undefined) {
      result.problems.push(...validateValue(request.body, media.schema, components));
      for (const path of deprecatedProperties(request.body, media.schema, components)) result.warnings.push(`${path} is deprecated in spec ${context.version}`);
    } else if (jsonType === undefined && Object.keys(content).length > 0) {
      result.warnings.push(`${endpoint.method} ${endpoint.path} takes ${Object.keys(content).join(' or ')}; the body was not validated against it`);
    }
  }

  const label = `${endpoint.method} ${endpoint.path}${endpoint.operationId ? ` (${endpoint.operationId})` : ''}`;
  if (result.problems.length === 0) {
    result.message = `matches ${label} in spec ${context.version}${request.body === undefined ? '' : '; the body is valid'}`;
  } else {
    const count = result.problems.length;
    result.message = `${count} problem${count === 1 ? '' : 's'} against ${label} in spec ${context.version}: ${result.problems
      .slice(0, 3)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ')}${count > 3 ? '; …' : ''}`;
  }
  return result;
}

/**
 * A read checked against the spec, for the executor: the problems of its path and query, and the
 * closest endpoints when none matches. A read is never refused for these (Clerk may know better),
 * except by the caller for what is certain to go wrong.
 */
export function checkRead(request: GuardRequest, spec: GuardSpec, env: Record<string, string | undefined>): { endpoint: EndpointSummary | null; problems: SchemaProblem[]; warnings: string[]; message: string; hints: string[] } {
  const context: GuardContext = { endpoints: spec.endpoints, detail: spec.detail, version: spec.version, env, keyInfo: describeSecretKey(null).info, admin: false, yes: false, interactive: false };
  const checked = checkRequest(request, context);
  return { endpoint: checked.match?.endpoint ?? null, problems: checked.problems, warnings: checked.warnings, message: checked.message, hints: checked.hints };
}

/** What a person types at the prompt: for a DELETE the resource id, otherwise "yes". */
function expectedAnswer(method: string, match: EndpointMatch | null, path: string): string {
  if (method !== 'DELETE') return 'yes';
  const params = match ? Object.values(match.pathParams) : [];
  const last = params.at(-1);
  if (last !== undefined && last !== '') return last;
  return path.split('/').filter(Boolean).at(-1) ?? 'yes';
}

/**
 * The guard's decision for one request. Pure: the key, scopes and flags come in the context. Checks
 * run in the contract's order; the first failing one sets the exit code, and every check is
 * reported so one run shows everything to fix. An interactive context leaves confirmation
 * `pending` for the caller to ask.
 */
export function evaluate(request: GuardRequest, context: GuardContext): Verdict {
  const method = request.method.trim().toUpperCase();
  const write = isWriteMethod(method);
  const checks: GuardCheck[] = [];
  const warnings: string[] = [];
  const hints: string[] = [];
  let exitCode: number = EXIT.ok;
  let reason: string | null = null;
  const fail = (id: CheckId, code: number, message: string, extraHints: string[] = []) => {
    checks.push({ id, ok: false, message });
    if (exitCode === EXIT.ok) {
      exitCode = code;
      reason = message;
      hints.push(...extraHints);
    }
  };

  // 1. The key.
  const key = context.keyInfo;
  if (key.wellFormed) {
    checks.push({ id: 'key', ok: true, message: `${key.masked} (${key.kind === 'live' ? 'LIVE instance' : 'test instance'}) from ${key.source}` });
  } else {
    fail('key', EXIT.policy, key.problem ?? 'no usable CLERK_SECRET_KEY', KEY_HINTS);
  }

  // 2. The request against the spec.
  const checked = checkRequest(request, context);
  warnings.push(...checked.warnings);
  const match = checked.match;
  const endpoint = match?.endpoint ?? null;
  if (checked.problems.length === 0 && match) checks.push({ id: 'request', ok: true, message: checked.message });
  else {
    const more = match ? [`See the endpoint with: extract-endpoint-detail ${endpoint!.method} '${endpoint!.path}'${context.version ? ` --api-version ${context.version}` : ''}`] : checked.hints;
    fail('request', EXIT.usage, checked.message, more);
  }

  const consent: Consent = context.consent ?? { mode: 'flag', reasons: [], agent: null, warnings: [] };
  // Fail closed: a spec is published only when the caller found it so.
  const published = context.specPublished === true;
  if (write) warnings.push(...consent.warnings);

  // 3. Scopes, for writes.
  let scopes: Verdict['scopes'] = null;
  if (!write) {
    checks.push({ id: 'scopes', ok: true, message: `${method} is not a write: no scope needed` });
  } else {
    const set = parseScopes(context.env[SCOPES_VARIABLE]);
    for (const unknown of set.unknown) warnings.push(`${SCOPES_VARIABLE}: \`${unknown}\` is not a scope (use write, delete, or RESOURCE:write / RESOURCE:delete)`);
    // The concrete path's resource always counts; a spec's tags only when Clerk published that spec
    // (a crafted spec can tag POST /users/{a}/{b} as Organizations).
    const check: ScopeCheck = checkScopes(set, method, { path: checked.path, tags: published && endpoint ? endpoint.tags : [] });
    scopes = { needs: check.needs, grantedBy: check.grantedBy, wouldAllow: check.wouldAllow, bypassed: false, bypassBy: null, personNeeded: false };
    const current = context.env[SCOPES_VARIABLE]?.trim() ? `"${context.env[SCOPES_VARIABLE]?.trim()}"` : 'unset';
    if (check.ok) {
      checks.push({ id: 'scopes', ok: true, message: `${check.needs.join(' + ')} allowed by ${check.grantedBy.join(', ')}` });
    } else if (consent.mode === 'person') {
      // Only a person can bypass the scopes here; --admin is a request for that, not a bypass.
      scopes.personNeeded = true;
      fail('scopes', EXIT.confirmation, `${SCOPES_VARIABLE} (${current}) does not allow it (${method} needs ${check.needs.join(' + ')}): a person must approve a scope bypass`);
    } else if (context.admin) {
      scopes.bypassed = true;
      scopes.bypassBy = 'admin-flag';
      checks.push({ id: 'scopes', ok: true, message: `bypassed by --admin (${SCOPES_VARIABLE} is ${current}; this needs ${check.needs.join(' + ')})` });
      warnings.push(`--admin bypassed the scope check: ${SCOPES_VARIABLE} would need ${check.wouldAllow.join(' or ')}`);
    } else {
      fail('scopes', EXIT.policy, `${SCOPE_REFUSAL} (${method} needs ${check.needs.join(' + ')}; ${SCOPES_VARIABLE} is ${current})`, [
        `Allowed by ${check.wouldAllow.map((s) => `${SCOPES_VARIABLE}=${s}`).join(' or ')}, or rerun with --admin.`,
      ]);
    }
  }

  // 4. What it destroys: by the matched template, and by the concrete path whatever the spec says.
  const byTemplate: Destruction = write && endpoint
    ? destructionFor({ method: endpoint.method, path: endpoint.path, summary: endpoint.summary, description: checked.raw?.description ?? '' })
    : write
      ? destructionFor({ method, path: checked.path })
      : { destructive: false, destroys: [], reversible: [], note: null, source: 'none' as const };
  const byPath = write ? destructionByPath(method, checked.path, published && endpoint ? endpoint.path : null) : byTemplate;
  // The endpoint's own text names the concrete ids (`POST /users/user_1/unban`), not the template.
  const concrete = (text: string) => (match ? text.replace(/\{([^}]+)\}/g, (whole, name: string) => match.pathParams[name] ?? whole) : text);
  const destruction = combineDestruction({ ...byTemplate, destroys: byTemplate.destroys.map(concrete), reversible: byTemplate.reversible.map(concrete), note: byTemplate.note === null ? null : concrete(byTemplate.note) }, byPath);
  const destroys = [...destruction.destroys];
  const reversible = destruction.reversible;
  // A metadata field the spec does not take here (2026-05-12 removed it from PATCH /users/{user_id})
  // makes the request invalid; it is not also reported as replacing data it cannot touch.
  const refused = new Set(checked.problems.filter((p) => p.keyword === 'additionalProperties').map((p) => p.path.replace(/^\$\./, '')));
  const adviceBody = isObject(request.body) && refused.size > 0 ? Object.fromEntries(Object.entries(request.body).filter(([key]) => !refused.has(key))) : request.body;
  const metadata = write && endpoint ? adviseMetadata(method, endpoint.path, adviceBody) : null;
  if (metadata && metadata.semantics === 'replace') {
    for (const field of metadata.replaces) {
      // Judged on the loss when the executor read the resource first; else on the body alone.
      if (isObject(request.current)) {
        const lost = lostKeys(request.current[field], isObject(request.body) ? request.body[field] : undefined);
        if (lost.length > 0) destroys.push(`${field} keys not in the body: ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? `, … (${lost.length} in all)` : ''} (the object is replaced as a whole)`);
        else warnings.push(`${field} is replaced as a whole, and the body keeps every key it has now: nothing is lost`);
      } else {
        destroys.push(`the previous contents of ${field} (replaced as a whole: keys not in the body are lost)`);
      }
    }
  }
  const destructive = destruction.destructive || destroys.length > 0;
  const target = match && Object.keys(match.pathParams).length > 0 ? ` (${Object.entries(match.pathParams).map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
  if (destructive && destroys.length === 0 && reversible.length > 0) {
    checks.push({ id: 'destruction', ok: true, message: `REVERSIBLE: ${method} ${endpoint?.path ?? checked.path}${target} takes away ${reversible.length} thing${reversible.length === 1 ? '' : 's'} until another request gives ${reversible.length === 1 ? 'it' : 'them'} back, listed in reversible` });
  } else if (destructive) {
    checks.push({ id: 'destruction', ok: true, message: `IRREVERSIBLE: ${method} ${endpoint?.path ?? checked.path}${target} permanently destroys ${destroys.length} thing${destroys.length === 1 ? '' : 's'}, listed in destroys${reversible.length > 0 ? `, and takes away ${reversible.length} more until undone (reversible)` : ''}${destruction.source === 'derived' ? ' (derived from the spec: no curated entry)' : ''}` });
    if (destruction.source === 'derived' && destruction.note) warnings.push(destruction.note);
  } else {
    checks.push({ id: 'destruction', ok: true, message: write ? 'destroys nothing permanently' : `${method} changes nothing` });
  }

  // 5. Metadata.
  if (metadata) {
    warnings.push(...metadata.warnings.filter((w) => !warnings.includes(w)));
    const fit = metadata.warnings.length === 0 ? 'the keys fit' : `${metadata.warnings.length} warning${metadata.warnings.length === 1 ? '' : 's'}`;
    const semantics = metadata.semantics === 'merge' ? 'merged' : metadata.semantics === 'create' ? 'set on creation' : metadata.semantics === 'other' ? 'stored' : 'REPLACED';
    checks.push({ id: 'metadata', ok: true, message: `sets ${metadata.fields.join(', ')} (${semantics}); ${fit}` });
  } else {
    checks.push({ id: 'metadata', ok: true, message: 'sets no metadata' });
  }

  // 6. Confirmation: destructive requests, and every write with a live key.
  const person = consent.mode === 'person';
  const reasons: string[] = [];
  if (write && destructive) reasons.push(destroys.length > 0 ? 'it destroys data irreversibly' : 'it revokes access until undone');
  if (write && key.kind === 'live') reasons.push('it writes to a LIVE (production) instance');
  if (write && !published) {
    warnings.push(`this request was checked against ${context.specFromFile ? 'a spec given with --spec' : 'an unverified spec'}, not a published version of Clerk's spec${context.specProvenance ? ` (${context.specProvenance})` : ''}`);
    // A crafted spec can make any path look harmless: a person (or, in flag mode under a live key, a confirmation) decides.
    if (key.kind === 'live' || person) reasons.push(`it was checked against ${context.specFromFile ? 'a --spec file' : 'an unverified spec'}, not a published spec`);
  }
  if (write && scopes?.personNeeded) reasons.push('its scopes need a bypass');
  const confirmation: Verdict['confirmation'] = {
    required: reasons.length > 0,
    reasons,
    expected: reasons.length > 0 ? expectedAnswer(method, match, checked.path) : null,
    pending: false,
    by: null,
    person: false,
  };
  // Only failures a person can lift (scopes, confirmation) may wait for one.
  const onlyConsentMissing = () => checks.every((c) => c.ok || c.id === 'scopes' || c.id === 'confirmation') && exitCode !== EXIT.usage && exitCode !== EXIT.policy;
  if (reasons.length === 0) {
    checks.push({ id: 'confirmation', ok: true, message: write ? 'not needed' : 'not needed for a read' });
  } else if (!person && context.yes) {
    confirmation.by = 'yes-flag';
    checks.push({ id: 'confirmation', ok: true, message: `confirmed by --yes (${reasons.join('; ')})` });
  } else if (!person && context.interactive && exitCode === EXIT.ok) {
    confirmation.pending = true;
    fail('confirmation', EXIT.confirmation, `waiting for confirmation at the terminal (${reasons.join('; ')})`);
  } else if (!person) {
    fail('confirmation', EXIT.confirmation, `needs confirmation because ${reasons.join(' and ')}: run it at a terminal to be asked, or add --yes; nothing was approved`, [
      'Read what it destroys above before adding --yes.',
    ]);
  } else {
    if (context.yes) warnings.push('--yes confirms nothing here: a person must approve this request');
    if (context.admin && scopes?.personNeeded) warnings.push('--admin bypasses nothing here: a person must approve the scope bypass');
    // A terminal counts as a person unless an agent drives the process (an agent can type into a terminal too).
    if (context.interactive && consent.agent === null && onlyConsentMissing()) {
      confirmation.pending = true;
      fail('confirmation', EXIT.confirmation, `waiting for a person at the terminal (${reasons.join('; ')})`);
    } else {
      confirmation.person = onlyConsentMissing();
      fail('confirmation', EXIT.confirmation, `needs a person's approval because ${reasons.join(' and ')}; nothing was approved`);
    }
  }

  const allowed = exitCode === EXIT.ok;
  return withCode({
    allowed,
    request: { method, path: checked.path, query: checked.query, body: request.body === undefined ? null : request.body },
    endpoint: endpoint ? { method: endpoint.method, path: endpoint.path, operationId: endpoint.operationId } : null,
    checks,
    destroys: write ? destroys : [],
    reversible: write ? reversible : [],
    warnings,
    approval: null,
    exitCode,
    reason: allowed ? null : reason,
    hints: allowed ? [] : hints,
    version: context.version,
    write,
    destructive: write && destructive,
    problems: checked.problems,
    key: { source: key.source, masked: key.masked, kind: key.kind, fingerprint: key.fingerprint },
    scopes,
    metadata,
    confirmation,
    consent: { mode: consent.mode, reasons: consent.reasons, agent: consent.agent },
    destroysNote: destruction.note,
    code: null,
  });
}

/** Both judgements of what a request destroys, as one: destructive when either says so, every item once. */
function combineDestruction(a: Destruction, b: Destruction): Destruction {
  if (!b.destructive) return a;
  if (!a.destructive) return b;
  const unique = (items: string[]) => [...new Set(items)];
  const source = a.source === 'curated' || b.source === 'curated' ? 'curated' : 'derived';
  return {
    destructive: true,
    destroys: unique([...a.destroys, ...b.destroys]),
    reversible: unique([...a.reversible, ...b.reversible]),
    note: a.source === 'curated' ? a.note : b.note ?? a.note,
    source,
  };
}

/** The verdict after a person answered the prompt: allowed when they typed the expected answer. */
export function applyConfirmation(verdict: Verdict, answer: string | null): Verdict {
  if (!verdict.confirmation.pending) return verdict;
  const expected = verdict.confirmation.expected ?? 'yes';
  const ok = isConfirmed(answer, expected);
  const bypassed = ok && verdict.scopes?.personNeeded === true;
  const checks = verdict.checks.map((check) => {
    if (check.id === 'scopes' && bypassed) return { id: check.id, ok: true, message: `bypass confirmed at the terminal (${verdict.request.method} needs ${verdict.scopes?.needs.join(' + ') ?? 'write'}, beyond ${SCOPES_VARIABLE})` };
    if (check.id !== 'confirmation') return check;
    return { id: check.id, ok, message: ok ? `confirmed at the terminal (${verdict.confirmation.reasons.join('; ')})` : answer === null ? 'no answer at the prompt: declined; nothing was approved' : 'declined at the prompt; nothing was approved' };
  });
  const firstFailure = checks.find((c) => !c.ok);
  return {
    ...verdict,
    checks,
    allowed: firstFailure === undefined,
    exitCode: firstFailure === undefined ? EXIT.ok : EXIT.confirmation,
    reason: firstFailure?.message ?? null,
    hints: [],
    scopes: verdict.scopes && bypassed ? { ...verdict.scopes, bypassed: true, bypassBy: 'terminal' } : verdict.scopes,
    confirmation: { ...verdict.confirmation, pending: false, by: ok ? 'prompt' : null, declined: !ok },
  };
}

/** The spec a request is checked against: the selected version's visible endpoints and detail. */
export interface GuardSpec {
  endpoints: EndpointSummary[];
  detail: SpecDetail;
  version: string;
  /** A --spec file or stdin rather than the store: marked in the verdict, and bound by its digest like any spec. */
  fromFile?: boolean;
  /** Clerk published this spec (its sha is known, or it came from the official repository): else it is unverified. */
  published?: boolean;
  /** Where it came from and why it is (not) published, in words. */
  provenance?: string;
}

/** The spec a request is judged against, from the selected one: its visible endpoints and where it came from. */
export function guardSpecOf(selected: SelectedSpec, detail: SpecDetail, includePlatform: boolean): GuardSpec {
  const provenance = provenanceOf(selected.sha, selected.store?.source ?? null);
  return { endpoints: visibleEndpoints(selected.summary, includePlatform), detail, version: selected.version, fromFile: selected.store === null, published: provenance.published, provenance: provenance.reason };
}

/** The parts of the evaluation context that come from the spec. */
export function specContext(spec: GuardSpec): Pick<GuardContext, 'endpoints' | 'detail' | 'version' | 'specFromFile' | 'specPublished' | 'specProvenance'> {
  return { endpoints: spec.endpoints, detail: spec.detail, version: spec.version, specFromFile: spec.fromFile === true, specPublished: spec.published === true, ...(spec.provenance === undefined ? {} : { specProvenance: spec.provenance }) };
}

/** The spec document's digest (its blob sha), which an approval binds besides the version label. */
export function specDigest(spec: GuardSpec): string {
  return `${spec.fromFile === true ? 'file' : 'store'}:${spec.detail.sha}`;
}

/** The API origin a write goes to, which an approval binds; an invalid CLERK_API_URL is the executor's to report. */
export function apiOrigin(env: Record<string, string | undefined>): string {
  try {
    return resolveBaseUrl(env.CLERK_API_URL).origin;
  } catch {
    return 'invalid';
  }
}

export interface RunGuardOptions {
  admin?: boolean;
  yes?: boolean;
  /** Issue an approval file for an allowed write (the executor running the guard inline passes false). */
  issueApproval?: boolean;
  /** Approval lifetime in seconds; default: CLERK_BAPI_APPROVAL_TTL, else 5 minutes. */
  ttlSeconds?: number;
  stateDir?: string;
  /** Overrides the terminal prompt (tests); null forbids prompting. */
  prompter?: Prompter | null;
  /** Print the human explanation on stderr (default true). */
  explain?: boolean;
  now?: Date;
  /** An already found key (the executor's); otherwise it is looked up from io.env and io.cwd. */
  key?: SecretKey;
  /** Who reports: heads the explanation (default `bapi-guard`; the executor running it inline says so). */
  label?: string;
  /** Who may consent; default from the environment and the state directory's policy. */
  consent?: Consent;
  /** Record a pending approval when only a person can allow the request (default true). */
  issuePending?: boolean;
}

export interface GuardOutcome {
  verdict: Verdict;
  /** The key found (its value only for the Authorization header). */
  key: SecretKey;
  /** The full approval when one was issued. */
  approval: Approval | null;
  exitCode: number;
}

export function approvalRequestFor(verdict: Verdict, spec: GuardSpec, env: Record<string, string | undefined>, keyFingerprint: string): ApprovalRequest {
  return {
    method: verdict.request.method,
    path: verdict.request.path,
    query: verdict.request.query,
    body: verdict.request.body === null ? undefined : verdict.request.body,
    version: verdict.version,
    specDigest: specDigest(spec),
    origin: apiOrigin(env),
    keyFingerprint,
  };
}

/**
 * Runs the guard with its I/O: finds the key, evaluates, asks at a terminal when confirmation is
 * needed, issues the approval for an allowed write, and explains it all on stderr.
 */
export async function runGuard(request: GuardRequest, spec: GuardSpec, io: IO, options: RunGuardOptions = {}): Promise<GuardOutcome> {
  const key = options.key ?? findSecretKey(io.env, io.cwd);
  const stateDir = options.stateDir ?? defaultStateDir(io.env, io.cwd);
  const consent = options.consent ?? consentFor(io.env, stateDir);
  const prompter = options.prompter === undefined ? (canPrompt(io) ? terminalPrompter(io) : null) : options.prompter;
  const explain = options.explain ?? true;
  let verdict = evaluate(request, {
    ...specContext(spec),
    env: io.env,
    keyInfo: key.info,
    admin: options.admin ?? false,
    yes: options.yes ?? false,
    interactive: prompter !== null,
    consent,
  });
  const colors = colorsFor(io.stderr, io.env);
  const shown = (v: Verdict) => redactSecret(v, key.value, key.info.masked ?? '[REDACTED]');
  let approval: Approval | null = null;
  const now = options.now ?? new Date();
  const binding = () => approvalRequestFor(verdict, spec, io.env, key.info.fingerprint as string);
  if (verdict.confirmation.person && key.info.fingerprint) {
    // A person already approved this exact request, or was already asked: no second approval.
    const open = findOpenApproval(stateDir, binding(), now);
    if (open?.status === 'granted') {
      verdict = grantedByPerson(verdict, open);
      approval = open;
    } else if (options.issuePending ?? true) {
      approval = open ?? createApproval(stateDir, binding(), {
        status: 'pending',
        ttlSeconds: pendingTtl(io.env),
        now,
        endpoint: verdict.endpoint ? `${verdict.endpoint.method} ${verdict.endpoint.path}` : null,
        destructive: verdict.destructive,
        scopeBypass: verdict.scopes?.personNeeded ? 'approve-command' : null,
        consentMode: 'person',
        destroys: verdict.destroys,
        report: renderVerdict(shown(verdict), colorsFor({ isTTY: false, write: () => true }, {}), { outcome: false, label: 'bapi-guard' }),
        expected: verdict.confirmation.expected ?? 'yes',
      });
      const approveCommand = `bapi-guard approve ${approval.id}`;
      verdict = {
        ...verdict,
        approval: { id: approval.id, status: 'pending', expiresAt: approval.expiresAt, approveCommand },
        hints: [`To approve, run in your own terminal: ${approveCommand}`, 'Then run the same command again: it is sent once the person has approved.'],
      };
    }
  }
  if (verdict.confirmation.pending && prompter) {
    if (explain) io.stderr.write(renderVerdict(shown(verdict), colors, { outcome: false, label: options.label }));
    const expected = verdict.confirmation.expected ?? 'yes';
    const question = expected === 'yes' ? `Proceed? Type yes to confirm: ` : `Type ${colors.bold(expected)} to confirm: `;
    verdict = applyConfirmation(verdict, await prompter(question));
    if (explain) io.stderr.write(renderOutcome(shown(verdict), colors));
  } else if (explain) {
    io.stderr.write(renderVerdict(shown(verdict), colors, { outcome: true, label: options.label }));
  }
  if (verdict.allowed && verdict.write && approval === null && (options.issueApproval ?? true) && key.info.fingerprint) {
    const ttlSeconds = options.ttlSeconds ?? approvalTtl(undefined, io.env);
    approval = createApproval(stateDir, binding(), {
      ttlSeconds,
      now,
      endpoint: verdict.endpoint ? `${verdict.endpoint.method} ${verdict.endpoint.path}` : null,
      destructive: verdict.destructive,
      confirmedBy: confirmedByOf(verdict),
      scopeBypass: verdict.scopes?.bypassBy ?? null,
      consentMode: consent.mode,
      destroys: verdict.destroys,
    });
    verdict = { ...verdict, approval: { id: approval.id, status: 'granted', expiresAt: approval.expiresAt } };
    if (explain) io.stderr.write(`Approval ${approval.id} for this exact request, valid until ${approval.expiresAt}, single use.\n`);
  }
  // The approval is bound to the body as given; what is shown or returned never holds the key.
  return { verdict: shown(withCode(verdict)), key, approval, exitCode: verdict.exitCode };
}

/** How the verdict's confirmation (one request's or a batch's) was given, in the audit's words. */
export function confirmedByOf(verdict: { confirmation: { by: Verdict['confirmation']['by'] } }): ConfirmedBy {
  if (verdict.confirmation.by === 'yes-flag') return 'yes-flag';
  if (verdict.confirmation.by === 'prompt') return 'terminal';
  if (verdict.confirmation.by === 'approve-command') return 'approve-command';
  return 'not-needed';
}

/** The verdict once a person's `bapi-guard approve` granted this exact request. */
function grantedByPerson(verdict: Verdict, approval: Approval): Verdict {
  const checks = verdict.checks.map((check) => {
    if (check.id === 'scopes' && !check.ok) return { ...check, ok: true, message: `bypass approved by a person (${approval.id})` };
    if (check.id === 'confirmation') return { ...check, ok: true, message: `approved by a person with bapi-guard approve (${approval.id})` };
    return check;
  });
  const allowed = checks.every((c) => c.ok);
  return {
    ...verdict,
    checks,
    allowed,
    exitCode: allowed ? EXIT.ok : verdict.exitCode,
    reason: allowed ? null : verdict.reason,
    hints: allowed ? [] : verdict.hints,
    scopes: verdict.scopes && verdict.scopes.personNeeded ? { ...verdict.scopes, bypassed: true, bypassBy: 'approve-command' } : verdict.scopes,
    confirmation: { ...verdict.confirmation, person: false, by: 'approve-command' },
    approval: { id: approval.id, status: 'granted', expiresAt: approval.expiresAt },
  };
}

/**
 * The failure a refused verdict stands for, by the check that failed first (its exit code is the
 * class's): key_invalid, not_found, request_invalid, scope_denied, approval_pending (with its id),
 * declined or confirmation_needed. Null when allowed.
 */
export function verdictError(verdict: Verdict): ToolkitError | null {
  if (verdict.allowed) return null;
  const message = verdict.reason ?? 'refused by the guard';
  const options = { hints: verdict.hints };
  const first = verdict.checks.find((check) => !check.ok);
  if (first?.id === 'key') return new KeyInvalidError(message, options);
  if (first?.id === 'request') return verdict.endpoint === null ? new NotFoundError(message, options) : new RequestInvalidError(message, options);
  if (first?.id === 'scopes' && verdict.scopes?.personNeeded !== true) return new ScopeDeniedError(message, options);
  if (verdict.approval?.status === 'pending') return new ApprovalPendingError(message, verdict.approval.id, verdict.approval.approveCommand ?? `bapi-guard approve ${verdict.approval.id}`, options);
  if (verdict.confirmation.declined) return new DeclinedError(message, options);
  return new ConfirmationError(message, options);
}

/** The verdict with its failure's stable code (null when allowed), as --json prints it. */
function withCode(verdict: Verdict): Verdict {
  return { ...verdict, code: verdictError(verdict)?.code ?? null };
}
