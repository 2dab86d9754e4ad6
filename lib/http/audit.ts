// The audit log: JSON lines in the state directory, one before each write is sent and one with its outcome.
// It says what was done and with which approval and key, never the key or the body's values.
import { appendFileSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../core/state-dir.js';

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
  confirmed_by: 'terminal' | 'approve-command' | 'elicitation' | 'yes-flag' | 'not-needed';
  /** `flag` (--yes/--admin count) or `person` (only a person counts). */
  consent_mode: 'flag' | 'person';
  /** How the scope check was bypassed; null when the scopes allowed the write. */
  scope_bypass: 'admin-flag' | 'terminal' | 'approve-command' | 'elicitation' | null;
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
