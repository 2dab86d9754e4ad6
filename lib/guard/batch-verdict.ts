// A batch's verdict: every line judged by the single request's `evaluate`, confirmation decided once
// for all, and a summary a person can read (counts per endpoint, what each destroys). Pure.
import { bodyHash, canonicalJson, canonicalPath, canonicalQuery } from './approval-digest.js';
import type { ApprovalRequest } from './approvals.js';
import type { Consent } from './consent.js';
import { destructionFor } from './destruction.js';
import type { SecretKey } from './key.js';
import { evaluate, verdictError, type Verdict } from './policy.js';
import { renderRefusal } from './render.js';
import { apiOrigin, specContext, specDigest, type GuardSpec } from './run-guard.js';
import { crypto } from '../core/builtins.js';
import { ConfirmationError, DeclinedError, EXIT, KeyInvalidError, NotFoundError, PolicyError, RequestInvalidError, ScopeDeniedError, type ToolkitError } from '../core/errors.js';
import { pendingError } from './approvals.js';
import type { Colors } from '../core/io.js';
import { endpointKey } from '../spec/index.js';

/** One request of a batch, normalised once: the guard judges and the executor sends exactly this. */
export interface BatchLine {
  /** Its line number in the input (1-based; blank lines count). */
  line: number;
  method: string;
  /** Concrete path without /v1 or a query, e.g. /users/user_123. */
  path: string;
  query: Array<[string, string]>;
  /** Parsed JSON body; undefined when there is none. */
  body: unknown;
}

export interface BatchProblem {
  /** 0 for the batch as a whole. */
  line: number;
  check: string;
  message: string;
  /** The stable code of the line's own failure (as bapi-guard would give it alone): not_found, request_invalid, … */
  code?: string;
}

/** The digest an approval binds: every line's number, method, path, query and body. */
export function batchDigest(lines: BatchLine[]): string {
  const canonical = canonicalJson(lines.map((l) => [l.line, l.method.toUpperCase(), canonicalPath(l.path), canonicalQuery(l.query), bodyHash(l.body)]));
  return `sha256:${crypto().createHash('sha256').update(canonical).digest('hex')}`;
}

/** What a batch approval is for: the digest of its lines, under the spec, origin and key it was judged for. */
export function batchApprovalRequest(digest: string, count: number, spec: GuardSpec, env: Record<string, string | undefined>, keyFingerprint: string): ApprovalRequest {
  return { method: 'BATCH', path: '/batch', query: [['lines', String(count)]], body: { batch: digest }, version: spec.version, specDigest: specDigest(spec), origin: apiOrigin(env), keyFingerprint };
}

export interface BatchEndpoint {
  method: string;
  path: string;
  operationId: string | null;
  count: number;
  /** What each request of this endpoint permanently destroys (ids as {placeholders}). */
  destroys: string[];
  reversible: string[];
}

export interface BatchVerdict {
  allowed: boolean;
  /** `lines`: the requests read; `unreadable`: lines that are not requests (each one a problem). */
  batch: { source: string; lines: number; unreadable: number; digest: string; version: string; writes: number; destructive: number };
  endpoints: BatchEndpoint[];
  /** What the batch destroys in total, one sentence per endpoint. */
  destroys: string[];
  problems: BatchProblem[];
  warnings: Array<{ message: string; lines: number[] }>;
  confirmation: { required: boolean; reasons: string[]; expected: string | null; by: 'yes-flag' | 'prompt' | 'approve-command' | 'broker-terminal' | null; person: boolean; declined: boolean };
  consent: { mode: 'flag' | 'person'; reasons: string[]; agent: string | null };
  key: { masked: string | null; kind: string | null; fingerprint: string | null };
  scopeBypass: 'admin-flag' | 'terminal' | 'approve-command' | 'broker-terminal' | null;
  approval: { id: string; expiresAt: string; status: 'granted' | 'pending'; approveCommand?: string; decideWhere?: string } | null;
  exitCode: number;
  /** The failure's stable code (README, Error codes), null when allowed: as a single request's verdict has. */
  code?: string | null;
  reason: string | null;
  hints: string[];
}

