// The guard with its I/O: the spec a request is judged against (and where it came from), the key,
// a prompt at a terminal, a pending approval for a person, and the approval for an allowed write.
import { EXIT } from '../core/errors.js';
import { colorsFor, terminalWidth, type IO } from '../core/io.js';
import { defaultStateDir } from '../core/state-dir.js';
import { resolveBaseUrl } from '../request/url.js';
import { visibleEndpoints, type EndpointSummary, type SpecDetail } from '../spec/index.js';
import { provenanceOf } from '../spec/published.js';
import type { SelectedSpec } from '../spec/select.js';
import { approvalStore } from './approval-files.js';
import { approvalTtl, pendingTtl, type Approval, type ApprovalRequest, type ApprovalStore, type ConfirmedBy, type CreateApprovalOptions } from './approvals.js';
import { canPrompt, isConfirmed, terminalPrompter, type Prompter } from './confirm.js';
import { consentFor, type Consent } from './consent.js';
import { findSecretKey, redactSecret, type SecretKey } from './key.js';
import { applyConfirmation, evaluate, withCode, type GuardContext, type GuardRequest, type Verdict } from './policy.js';
import { renderOutcome, renderVerdict } from './render.js';
import { whoIs } from './who.js';

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
  /** Reads, with the key the guard found, the resource a DELETE removes, so the prompt can say who it is (undefined when it cannot be read). */
  describeTarget?: (keyValue: string) => Promise<unknown>;
  /** Where approvals live; default: the state directory's files (a key-custody broker passes its memory). */
  store?: ApprovalStore;
  /** --wait-approval: the caller waits for the person's decision, so the report says so instead of "run the same command again". */
  waiting?: boolean;
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
  const store = options.store ?? approvalStore(stateDir);
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
    const step = personStep(store, binding(), io.env, now, options.issuePending ?? true, () => ({
      endpoint: verdict.endpoint ? `${verdict.endpoint.method} ${verdict.endpoint.path}` : null,
      destructive: verdict.destructive,
      scopeBypass: verdict.scopes?.personNeeded ? (store.person?.by ?? 'approve-command') : null,
      destroys: verdict.destroys,
      report: renderVerdict(shown(verdict), colorsFor({ isTTY: false, write: () => true }, {}), { outcome: false, label: 'bapi-guard' }),
      expected: verdict.confirmation.expected ?? 'yes',
    }));
    if (step?.kind === 'granted') verdict = grantedByPerson(verdict, step.approval);
    // Waiting: the line that says where the person decides comes from the wait itself.
    if (step?.kind === 'pending') verdict = { ...verdict, approval: step.listed, hints: options.waiting ? [] : step.hints('it is sent') };
    approval = step?.approval ?? null;
  }
  if (verdict.confirmation.pending && prompter) {
    if (explain) io.stderr.write(renderVerdict(shown(verdict), colors, { outcome: false, label: options.label, width: terminalWidth(io.stderr, io.env) }));
    const who = verdict.request.method === 'DELETE' && options.describeTarget && key.value !== null ? whoIs(await options.describeTarget(key.value)) : null;
    if (who !== null) io.stderr.write(`\nThis deletes ${colors.bold(who)} (${verdict.request.path}).\n`);
    const expected = verdict.confirmation.expected ?? 'yes';
    const question = expected === 'yes' ? `Proceed? Type yes to confirm: ` : `Type ${colors.bold(expected)} to confirm: `;
    verdict = applyConfirmation(verdict, await askAgainAfterATypo(prompter, question, expected, io));
    if (explain) io.stderr.write(renderOutcome(shown(verdict), colors));
  } else if (explain) {
    io.stderr.write(renderVerdict(shown(verdict), colors, { outcome: true, label: options.label, width: terminalWidth(io.stderr, io.env), waiting: options.waiting }));
  }
  if (verdict.allowed && verdict.write && approval === null && (options.issueApproval ?? true) && key.info.fingerprint) {
    const ttlSeconds = options.ttlSeconds ?? approvalTtl(undefined, io.env);
    approval = store.create(binding(), {
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

/**
 * The answer at the prompt, asked again (twice at most) after a typo: a wrong id is a slip of the
 * finger, not a no. An empty answer, `n`, `no` or the end of input declines at once.
 */
async function askAgainAfterATypo(prompter: Prompter, question: string, expected: string, io: IO): Promise<string | null> {
  try {
    let answer = await prompter(question);
    for (let tries = 1; tries < 3 && answer !== null && !isConfirmed(answer, expected) && !/^\s*(n|no)?\s*$/i.test(answer); tries++) {
      io.stderr.write(`That is not ${expected}; type it again, or press Enter to decline.\n`);
      answer = await prompter(question);
    }
    return answer;
  } finally {
    await prompter.close?.();
  }
}

/**
 * The person's part of consent, for one request and for a batch alike: the approval a person already
 * granted for exactly this (`granted`), or the pending one they are asked in (the open one, or a new
 * one when `issuePending`); null when there is none to ask in.
 */
export function personStep(
  store: ApprovalStore,
  binding: ApprovalRequest,
  env: Record<string, string | undefined>,
  now: Date,
  issuePending: boolean,
  details: () => Pick<CreateApprovalOptions, 'endpoint' | 'destructive' | 'scopeBypass' | 'destroys' | 'report' | 'expected'>,
): { kind: 'granted'; approval: Approval } | ({ kind: 'pending' } & ReturnType<typeof askPerson>) | null {
  // A person already approved this exact request, or was already asked: no second approval.
  const open = store.findOpen(binding, now);
  if (open?.status === 'granted') return { kind: 'granted', approval: open };
  if (!issuePending) return null;
  return { kind: 'pending', ...askPerson(store, binding, open, env, now, details()) };
}

/**
 * A pending approval for a person to grant (the one already open for this exact request, or a new
 * one), with what to tell the agent: where the person approves (with `bapi-guard approve` in their
 * own terminal, or in the store's own place: a broker's terminal), and that the same command then
 * goes through.
 */
export function askPerson(
  store: ApprovalStore,
  binding: ApprovalRequest,
  open: Approval | null,
  env: Record<string, string | undefined>,
  now: Date,
  details: Pick<CreateApprovalOptions, 'endpoint' | 'destructive' | 'scopeBypass' | 'destroys' | 'report' | 'expected'>,
): { approval: Approval; listed: NonNullable<Verdict['approval']>; hints: (sent: string) => string[] } {
  const approval = open ?? store.create(binding, { ...details, status: 'pending', ttlSeconds: pendingTtl(env), now, consentMode: 'person' });
  if (store.person) {
    const { where } = store.person;
    return {
      approval,
      listed: { id: approval.id, status: 'pending', expiresAt: approval.expiresAt, decideWhere: where },
      hints: (sent) => [`The person answers ${approval.id} in ${where}: there is nothing for you to run.`, `Then run the same command again: ${sent} once the person has approved.`],
    };
  }
  const approveCommand = `bapi-guard approve ${approval.id}`;
  return {
    approval,
    listed: { id: approval.id, status: 'pending', expiresAt: approval.expiresAt, approveCommand },
    hints: (sent) => [`To approve, run in your own terminal: ${approveCommand}`, `Then run the same command again: ${sent} once the person has approved.`],
  };
}

/** How the verdict's confirmation (one request's or a batch's) was given, in the audit's words. */
export function confirmedByOf(verdict: { confirmation: { by: Verdict['confirmation']['by'] } }): ConfirmedBy {
  if (verdict.confirmation.by === 'yes-flag') return 'yes-flag';
  if (verdict.confirmation.by === 'prompt') return 'terminal';
  if (verdict.confirmation.by === 'approve-command') return 'approve-command';
  if (verdict.confirmation.by === 'broker-terminal') return 'broker-terminal';
  return 'not-needed';
}

/** The verdict once a person's `bapi-guard approve` granted this exact request. */
function grantedByPerson(verdict: Verdict, approval: Approval): Verdict {
  const by = approval.confirmedBy === 'broker-terminal' ? 'broker-terminal' : 'approve-command';
  const how = by === 'broker-terminal' ? "at the key-custody broker's terminal" : 'with bapi-guard approve';
  const checks = verdict.checks.map((check) => {
    if (check.id === 'scopes' && !check.ok) return { ...check, ok: true, message: `bypass approved by a person (${approval.id})` };
    if (check.id === 'confirmation') return { ...check, ok: true, message: `approved by a person ${how} (${approval.id})` };
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
    scopes: verdict.scopes && verdict.scopes.personNeeded ? { ...verdict.scopes, bypassed: true, bypassBy: by } : verdict.scopes,
    confirmation: { ...verdict.confirmation, person: false, by },
    approval: { id: approval.id, status: 'granted', expiresAt: approval.expiresAt },
  };
}
