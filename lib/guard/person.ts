// What a person does with the approvals an agent asked for: `bapi-guard approve ID` (at their own
// terminal: the report again, then the resource id or "yes", read from /dev/tty and never from
// stdin), `deny ID`, `approvals` (the list), and `policy` (person mode for this state directory).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { approvalStore } from './approval-files.js';
import { ID_PATTERN, listingOf, type ApprovalListing } from './approvals.js';
import { escapeForTerminal, type IO } from '../core/io.js';
import { isConfirmed } from './confirm.js';
import { agentMarker, consentFor, POLICY_FILE, type ConsentMode } from './consent.js';
import { ApprovalInvalidError, ConfirmationError, DeclinedError, EXIT, KeyInvalidError, UsageError } from '../core/errors.js';
import { findSecretKey } from './key.js';
import { writePrivateFile } from '../core/state-dir.js';

/** The controlling terminal, opened directly: what a person types there, never what a pipe feeds in. */
export interface Terminal {
  write(text: string): void;
  /** One line, without its newline; null at end of input. */
  readLine(): string | null;
  close(): void;
}

export function openControllingTerminal(): Terminal | null {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return null;
  }
  return {
    // What a person reads before deciding: a stored report, a metadata key or a path never drives it.
    write: (text) => void writeSync(fd, escapeForTerminal(text)),
    readLine() {
      const bytes: number[] = [];
      const one = Buffer.alloc(1);
      for (;;) {
        let read: number;
        try {
          read = readSync(fd, one, 0, 1, null);
        } catch {
          return null;
        }
        if (read === 0) return bytes.length === 0 ? null : Buffer.from(bytes).toString('utf8');
        if (one[0] === 10) return Buffer.from(bytes).toString('utf8').replace(/\r$/, '');
        bytes.push(one[0] as number);
      }
    },
    close: () => closeSync(fd),
  };
}

export interface PersonDeps {
  io: IO;
  stateDir: string;
  terminal: () => Terminal | null;
  now?: () => Date;
  /** Lifetime of a granted approval, in seconds. */
  ttlSeconds: number;
}

function checkId(raw: string | undefined, command: string): string {
  if (raw === undefined || raw === '') throw new UsageError(`missing ID: bapi-guard ${command} apr_…`);
  if (!ID_PATTERN.test(raw)) throw new UsageError(`not an approval id: ${JSON.stringify(raw)} (expected apr_ followed by 24 hex digits)`);
  return raw;
}

/** A person at their own terminal, or a refusal saying why not (exit 4). */
function personTerminal(deps: PersonDeps, what: string): Terminal {
  const marker = agentMarker(deps.io.env);
  if (marker) {
    throw new ConfirmationError(`${what} must be run by a person in their own terminal, not by an agent (${marker.variable} is set: ${marker.host})`, {
      hints: ['Ask the person to run the command shown in their own terminal.'],
    });
  }
  const terminal = deps.terminal();
  if (!terminal) {
    throw new ConfirmationError(`${what} needs a terminal: it reads the answer from /dev/tty, never from stdin`, {
      hints: ['Run it in your own terminal window.'],
    });
  }
  return terminal;
}

