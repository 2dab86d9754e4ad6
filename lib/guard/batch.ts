// Batches: many requests judged and approved as one. A batch is NDJSON, one request per line
// ({method, path, query?, body?}, or a METHOD<TAB>PATH line as extract-tag-endpoints prints it).
// Every line passes every check of the single-request guard; a line that fails refuses the whole
// batch. Consent is asked once, under the same consent rules, and one approval is bound to a digest
// of the exact lines (their method, path, query and body), so a changed file is another batch.
import { bodyHash, canonicalJson, canonicalPath, canonicalQuery } from './approval-digest.js';
import { approvalStore } from './approval-files.js';
import { approvalTtl, pendingTtl, type Approval, type ApprovalRequest } from './approvals.js';
import { canPrompt, isConfirmed, terminalPrompter, type Prompter } from './confirm.js';
import { consentFor, type Consent } from './consent.js';
import { destructionFor } from './destruction.js';
import { findSecretKey, redactSecret, type SecretKey } from './key.js';
import { evaluate, type Verdict } from './policy.js';
import { apiOrigin, confirmedByOf, specContext, specDigest, type GuardSpec } from './run-guard.js';
import { isWriteMethod } from './scopes.js';
import { crypto } from '../core/builtins.js';
import { EXIT, ToolkitError, UsageError } from '../core/errors.js';
import { colorsFor, MAX_STDIN_BYTES, readStdin, type Colors, type IO } from '../core/io.js';
import { defaultStateDir } from '../core/state-dir.js';
import { parseRequestTarget } from '../endpoint/match.js';
import { callFromJson } from '../request/args.js';
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
}

/** At most this many lines in one batch: a batch is one consent, and a person must be able to read its summary. */
export const MAX_BATCH_LINES = 100_000;
const LINE_KEYS = new Set(['method', 'path', 'query', 'body']);

