// The audit log: JSON lines in the state directory, one before each write is sent and one with its outcome.
// It says what was done and with which approval and key, never the key or the body's values.
import { appendFileSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnwritableError } from '../core/errors.js';
import { ensurePrivateDir, STATE_DIR_VARIABLE } from '../core/state-dir.js';

export const AUDIT_FILE = 'audit.log';

export interface AuditEntry {
  time: string;
  /**
   * `sending`: written before the request leaves (a write that cannot be recorded is not sent);
   * `answered` or `failed`: its outcome. A `sending` line with no outcome after it is a write whose
   * fate is unknown (the process died, or the outcome could not be written).
   */
  event: 'sending' | 'answered' | 'failed';
  method: string;
  path: string;
  query: Array<[string, string]>;
  /** The spec's template, when the request matched one. */
  endpoint: string | null;
  /** HTTP status, or null when no answer came back. */
  status: number | null;
  clerk_trace_id: string | null;
  approval_id: string | null;
  /** How consent was given: at the terminal, by `bapi-guard approve`, by --yes, or none was needed. */
  confirmed_by: 'terminal' | 'approve-command' | 'broker-terminal' | 'elicitation' | 'yes-flag' | 'not-needed';
  /** `flag` (--yes/--admin count) or `person` (only a person counts). */
  consent_mode: 'flag' | 'person';
  /** How the scope check was bypassed; null when the scopes allowed the write. */
  scope_bypass: 'admin-flag' | 'terminal' | 'approve-command' | 'broker-terminal' | 'elicitation' | null;
  key_fingerprint: string | null;
  api_version: string | null;
  /** Names of the top-level body fields sent; their values are not recorded. */
  body_fields: string[];
  /** Where the resource was saved before a DELETE. */
  backup: string | null;
  /** A network failure, when there was no answer. */
  error: string | null;
  /** The line of a `--batch` file this request came from. */
  batch_line?: number;
}

export function auditLogPath(stateDir: string): string {
  return join(stateDir, AUDIT_FILE);
}

/** The names of a body's top-level fields (values stay out of the log). */
export function bodyFields(body: unknown): string[] {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).sort() : [];
}

/** Appends one entry; a single write of one line, so concurrent writers do not interleave. */
export function appendAudit(stateDir: string, entry: AuditEntry): string {
  ensurePrivateDir(stateDir);
  const path = auditLogPath(stateDir);
  appendFileSync(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch {
    // best effort
  }
  return path;
}

/** What every audit line of one write repeats; the trail adds its time, event, status, trace and error. */
export type AuditRequest = Omit<AuditEntry, 'time' | 'event' | 'status' | 'clerk_trace_id' | 'error'>;

export interface AuditTrail {
  /** The `sending` line, before the write leaves; a log that cannot take it throws: nothing is sent. */
  reserve(): void;
  /** `answered` or `failed`; a log that cannot take it is a warning: the write happened. */
  outcome(status: number | null, trace: string | null, error: string | null): void;
}

/**
 * One write's audit lines. `redact` masks the key in each line; `notSent` ends the error when the
 * line cannot be reserved ("nothing was sent"); `described` names the write in the warning.
 */
export function auditTrail(
  stateDir: string,
  request: AuditRequest,
  options: { now: () => Date; redact: (entry: AuditEntry) => AuditEntry; notSent: string; described: string; warn: (text: string) => void },
): AuditTrail {
  const entry = (status: number | null, trace: string | null, error: string | null): AuditEntry =>
    options.redact({
      time: options.now().toISOString(),
      event: status === null && error === null ? 'sending' : status === null ? 'failed' : 'answered',
      ...request,
      status,
      clerk_trace_id: trace,
      error,
    });
  const reason = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return {
    reserve() {
      try {
        appendAudit(stateDir, entry(null, null, null));
      } catch (error) {
        throw new AuditUnwritableError(`cannot write the audit log in ${stateDir} (${reason(error)}); ${options.notSent}`, {
          hints: [`Free space there, or set ${STATE_DIR_VARIABLE} to a writable directory of your own.`],
        });
      }
    },
    outcome(status, trace, error) {
      try {
        appendAudit(stateDir, entry(status, trace, error));
      } catch (failure) {
        options.warn(`${options.described} was sent${status === null ? '' : ` and answered HTTP ${status}`}, but its outcome could not be added to the audit log in ${stateDir} (${reason(failure)})`);
      }
    },
  };
}