/** `bapi-guard approve ID` / `bapi-guard deny ID`. */
export async function decide(rawId: string | undefined, decision: 'grant' | 'deny', deps: PersonDeps): Promise<number> {
  const command = decision === 'grant' ? 'approve' : 'deny';
  const id = checkId(rawId, command);
  const now = deps.now?.() ?? new Date();
  const found = approvalStore(deps.stateDir).get(id);
  if (!found) throw new ApprovalInvalidError(`there is no approval ${id} in ${deps.stateDir} (never issued, or cleaned up)`);
  if (found.tampered) throw new ApprovalInvalidError(`approval ${id} was modified after the guard issued it; it is refused`);
  const { approval } = found;
  if (decision === 'grant') {
    const state = listingOf(approval, now).status;
    if (state !== 'pending') throw new ApprovalInvalidError(`approval ${id} is not pending: it is ${state}`);
    const terminal = personTerminal(deps, 'bapi-guard approve');
    try {
      const key = findSecretKey(deps.io.env, deps.io.cwd);
      terminal.write(`${approval.report}\n`);
      terminal.write(`Key: ${key.info.masked ?? 'none'} (${key.info.kind === 'live' ? 'LIVE instance' : 'test instance'})\n`);
      if (approval.scopeBypass) terminal.write('Scope bypass: this request is outside CLERK_BAPI_SCOPES; approving it bypasses the scope check once.\n');
      // A batch's report has listed what it destroys, endpoint by endpoint, already.
      const batch = approval.method === 'BATCH';
      if (approval.destroys.length > 0 && !batch) terminal.write(`IRREVERSIBLE: approving lets one request destroy:\n${approval.destroys.map((d) => `  - ${d}`).join('\n')}\n`);
      const question = batch
        ? approval.expected === 'yes' ? 'Approve the whole batch? Type yes to approve: ' : `Type ${approval.expected} (the number of destructive requests) to approve the batch: `
        : approval.expected === 'yes' ? 'Approve this request? Type yes to approve: ' : `Type ${approval.expected} to approve: `;
      terminal.write(question);
      const answer = terminal.readLine();
      if (!isConfirmed(answer, approval.expected)) throw new DeclinedError(`not approved: the answer was not ${JSON.stringify(approval.expected)}; ${id} is still pending`);
      const result = approvalStore(deps.stateDir).decide(id, 'grant', { keyFingerprint: key.info.fingerprint, now, ttlSeconds: deps.ttlSeconds });
      if (!result.ok) throw result.reason === 'key' ? new KeyInvalidError(result.message) : new ApprovalInvalidError(result.message);
      deps.io.stderr.write(`Approved ${id}: the same command can now send this request once, until ${result.approval.expiresAt}.\n`);
      return EXIT.ok;
    } finally {
      terminal.close();
    }
  }
  const result = approvalStore(deps.stateDir).decide(id, 'deny', { keyFingerprint: null, now });
  if (!result.ok) throw new ApprovalInvalidError(result.message);
  deps.io.stderr.write(`Denied ${id}: it will not be sent.\n`);
  return EXIT.ok;
}

/** `bapi-guard approvals [--json]`: every approval with its state and a one-line summary. */
export function list(json: boolean, deps: PersonDeps): number {
  const approvals = approvalStore(deps.stateDir).list(deps.now?.() ?? new Date());
  if (json) {
    deps.io.stdout.write(`${JSON.stringify(approvals, null, 2)}\n`);
    return EXIT.ok;
  }
  for (const approval of approvals) deps.io.stdout.write(`${listingLine(approval)}\n`);
  if (approvals.length === 0) deps.io.stderr.write(`bapi-guard: no approvals in ${deps.stateDir}\n`);
  return EXIT.ok;
}

/** `STATUS⇥ID⇥METHOD PATH⇥EXPIRES⇥notes`. */
export function listingLine(approval: ApprovalListing): string {
  const notes = [approval.destructive ? 'irreversible' : null, approval.scopeBypass ? 'scope bypass' : null, approval.confirmedBy ? `confirmed by ${approval.confirmedBy}` : null].filter(Boolean).join(', ');
  // A batch is named by what it holds ("batch of 40: 40× DELETE /users/{user_id}"), not its binding's BATCH /batch.
  const what = approval.method === 'BATCH' && approval.endpoint ? approval.endpoint : `${approval.method} ${approval.path}`;
  return [approval.status, approval.id, what, approval.expiresAt, notes].join('\t');
}

/** `bapi-guard policy [person|flag]`: shows the consent mode, or sets it for this state directory (at a terminal only). */
export function policy(rawMode: string | undefined, deps: PersonDeps): number {
  if (rawMode === undefined || rawMode === 'show') {
    const consent = consentFor(deps.io.env, deps.stateDir);
    deps.io.stdout.write(`${consent.mode}\n`);
    for (const reason of consent.reasons) deps.io.stderr.write(`  person: ${reason}\n`);
    return EXIT.ok;
  }
  if (rawMode !== 'person' && rawMode !== 'flag') throw new UsageError(`bapi-guard policy takes person, flag or show, not ${JSON.stringify(rawMode)}`);
  const mode: ConsentMode = rawMode;
  const terminal = personTerminal(deps, 'bapi-guard policy');
  try {
    if (mode === 'flag') {
      terminal.write('Let --yes and --admin confirm writes again for this state directory (agents are still held to person mode)? Type yes: ');
      if (!isConfirmed(terminal.readLine(), 'yes')) throw new DeclinedError('the policy was not changed');
    }
    writePrivateFile(join(deps.stateDir, POLICY_FILE), `${JSON.stringify({ confirm: mode })}\n`);
  } finally {
    terminal.close();
  }
  deps.io.stderr.write(`Consent policy for ${deps.stateDir}: ${mode}.\n`);
  return EXIT.ok;
}
