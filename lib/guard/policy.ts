// Stage guard: whether a request may be sent: key, spec, scopes, destruction, metadata, consent,
// approvals. It may import core, spec, endpoint, request.
//
// The guard's policy: the pre-flight check in front of every write. `evaluate` is the pipeline's
// judge, a pure function over (request, spec, environment): key, request against the spec
// (check-request), scopes, destruction, metadata, confirmation. `runGuard` (run-guard) adds the I/O
// around it; `authorizeRequest` (authorize) is what a front-end calls before sending.
import { pendingError, type ScopeBypass } from './approvals.js';
import { type Consent } from './consent.js';
import { isConfirmed } from './confirm.js';
import { combineDestruction, destructionByPath, destructionFor, lostKeys, type Destruction } from './destruction.js';
import { type EndpointMatch } from '../endpoint/match.js';
import { ConfirmationError, DeclinedError, EXIT, KeyInvalidError, NotFoundError, RequestInvalidError, ScopeDeniedError, ToolkitError } from '../core/errors.js';
import { adviseMetadata, type MetadataAdvice } from './metadata.js';
import { type SchemaProblem } from '../endpoint/validate.js';
import { checkScopes, isWriteMethod, parseScopes, SCOPES_VARIABLE, type ScopeCheck } from './scopes.js';
import { KEY_HINTS, type KeyInfo } from './key.js';
import { type EndpointSummary, type SpecDetail } from '../spec/index.js';
import { isObject } from '../core/values.js';
import { checkRequest, type RequestCheck } from './check-request.js';

// The executor's whole interface lives here: evaluate/runGuard/authorizeWrite, and the approvals.
export { keyError, redactSecret } from './key.js';

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
  approval: { id: string; expiresAt: string; status: 'granted' | 'pending'; approveCommand?: string; decideWhere?: string } | null;
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
    by: 'yes-flag' | 'prompt' | 'approve-command' | 'broker-terminal' | null;
    /** Only a person's `bapi-guard approve` can allow it (person mode, no terminal or an agent). */
    person: boolean;
    /** A person was asked at the terminal and did not confirm. */
    declined?: boolean;
  };
  /** Who may consent, and why. */
  consent: { mode: 'flag' | 'person'; reasons: string[]; agent: string | null };
  destroysNote: string | null;
}

/** What a person types at the prompt: for a DELETE the resource id, otherwise "yes". */
function expectedAnswer(method: string, match: EndpointMatch | null, path: string): string {
  if (method !== 'DELETE') return 'yes';
  const params = match ? Object.values(match.pathParams) : [];
  const last = params.at(-1);
  if (last !== undefined && last !== '') return last;
  return path.split('/').filter(Boolean).at(-1) ?? 'yes';
}

/** The checks of one verdict as they are made: the first failure sets the exit code, its reason and hints. */
class Judgement {
  readonly checks: GuardCheck[] = [];
  readonly warnings: string[] = [];
  readonly hints: string[] = [];
  exitCode: number = EXIT.ok;
  reason: string | null = null;

  pass(id: CheckId, message: string): void {
    this.checks.push({ id, ok: true, message });
  }

  fail(id: CheckId, code: number, message: string, hints: string[] = []): void {
    this.checks.push({ id, ok: false, message });
    if (this.exitCode !== EXIT.ok) return;
    this.exitCode = code;
    this.reason = message;
    this.hints.push(...hints);
  }

  /** Only failures a person can lift (scopes, confirmation) so far: then a person may be asked. */
  onlyConsentMissing(): boolean {
    return this.checks.every((c) => c.ok || c.id === 'scopes' || c.id === 'confirmation') && this.exitCode !== EXIT.usage && this.exitCode !== EXIT.policy;
  }
}

/** What one evaluation knows once the request is matched, for the checks after it. */
interface Judged {
  method: string;
  write: boolean;
  request: GuardRequest;
  context: GuardContext;
  checked: RequestCheck;
  endpoint: EndpointSummary | null;
  consent: Consent;
  /** Fail closed: a spec is published only when the caller found it so. */
  published: boolean;
}

/**
 * The guard's decision for one request (the pipeline's judge). Pure: the key, scopes and flags come
 * in the context. Checks run in the contract's order; the first failing one sets the exit code, and
 * every check is reported so one run shows everything to fix. An interactive context leaves
 * confirmation `pending` for the caller to ask.
 */