/** The batch's text from FILE (a regular file of at most 64 MB) or from stdin (`-`), and how to name it. */
export async function readBatchInput(file: string, io: IO): Promise<{ text: string; source: string }> {
  if (file === '-') {
    const text = await readStdin(io);
    if (text === null) throw new UsageError('--batch -: stdin is empty', { hints: ['Give one request per line, e.g. {"method":"DELETE","path":"/users/user_123"}.'] });
    return { text, source: 'stdin' };
  }
  const { resolve } = await import('node:path');
  const { readFileSync, statSync } = await import('node:fs');
  const path = resolve(io.cwd, file);
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UsageError(`--batch ${file}: not a regular file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--batch ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (size > MAX_STDIN_BYTES) throw new UsageError(`--batch ${file}: larger than ${MAX_STDIN_BYTES / 1024 / 1024} MB; split it`);
  return { text: readFileSync(path, 'utf8'), source: file };
}

/** The lines of a batch, and a problem for each line that is not a request. */
export function parseBatch(text: string): { lines: BatchLine[]; problems: BatchProblem[] } {
  const lines: BatchLine[] = [];
  const problems: BatchProblem[] = [];
  const rows = text.split('\n');
  for (let index = 0; index < rows.length; index++) {
    const row = (rows[index] as string).replace(/\r$/, '').trim();
    if (row === '') continue;
    const line = index + 1;
    try {
      if (row.startsWith('{')) {
        let object: unknown;
        try {
          object = JSON.parse(row);
        } catch (error) {
          throw new ToolkitError(`not JSON: ${(error as Error).message}`);
        }
        const unknown = Object.keys(object as object).filter((key) => !LINE_KEYS.has(key));
        if (unknown.length > 0) throw new ToolkitError(`unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: a line is {method, path, query?, body?}`);
      } else if (!/^[A-Za-z]+\s+\S/.test(row)) {
        throw new ToolkitError('not a request: expected a JSON object {method, path, query?, body?} or METHOD<TAB>PATH');
      }
      const call = callFromJson(row);
      const target = parseRequestTarget(call.path);
      if (target.origin !== undefined) throw new ToolkitError(`give a path such as /users/user_123, not a URL (${target.origin})`);
      lines.push({ line, method: call.method, path: target.path, query: [...target.query, ...call.query], body: call.body });
    } catch (error) {
      problems.push({ line, check: 'request', message: error instanceof Error ? error.message : String(error) });
    }
    if (lines.length + problems.length > MAX_BATCH_LINES) {
      problems.push({ line, check: 'request', message: `a batch has at most ${MAX_BATCH_LINES} lines: split it` });
      break;
    }
  }
  if (lines.length === 0 && problems.length === 0) problems.push({ line: 0, check: 'request', message: 'the batch has no requests' });
  return { lines, problems };
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
  confirmation: { required: boolean; reasons: string[]; expected: string | null; by: 'yes-flag' | 'prompt' | 'approve-command' | null; person: boolean };
  consent: { mode: 'flag' | 'person'; reasons: string[]; agent: string | null };
  key: { masked: string | null; kind: string | null; fingerprint: string | null };
  scopeBypass: 'admin-flag' | 'terminal' | 'approve-command' | null;
  approval: { id: string; expiresAt: string; status: 'granted' | 'pending'; approveCommand?: string } | null;
  exitCode: number;
  reason: string | null;
  hints: string[];
}

export interface BatchGuardOptions {
  admin?: boolean;
  yes?: boolean;
  /** Issue the batch approval when allowed (the executor running the guard inline passes false). */
  issueApproval?: boolean;
  /** Record a pending approval when only a person can allow it (default true). */
  issuePending?: boolean;
  ttlSeconds?: number;
  stateDir?: string;
  prompter?: Prompter | null;
  explain?: boolean;
  key?: SecretKey;
  consent?: Consent;
  label?: string;
  /** Where the lines came from, for the report (a file name, or "stdin"). */
  source?: string;
  now?: Date;
}

export interface BatchGuardOutcome {
  verdict: BatchVerdict;
  key: SecretKey;
  approval: Approval | null;
  exitCode: number;
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
      problems.push({ line: line.line, check: check.id, message: check.message });
    }
    if (keyInfo.wellFormed && verdict.exitCode === EXIT.usage) worst = EXIT.usage;
    else if (keyInfo.wellFormed && verdict.exitCode === EXIT.policy && worst === EXIT.ok) worst = EXIT.policy;
    if (verdict.confirmation.required) {
      for (const reason of verdict.confirmation.reasons) reasons.add(reason);
      if (verdict.scopes?.personNeeded) personNeeded = true;
    }
    if (verdict.endpoint) {
      const key = endpointKey(verdict.endpoint.method, verdict.endpoint.path);
      let group = groups.get(key);
      if (!group) {
        const raw = spec.detail.endpoints[key];
        const summary = spec.endpoints.find((e) => e.method === verdict.endpoint!.method && e.path === verdict.endpoint!.path);
        const template = verdict.write ? destructionFor({ method: verdict.endpoint.method, path: verdict.endpoint.path, summary: summary?.summary, description: raw?.description ?? '' }) : { destroys: [], reversible: [] };
        group = { method: verdict.endpoint.method, path: verdict.endpoint.path, operationId: verdict.endpoint.operationId, count: 0, destroys: [...template.destroys], reversible: [...template.reversible] };
        groups.set(key, group);
      }
      group.count++;
      const params = pathParams(verdict.endpoint.path, verdict.request.path);
      for (const item of verdict.destroys.map((d) => templated(d, params))) if (!group.destroys.includes(item)) group.destroys.push(item);
    }
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

function renderBatchOutcome(verdict: BatchVerdict, c: Colors): string {
  if (verdict.allowed) return `${c.green('Allowed.')}\n`;
  return [`${c.red('Refused')} (exit ${verdict.exitCode}): ${verdict.reason ?? ''}`, ...verdict.hints.map((h) => `  ${h}`)].join('\n') + '\n';
}

/**
 * Runs the batch guard with its I/O, as runGuard does for one request: evaluates every line, asks
 * once at a terminal (or takes --yes in flag mode), records a pending approval where only a person
 * may consent, and issues one approval for the exact lines.
 */
export async function runBatchGuard(lines: BatchLine[], parseProblems: BatchProblem[], spec: GuardSpec, io: IO, options: BatchGuardOptions = {}): Promise<BatchGuardOutcome> {
  const key = options.key ?? findSecretKey(io.env, io.cwd);
  const stateDir = options.stateDir ?? defaultStateDir(io.env, io.cwd);
  const consent = options.consent ?? consentFor(io.env, stateDir);
  const prompter = options.prompter === undefined ? (canPrompt(io) ? terminalPrompter(io) : null) : options.prompter;
  const explain = options.explain ?? true;
  const now = options.now ?? new Date();
  const colors = colorsFor(io.stderr, io.env);
  const label = options.label ?? 'bapi-guard';
  let verdict = evaluateBatch(lines, parseProblems, spec, { env: io.env, key, admin: options.admin ?? false, yes: options.yes ?? false, consent, source: options.source ?? 'stdin' });
  const shown = (v: BatchVerdict): BatchVerdict => redactSecret(v, key.value, key.info.masked ?? '[REDACTED]');
  const fingerprint = key.info.fingerprint;
  const binding = () => batchApprovalRequest(verdict.batch.digest, lines.length, spec, io.env, fingerprint as string);
  const endpointLabel = () => `batch of ${lines.length}: ${verdict.endpoints.map((e) => `${e.count}× ${e.method} ${e.path}`).slice(0, 4).join(', ')}${verdict.endpoints.length > 4 ? ', …' : ''}`;
  let approval: Approval | null = null;
  const consentOnly = verdict.exitCode === EXIT.confirmation;
  const person = consent.mode === 'person';
  const terminalPerson = prompter !== null && (!person || consent.agent === null);

  if (consentOnly && person && fingerprint && !terminalPerson) {
    const open = approvalStore(stateDir).findOpen(binding(), now);
    if (open?.status === 'granted') {
      approval = open;
      verdict = { ...verdict, allowed: true, exitCode: EXIT.ok, reason: null, hints: [], confirmation: { ...verdict.confirmation, by: 'approve-command', person: false }, approval: { id: open.id, status: 'granted', expiresAt: open.expiresAt } };
    } else if (options.issuePending ?? true) {
      approval = open ?? approvalStore(stateDir).create(binding(), {
        status: 'pending',
        ttlSeconds: pendingTtl(io.env),
        now,
        endpoint: endpointLabel(),
        destructive: verdict.batch.destructive > 0,
        scopeBypass: null,
        consentMode: 'person',
        destroys: verdict.destroys,
        report: renderBatchVerdict(shown(verdict), colorsFor({ isTTY: false, write: () => true }, {}), 'bapi-guard'),
        expected: verdict.confirmation.expected ?? 'yes',
      });
      const approveCommand = `bapi-guard approve ${approval.id}`;
      verdict = { ...verdict, approval: { id: approval.id, status: 'pending', expiresAt: approval.expiresAt, approveCommand }, hints: [`To approve, run in your own terminal: ${approveCommand}`, 'Then run the same command again: the batch is sent once the person has approved.'] };
    }
  }
  if (explain) io.stderr.write(renderBatchVerdict(shown(verdict), colors, label));
  if (consentOnly && terminalPerson && verdict.exitCode === EXIT.confirmation && !verdict.allowed) {
    const expected = verdict.confirmation.expected ?? 'yes';
    const question = expected === 'yes' ? `Send all ${lines.length} requests? Type yes to confirm: ` : `Type ${colors.bold(expected)} (the number of destructive requests) to confirm the batch: `;
    const answer = await (prompter as Prompter)(question);
    if (isConfirmed(answer, expected)) {
      verdict = { ...verdict, allowed: true, exitCode: EXIT.ok, reason: null, hints: [], confirmation: { ...verdict.confirmation, by: 'prompt', person: false }, scopeBypass: verdict.scopeBypass };
    } else {
      verdict = { ...verdict, reason: answer === null ? 'no answer at the prompt: declined; nothing was approved' : 'declined at the prompt; nothing was approved', hints: [] };
    }
  }
  if (explain) io.stderr.write(renderBatchOutcome(shown(verdict), colors));
  if (verdict.allowed && approval === null && (options.issueApproval ?? true) && fingerprint && verdict.batch.writes > 0) {
    approval = approvalStore(stateDir).create(binding(), {
      ttlSeconds: options.ttlSeconds ?? approvalTtl(undefined, io.env),
      now,
      endpoint: endpointLabel(),
      destructive: verdict.batch.destructive > 0,
      confirmedBy: confirmedByOf(verdict),
      scopeBypass: verdict.scopeBypass,
      consentMode: consent.mode,
      destroys: verdict.destroys,
    });
    verdict = { ...verdict, approval: { id: approval.id, status: 'granted', expiresAt: approval.expiresAt } };
    if (explain) io.stderr.write(`Approval ${approval.id} for these exact ${lines.length} lines (${verdict.batch.digest.slice(0, 19)}…), valid until ${approval.expiresAt}; bapi-curl --batch runs it once.\n`);
  }
  return { verdict: shown(verdict), key, approval, exitCode: verdict.exitCode };
}

export interface BatchAuthorization {
  allowed: boolean;
  exitCode: number;
  key: SecretKey;
  /** The batch approval consumed; null when the guard ran inline (or the batch writes nothing). */
  approval: Approval | null;
  verdict: BatchVerdict | null;
}

/**
 * What the executor calls before running a batch: the approval for exactly these lines (consumed
 * here, once), or else the batch guard inline with the same checks and prompts. A batch of reads
 * needs only the key and valid lines.
 */
export async function authorizeBatch(lines: BatchLine[], spec: GuardSpec, io: IO, options: BatchGuardOptions & { now?: Date } = {}): Promise<BatchAuthorization> {
  const key = options.key ?? findSecretKey(io.env, io.cwd);
  const stateDir = options.stateDir ?? defaultStateDir(io.env, io.cwd);
  const writes = lines.some((l) => isWriteMethod(l.method));
  if (writes && key.info.fingerprint) {
    const binding = batchApprovalRequest(batchDigest(lines), lines.length, spec, io.env, key.info.fingerprint);
    const consumed = approvalStore(stateDir).claim(binding, options.now ? { now: options.now } : {});
    // The approval binds the lines and the spec's digest: what was judged is what is sent.
    if (consumed.ok) return { allowed: true, exitCode: EXIT.ok, key, approval: consumed.approval, verdict: null };
    if (consumed.reason === 'none' && options.explain !== false) {
      const other = approvalStore(stateDir).list().filter((a) => a.method === 'BATCH' && (a.status === 'granted' || a.status === 'pending'));
      if (other.length > 0) io.stderr.write(`${options.label ?? 'bapi-curl'}: ${other.length === 1 ? `approval ${other[0]!.id} is` : `${other.length} approvals are`} for another batch: these lines are not the ones approved (the file changed since?); running the guard now.\n`);
    } else if (consumed.reason !== 'none' && consumed.reason !== 'pending' && options.explain !== false) {
      io.stderr.write(`${consumed.message}; running the guard now.\n`);
    }
  }
  const outcome = await runBatchGuard(lines, [], spec, io, { ...options, key, stateDir, issueApproval: false });
  if (outcome.approval?.status === 'granted' && outcome.verdict.allowed) {
    // A person's grant found by the guard is consumed like any approval.
    const consumed = approvalStore(stateDir).claim(batchApprovalRequest(outcome.verdict.batch.digest, lines.length, spec, io.env, key.info.fingerprint as string), { id: outcome.approval.id });
    if (!consumed.ok) throw new ToolkitError(consumed.message);
    return { allowed: true, exitCode: EXIT.ok, key, approval: consumed.approval, verdict: outcome.verdict };
  }
  return { allowed: outcome.verdict.allowed, exitCode: outcome.exitCode, key, approval: null, verdict: outcome.verdict };
}