/**
 * The failure a refused batch stands for, chosen so that its exit code is the batch's: 2 a line that
 * does not hold (request_invalid, or not_found when the first such line names no endpoint), 3 the
 * key (key_invalid) or what the scopes forbid (scope_denied, else policy_refused), 4 a pending
 * approval (approval_pending, with its id), a person's no (declined), or consent still to give
 * (confirmation_needed). Null when allowed.
 */
export function batchVerdictError(verdict: BatchVerdict): ToolkitError | null {
  if (verdict.allowed) return null;
  const message = verdict.reason ?? 'the batch is refused';
  const options = { hints: verdict.hints };
  if (verdict.exitCode === EXIT.usage) return verdict.problems.find((p) => p.code !== undefined)?.code === 'not_found' ? new NotFoundError(message, options) : new RequestInvalidError(message, options);
  if (verdict.exitCode === EXIT.policy) {
    if (verdict.problems.some((p) => p.check === 'key')) return new KeyInvalidError(message, options);
    return verdict.problems.some((p) => p.check === 'scopes') ? new ScopeDeniedError(message, options) : new PolicyError(message, options);
  }
  if (verdict.approval?.status === 'pending') return pendingError(message, verdict.approval, options);
  if (verdict.confirmation.declined) return new DeclinedError(message, options);
  return new ConfirmationError(message, options);
}

/** The batch verdict with its failure's stable code, as --json prints it. */
export function withBatchCode(verdict: BatchVerdict): BatchVerdict {
  return { ...verdict, code: batchVerdictError(verdict)?.code ?? null };
}

/** The concrete path's values at the template's {placeholders}: /users/user_1 under /users/{user_id}. */
function pathParams(template: string, path: string): Record<string, string> {
  const names = template.split('/');
  const values = path.split('/');
  const params: Record<string, string> = {};
  names.forEach((segment, i) => {
    const name = /^\{([^}]+)\}$/.exec(segment)?.[1];
    if (name !== undefined && values[i] !== undefined) params[name] = values[i] as string;
  });
  return params;
}

/** Back from concrete ids to the template's placeholders, so equal losses of many lines read as one. */
function templated(text: string, params: Record<string, string>): string {
  let out = text;
  for (const [name, value] of Object.entries(params)) if (value !== '') out = out.split(value).join(`{${name}}`);
  return out;
}

/** Counts a line under its endpoint, with what each request of that endpoint destroys (ids as placeholders, so equal losses read as one). */
function countLine(groups: Map<string, BatchEndpoint>, verdict: Verdict, endpoint: NonNullable<Verdict['endpoint']>, spec: GuardSpec): void {
  const key = endpointKey(endpoint.method, endpoint.path);
  let group = groups.get(key);
  if (!group) {
    const raw = spec.detail.endpoints[key];
    const summary = spec.endpoints.find((e) => e.method === endpoint.method && e.path === endpoint.path);
    const template = verdict.write ? destructionFor({ method: endpoint.method, path: endpoint.path, summary: summary?.summary, description: raw?.description ?? '' }) : { destroys: [], reversible: [] };
    group = { method: endpoint.method, path: endpoint.path, operationId: endpoint.operationId, count: 0, destroys: [...template.destroys], reversible: [...template.reversible] };
    groups.set(key, group);
  }
  group.count++;
  const params = pathParams(endpoint.path, verdict.request.path);
  for (const item of verdict.destroys.map((d) => templated(d, params))) if (!group.destroys.includes(item)) group.destroys.push(item);
}

/**
 * The guard's decision for a batch: each line evaluated as a single request would be (key, spec,
 * scopes, destruction, metadata), confirmation decided once for all. Pure, like `evaluate`.
 */