export function evaluate(request: GuardRequest, context: GuardContext): Verdict {
  const method = request.method.trim().toUpperCase();
  const write = isWriteMethod(method);
  const out = new Judgement();
  const key = context.keyInfo;
  if (key.wellFormed) out.pass('key', `${key.masked} (${key.kind === 'live' ? 'LIVE instance' : 'test instance'}) from ${key.source}`);
  else out.fail('key', EXIT.policy, key.problem ?? 'no usable CLERK_SECRET_KEY', KEY_HINTS);
  const checked = checkRequest(request, context);
  out.warnings.push(...checked.warnings);
  const endpoint = checked.match?.endpoint ?? null;
  if (checked.problems.length === 0 && endpoint) out.pass('request', checked.message);
  else out.fail('request', EXIT.usage, checked.message, endpoint ? [`See the endpoint with: extract-endpoint-detail ${endpoint.method} '${endpoint.path}'${context.version ? ` --api-version ${context.version}` : ''}`] : checked.hints);
  const consent: Consent = context.consent ?? { mode: 'flag', reasons: [], agent: null, warnings: [] };
  if (write) out.warnings.push(...consent.warnings);
  const judged: Judged = { method, write, request, context, checked, endpoint, consent, published: context.specPublished === true };
  const scopes = judgeScopes(judged, out);
  const { destruction, destroys, metadata } = judgeDestruction(judged, out);
  judgeMetadata(metadata, judged, out);
  const confirmation = judgeConfirmation(judged, out, { destructive: destruction.destructive || destroys.length > 0, destroys: destroys.length, scopes });
  const allowed = out.exitCode === EXIT.ok;
  return withCode({
    allowed,
    request: { method, path: checked.path, query: checked.query, body: request.body === undefined ? null : request.body },
    endpoint: endpoint ? { method: endpoint.method, path: endpoint.path, operationId: endpoint.operationId } : null,
    checks: out.checks,
    destroys: write ? destroys : [],
    reversible: write ? destruction.reversible : [],
    warnings: out.warnings,
    approval: null,
    exitCode: out.exitCode,
    reason: allowed ? null : out.reason,
    hints: allowed ? [] : out.hints,
    version: context.version,
    write,
    destructive: write && (destruction.destructive || destroys.length > 0),
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

/** 3. Scopes, for writes: CLERK_BAPI_SCOPES, --admin in flag mode, a person in person mode. */
function judgeScopes({ method, write, checked, endpoint, context, consent, published }: Judged, out: Judgement): Verdict['scopes'] {
  if (!write) {
    out.pass('scopes', `${method} is not a write: no scope needed`);
    return null;
  }
  const set = parseScopes(context.env[SCOPES_VARIABLE]);
  for (const unknown of set.unknown) out.warnings.push(`${SCOPES_VARIABLE}: \`${unknown}\` is not a scope (use write, delete, or RESOURCE:write / RESOURCE:delete)`);
  // The concrete path's resource always counts; a spec's tags only when Clerk published that spec
  // (a crafted spec can tag POST /users/{a}/{b} as Organizations).
  const check: ScopeCheck = checkScopes(set, method, { path: checked.path, tags: published && endpoint ? endpoint.tags : [] });
  const scopes: NonNullable<Verdict['scopes']> = { needs: check.needs, grantedBy: check.grantedBy, wouldAllow: check.wouldAllow, bypassed: false, bypassBy: null, personNeeded: false };
  const current = context.env[SCOPES_VARIABLE]?.trim() ? `"${context.env[SCOPES_VARIABLE]?.trim()}"` : 'unset';
  if (check.ok) {
    out.pass('scopes', `${check.needs.join(' + ')} allowed by ${check.grantedBy.join(', ')}`);
  } else if (consent.mode === 'person') {
    // Only a person can bypass the scopes here; --admin is a request for that, not a bypass.
    scopes.personNeeded = true;
    out.fail('scopes', EXIT.confirmation, `${SCOPES_VARIABLE} (${current}) does not allow it (${method} needs ${check.needs.join(' + ')}): a person must approve a scope bypass`);
  } else if (context.interactive && consent.agent === null && !context.admin && !context.yes) {
    // A person at this terminal, with no flag given: asked for real, as the refusal's question asks.
    scopes.personNeeded = true;
    out.fail('scopes', EXIT.confirmation, `${SCOPES_VARIABLE} (${current}) does not allow it (${method} needs ${check.needs.join(' + ')}): asking at the terminal whether to bypass it once`);
  } else if (context.admin) {
    scopes.bypassed = true;
    scopes.bypassBy = 'admin-flag';
    out.pass('scopes', `bypassed by --admin (${SCOPES_VARIABLE} is ${current}; this needs ${check.needs.join(' + ')})`);
    out.warnings.push(`--admin bypassed the scope check: ${SCOPES_VARIABLE} would need ${check.wouldAllow.join(' or ')}`);
  } else {
    out.fail('scopes', EXIT.policy, `${SCOPE_REFUSAL} (${method} needs ${check.needs.join(' + ')}; ${SCOPES_VARIABLE} is ${current})`, [
      `Allowed by ${check.wouldAllow.map((s) => `${SCOPES_VARIABLE}=${s}`).join(' or ')}, or rerun with --admin.`,
    ]);
  }
  return scopes;
}

/** 4. What it destroys: by the matched template, and by the concrete path whatever the spec says; a metadata replace by what it loses. */
function judgeDestruction({ method, write, request, checked, endpoint, published }: Judged, out: Judgement): { destruction: Destruction; destroys: string[]; metadata: MetadataAdvice | null } {
  const match = checked.match;
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
  for (const field of metadata?.semantics === 'replace' ? metadata.replaces : []) {
    // Judged on the loss when the executor read the resource first; else on the body alone.
    if (!isObject(request.current)) {
      destroys.push(`the previous contents of ${field} (replaced as a whole: keys not in the body are lost)`);
      continue;
    }
    const lost = lostKeys(request.current[field], isObject(request.body) ? request.body[field] : undefined);
    if (lost.length > 0) destroys.push(`${field} keys not in the body: ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? `, … (${lost.length} in all)` : ''} (the object is replaced as a whole)`);
    else out.warnings.push(`${field} is replaced as a whole, and the body keeps every key it has now: nothing is lost`);
  }
  const destructive = destruction.destructive || destroys.length > 0;
  const target = match && Object.keys(match.pathParams).length > 0 ? ` (${Object.entries(match.pathParams).map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
  const plural = (n: number) => (n === 1 ? '' : 's');
  if (destructive && destroys.length === 0 && reversible.length > 0) {
    out.pass('destruction', `REVERSIBLE: ${method} ${endpoint?.path ?? checked.path}${target} takes away ${reversible.length} thing${plural(reversible.length)} until another request gives ${reversible.length === 1 ? 'it' : 'them'} back, listed in reversible`);
  } else if (destructive) {
    out.pass('destruction', `IRREVERSIBLE: ${method} ${endpoint?.path ?? checked.path}${target} permanently destroys ${destroys.length} thing${plural(destroys.length)}, listed in destroys${reversible.length > 0 ? `, and takes away ${reversible.length} more until undone (reversible)` : ''}${destruction.source === 'derived' ? ' (derived from the spec: no curated entry)' : ''}`);
    if (destruction.source === 'derived' && destruction.note) out.warnings.push(destruction.note);
  } else {
    out.pass('destruction', write ? 'destroys nothing permanently' : `${method} changes nothing`);
  }
  return { destruction, destroys, metadata };
}

/** 5. Metadata: which type, whether the keys fit, merge or replace; where it moved when this endpoint no longer takes it. */
function judgeMetadata(metadata: MetadataAdvice | null, { checked, endpoint, context }: Judged, out: Judgement): void {
  if (!metadata) {
    // 2026-05-12 took the metadata fields out of PATCH /users/{user_id}: say where they went.
    const moved = checked.problems.filter((p) => p.keyword === 'additionalProperties' && /^\$\.(public|private|unsafe)_metadata$/.test(p.path)).map((p) => p.path.slice(2));
    const merge = endpoint ? context.endpoints.find((e) => e.method === 'PATCH' && e.path === `${endpoint.path}/metadata`) : undefined;
    if (moved.length > 0 && endpoint && merge) {
      const replace = context.endpoints.some((e) => e.method === 'PUT' && e.path === merge.path);
      out.pass('metadata', `${moved.join(', ')} moved in spec ${context.version}: ${endpoint.method} ${endpoint.path} takes none; PATCH ${merge.path} merges it${replace ? `, PUT ${merge.path} replaces it` : ''}`);
      out.hints.push(`Set it with: bapi-curl PATCH ${checked.path}/metadata -d '{"${moved[0]}":{…}}'   (merged into what is there)`);
      return;
    }
    out.pass('metadata', 'sets no metadata');
    return;
  }
  out.warnings.push(...metadata.warnings.filter((w) => !out.warnings.includes(w)));
  const fit = metadata.warnings.length === 0 ? 'the keys fit' : `${metadata.warnings.length} warning${metadata.warnings.length === 1 ? '' : 's'}`;
  const semantics = metadata.semantics === 'merge' ? 'merged' : metadata.semantics === 'create' ? 'set on creation' : metadata.semantics === 'other' ? 'stored' : 'REPLACED';
  out.pass('metadata', `sets ${metadata.fields.join(', ')} (${semantics}); ${fit}`);
}

/** 6. Confirmation: destructive requests, every write with a live key, an unverified spec (person mode), a scope bypass. */
function judgeConfirmation({ method, write, checked, context, consent, published }: Judged, out: Judgement, found: { destructive: boolean; destroys: number; scopes: Verdict['scopes'] }): Verdict['confirmation'] {
  const person = consent.mode === 'person';
  const key = context.keyInfo;
  const reasons: string[] = [];
  if (write && found.destructive) reasons.push(found.destroys > 0 ? 'it destroys data irreversibly' : 'it revokes access until undone');
  if (write && key.kind === 'live') reasons.push('it writes to a LIVE (production) instance');
  if (write && !published) {
    out.warnings.push(`this request was checked against ${context.specFromFile ? 'a spec given with --spec' : 'an unverified spec'}, not a published version of Clerk's spec${context.specProvenance ? ` (${context.specProvenance})` : ''}`);
    // A crafted spec can make any path look harmless: a person (or, in flag mode under a live key, a confirmation) decides.
    if (key.kind === 'live' || person) reasons.push(`it was checked against ${context.specFromFile ? 'a --spec file' : 'an unverified spec'}, not a published spec`);
  }
  if (write && found.scopes?.personNeeded) reasons.push('its scopes need a bypass');
  const confirmation: Verdict['confirmation'] = { required: reasons.length > 0, reasons, expected: reasons.length > 0 ? expectedAnswer(method, checked.match, checked.path) : null, pending: false, by: null, person: false };
  const why = reasons.join('; ');
  if (reasons.length === 0) {
    out.pass('confirmation', write ? 'not needed' : 'not needed for a read');
  } else if (!person && context.yes) {
    confirmation.by = 'yes-flag';
    out.pass('confirmation', `confirmed by --yes (${why})`);
  } else if (!person && context.interactive && out.onlyConsentMissing()) {
    confirmation.pending = true;
    out.fail('confirmation', EXIT.confirmation, `waiting for confirmation at the terminal (${why})`);
  } else if (!person) {
    out.fail('confirmation', EXIT.confirmation, `needs confirmation because ${reasons.join(' and ')}: run it at a terminal to be asked, or add --yes; nothing was approved`, ['Read what it destroys above before adding --yes.']);
  } else {
    if (context.yes) out.warnings.push('--yes confirms nothing here: a person must approve this request');
    if (context.admin && found.scopes?.personNeeded) out.warnings.push('--admin bypasses nothing here: a person must approve the scope bypass');
    // A terminal counts as a person unless an agent drives the process (an agent can type into a terminal too).
    if (context.interactive && consent.agent === null && out.onlyConsentMissing()) {
      confirmation.pending = true;
      out.fail('confirmation', EXIT.confirmation, `waiting for a person at the terminal (${why})`);
    } else {
      confirmation.person = out.onlyConsentMissing();
      out.fail('confirmation', EXIT.confirmation, `needs a person's approval because ${reasons.join(' and ')}; nothing was approved`);
    }
  }
  return confirmation;
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
  if (verdict.approval?.status === 'pending') return pendingError(message, verdict.approval, options);
  if (verdict.confirmation.declined) return new DeclinedError(message, options);
  return new ConfirmationError(message, options);
}

/** The verdict with its failure's stable code (null when allowed), as --json prints it. */
export function withCode(verdict: Verdict): Verdict {
  return { ...verdict, code: verdictError(verdict)?.code ?? null };
}