export function evaluateBatch(
  lines: BatchLine[],
  parseProblems: BatchProblem[],
  spec: GuardSpec,
  context: { env: Record<string, string | undefined>; key: SecretKey; admin: boolean; yes: boolean; consent: Consent; source: string },
): BatchVerdict {
  const problems: BatchProblem[] = [...parseProblems];
  const warnings = new Map<string, number[]>();
  const groups = new Map<string, BatchEndpoint>();
  const reasons = new Set<string>();
  let writes = 0;
  let destructive = 0;
  let personNeeded = false;
  let scopeBypass: BatchVerdict['scopeBypass'] = null;
  let worst: number = parseProblems.length > 0 ? EXIT.usage : EXIT.ok;
  const keyInfo = context.key.info;
  if (!keyInfo.wellFormed) {
    // The key is checked first, as for one request: without it nothing else matters.
    problems.unshift({ line: 0, check: 'key', message: keyInfo.problem ?? 'no usable CLERK_SECRET_KEY' });
    worst = EXIT.policy;
  }
  for (const line of lines) {
    const verdict: Verdict = evaluate(
      { method: line.method, path: line.path, query: line.query, body: line.body },
      { ...specContext(spec), env: context.env, keyInfo, admin: context.admin, yes: context.yes, interactive: false, consent: context.consent },
    );
    // A line with problems is fixed before anything else: its warnings would only be noise.
    if (verdict.problems.length === 0) for (const warning of verdict.warnings) warnings.set(warning, [...(warnings.get(warning) ?? []), line.line]);
    if (verdict.write) writes++;
    if (verdict.destructive) destructive++;
    if (verdict.scopes?.bypassBy === 'admin-flag') scopeBypass = 'admin-flag';
    for (const check of verdict.checks) {
      if (check.ok || check.id === 'key' || check.id === 'confirmation') continue;
      if (check.id === 'scopes' && verdict.scopes?.personNeeded) continue;
      problems.push({ line: line.line, check: check.id, message: check.message, code: verdictError(verdict)?.code ?? 'request_invalid' });
    }
    if (keyInfo.wellFormed && verdict.exitCode === EXIT.usage) worst = EXIT.usage;
    else if (keyInfo.wellFormed && verdict.exitCode === EXIT.policy && worst === EXIT.ok) worst = EXIT.policy;
    if (verdict.confirmation.required) {
      for (const reason of verdict.confirmation.reasons) reasons.add(reason);
      if (verdict.scopes?.personNeeded) personNeeded = true;
    }
    if (verdict.endpoint) countLine(groups, verdict, verdict.endpoint, spec);
  }
  problems.sort((a, b) => a.line - b.line);
  const endpoints = [...groups.values()];
  const destroys = endpoints
    .filter((e) => e.destroys.length > 0)
    .map((e) => `${e.count} × ${e.method} ${e.path}${e.count === 1 ? '' : ', each'}: ${e.destroys.join('; ')}`);
  const consentNeeded = reasons.size > 0;
  const person = context.consent.mode === 'person';
  const expected = consentNeeded ? (destructive > 0 ? String(destructive) : 'yes') : null;
  let exitCode = worst;
  let reason: string | null = null;
  const hints: string[] = [];
  if (problems.length > 0) {
    const first = problems[0] as BatchProblem;
    reason = `${problems.length} problem${problems.length === 1 ? '' : 's'} in the batch (${first.line > 0 ? `line ${first.line}` : 'the batch'}: ${first.message}); the whole batch is refused`;
    if (exitCode === EXIT.ok) exitCode = EXIT.usage;
    if (problems.some((p) => p.check === 'key')) hints.push('Set CLERK_SECRET_KEY (sk_test_… or sk_live_…), or put it in .env.local.');
    if (problems.some((p) => p.check === 'scopes')) hints.push('Set CLERK_BAPI_SCOPES to allow these writes, or rerun with --admin.');
  } else if (consentNeeded && !(context.yes && !person)) {
    exitCode = EXIT.confirmation;
    reason = `the batch needs ${person ? "a person's approval" : 'confirmation'} because ${[...reasons].join(' and ')}; nothing was approved`;
    if (!person) hints.push('Review the summary above, then confirm at a terminal or add --yes.');
  }
  return {
    allowed: exitCode === EXIT.ok,
    batch: { source: context.source, lines: lines.length, unreadable: parseProblems.filter((p) => p.line > 0).length, digest: batchDigest(lines), version: spec.version, writes, destructive },
    endpoints,
    destroys,
    problems,
    warnings: [...warnings].map(([message, at]) => ({ message, lines: at })),
    confirmation: {
      required: consentNeeded,
      reasons: [...reasons],
      expected,
      by: consentNeeded && exitCode === EXIT.ok ? 'yes-flag' : null,
      person: person && problems.length === 0 && consentNeeded,
      declined: false,
    },
    consent: { mode: context.consent.mode, reasons: context.consent.reasons, agent: context.consent.agent },
    key: { masked: keyInfo.masked, kind: keyInfo.kind, fingerprint: keyInfo.fingerprint },
    scopeBypass: personNeeded ? null : scopeBypass,
    approval: null,
    exitCode,
    reason,
    hints,
  };
}

/** Line numbers as a person reads them: 3, 4, 7 … (and 12 more). */
function lineList(lines: number[]): string {
  const shown = lines.slice(0, 8).join(', ');
  return lines.length > 8 ? `${shown} … (${lines.length} lines)` : shown;
}

/** The batch verdict as a person reads it, for stderr. */
export function renderBatchVerdict(verdict: BatchVerdict, c: Colors, label = 'bapi-guard'): string {
  const out: string[] = [];
  const b = verdict.batch;
  const total = b.lines + b.unreadable;
  out.push(`${c.bold(label)} batch of ${total} request${total === 1 ? '' : 's'}${b.unreadable > 0 ? ` (${b.unreadable} unreadable)` : ''} from ${b.source}  (spec ${b.version}${verdict.key.masked ? `, key ${verdict.key.masked}${verdict.key.kind === 'live' ? ' LIVE instance' : ''}` : ''})`);
  for (const e of verdict.endpoints) out.push(`  ${String(e.count).padStart(6)} × ${e.method} ${e.path}${e.operationId ? ` (${e.operationId})` : ''}`);
  const destroying = verdict.endpoints.filter((e) => e.destroys.length > 0);
  if (destroying.length > 0) {
    out.push('', `${c.bold(c.red('IRREVERSIBLE'))}: this batch permanently destroys:`);
    for (const e of destroying) {
      out.push(`  ${c.bold(`${e.count} × ${e.method} ${e.path}`)}${e.count === 1 ? '' : ', each'}:`);
      for (const item of e.destroys) out.push(`    - ${item}`);
    }
  }
  const reversible = verdict.endpoints.filter((e) => e.reversible.length > 0);
  if (reversible.length > 0) {
    out.push('', `${c.bold('REVERSIBLE')}: it takes away, until other requests give it back:`);
    for (const e of reversible) out.push(`  - ${e.count} × ${e.method} ${e.path}: ${e.reversible.join('; ')}`);
  }
  if (verdict.problems.length > 0) {
    out.push('', `${c.red('Problems')} (the whole batch is refused; nothing is sent or approved):`);
    for (const p of verdict.problems.slice(0, 50)) out.push(`  ${p.line > 0 ? `line ${p.line}` : 'batch'}: ${c.cyan(p.check)}: ${p.message}`);
    if (verdict.problems.length > 50) out.push(`  … and ${verdict.problems.length - 50} more (see --json)`);
  }
  if (verdict.warnings.length > 0) {
    out.push('');
    for (const w of verdict.warnings.slice(0, 20)) out.push(`${c.yellow('warning:')} ${w.message} (line ${lineList(w.lines)})`);
    if (verdict.warnings.length > 20) out.push(`${c.yellow('warning:')} … and ${verdict.warnings.length - 20} more (see --json)`);
  }
  return `${out.join('\n')}\n`;
}

/** The batch's outcome line; `waiting` as for one request (guard/render.renderOutcome). */
export function renderBatchOutcome(verdict: BatchVerdict, c: Colors, waiting = false): string {
  if (verdict.allowed) return `${c.green('Allowed.')}\n`;
  return renderRefusal(verdict, c, waiting);
}

