// One error class per kind a user can meet. Commands throw these; `runMain` maps them to exit codes.

export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  policy: 3,
  confirmation: 4,
  unavailable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The kinds an error is (its class and the ones it extends), under a key shared by every copy of this
 * module in the process: the code of batches is a bundle of its own, with its own copy of these
 * classes, and its errors must still be recognised (`instanceof`) by the command that loaded it.
 */
const KINDS = Symbol.for('clerk-bapi-toolkit.error-kinds');

function kindsOf(constructor: unknown): string[] {
  const kinds: string[] = [];
  for (let at = constructor as { name?: string; kind?: string } | null; at && at !== Error && at !== Function.prototype; at = Object.getPrototypeOf(at) as typeof at) {
    kinds.push(Object.hasOwn(at, 'kind') ? (at.kind as string) : (at.name ?? ''));
  }
  return kinds;
}

export class ToolkitError extends Error {
  static readonly kind: string = 'ToolkitError';
  /** What failed, stable across releases: shown in every --json error and MCP result (see README, Error codes). */
  readonly code: string = 'runtime_error';
  readonly exitCode: ExitCode = EXIT.runtime;
  /** Lines of advice printed after the message (how to fix it). */
  readonly hints: string[];
  /** Already explained on stderr (the guard's report says why): the front-end prints it no second time. */
  reported = false;
  constructor(message: string, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hints = options.hints ?? [];
    Object.defineProperty(this, KINDS, { value: kindsOf(new.target) });
  }

  /** The error as data: what --json prints and an MCP result carries. */
  toJSON(): ErrorDocument {
    return { code: this.code, message: this.message, hints: this.hints, exit_code: this.exitCode, ...this.details() };
  }

  /** Fields of this failure beyond its message (an approval's id, an HTTP status). */
  protected details(): Record<string, unknown> {
    return {};
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const kinds = typeof value === 'object' && value !== null ? (value as Record<symbol, unknown>)[KINDS] : undefined;
    return Array.isArray(kinds) && kinds.includes(Object.hasOwn(this, 'kind') ? (this as unknown as { kind: string }).kind : this.name);
  }
}

export interface ErrorDocument {
  code: string;
  message: string;
  hints: string[];
  exit_code: number;
  [detail: string]: unknown;
}

type ErrorOptions = { hints?: string[]; cause?: unknown };

/** Bad arguments or input: exit 2. */
export class UsageError extends ToolkitError {
  static override readonly kind: string = 'UsageError';
  override readonly code: string = 'usage';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/** A name (endpoint, tag, version) that does not exist; still exit 2. */
export class NotFoundError extends UsageError {
  static override readonly kind: string = 'NotFoundError';
  override readonly code: string = 'not_found';
}

/** The request does not hold against the spec (its problems are in the verdict). */
export class RequestInvalidError extends UsageError {
  static override readonly kind: string = 'RequestInvalidError';
  override readonly code: string = 'request_invalid';
}

/** A spec file that cannot be parsed or is not an OpenAPI document. */
export class SpecError extends ToolkitError {
  static override readonly kind: string = 'SpecError';
  override readonly code: string = 'spec_invalid';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/** The guard's policy refuses: exit 3. */
export class PolicyError extends ToolkitError {
  static override readonly kind: string = 'PolicyError';
  override readonly code: string = 'policy_refused';
  override readonly exitCode: ExitCode = EXIT.policy;
}

/** No secret key, or one that is not a Clerk secret key. */
export class KeyInvalidError extends PolicyError {
  static override readonly kind: string = 'KeyInvalidError';
  override readonly code: string = 'key_invalid';
}

/** CLERK_BAPI_SCOPES does not allow the write (flag mode; in person mode a person may bypass). */
export class ScopeDeniedError extends PolicyError {
  static override readonly kind: string = 'ScopeDeniedError';
  override readonly code: string = 'scope_denied';
}

/** The guard needs a confirmation it did not get: exit 4. */
export class ConfirmationError extends ToolkitError {
  static override readonly kind: string = 'ConfirmationError';
  override readonly code: string = 'confirmation_needed';
  override readonly exitCode: ExitCode = EXIT.confirmation;
}

/** A person must approve this request: it waits as a pending approval. */
export class ApprovalPendingError extends ConfirmationError {
  static override readonly kind: string = 'ApprovalPendingError';
  override readonly code: string = 'approval_pending';
  /**
   * `approveCommand`: what the person runs in their own terminal; null under a key-custody broker,
   * where the person answers in the broker's terminal (`decideWhere`) and there is nothing to run.
   */
  constructor(message: string, readonly approvalId: string, readonly approveCommand: string | null, options: ErrorOptions & { decideWhere?: string } = {}) {
    super(message, options);
    this.decideWhere = options.decideWhere ?? null;
  }
  readonly decideWhere: string | null;
  protected override details(): Record<string, unknown> {
    return { approval_id: this.approvalId, approve_command: this.approveCommand, ...(this.decideWhere ? { decide_where: this.decideWhere } : {}) };
  }
}

/** The person said no (a prompt, a denied approval). */
export class DeclinedError extends ConfirmationError {
  static override readonly kind: string = 'DeclinedError';
  override readonly code: string = 'declined';
}

/** An approval that cannot be used: unknown, expired, used, edited, or another key's. */
export class ApprovalInvalidError extends ConfirmationError {
  static override readonly kind: string = 'ApprovalInvalidError';
  override readonly code: string = 'approval_invalid';
}

/** The spec source or the network cannot be reached and nothing usable is cached: exit 5. */
export class UnavailableError extends ToolkitError {
  static override readonly kind: string = 'UnavailableError';
  override readonly code: string = 'unavailable';
  override readonly exitCode: ExitCode = EXIT.unavailable;
}

/** The API answered with an HTTP error status. */
export class HttpStatusError extends ToolkitError {
  static override readonly kind: string = 'HttpStatusError';
  override readonly code: string = 'http_status';
  readonly status: number;
  constructor(message: string, status: number, options: ErrorOptions = {}) {
    super(message, options);
    this.status = status;
  }
  protected override details(): Record<string, unknown> {
    return { status: this.status };
  }
}

/** The state directory (approvals, audit, backups) cannot be used: nothing is sent. */
export class StateDirUnusableError extends ToolkitError {
  static override readonly kind: string = 'StateDirUnusableError';
  override readonly code: string = 'state_dir_unusable';
}

/** The audit line of a write cannot be written: the write is not sent. */
export class AuditUnwritableError extends ToolkitError {
  static override readonly kind: string = 'AuditUnwritableError';
  override readonly code: string = 'audit_unwritable';
}

/** The resource could not be saved before a DELETE: nothing is deleted. */
export class BackupFailedError extends ToolkitError {
  static override readonly kind: string = 'BackupFailedError';
  override readonly code: string = 'backup_failed';
}

/** A batch journal that cannot be trusted, or a batch another process is running. */
export class JournalRefusedError extends ToolkitError {
  static override readonly kind: string = 'JournalRefusedError';
  override readonly code: string = 'journal_refused';
}

/** A redirect the client will not follow (a write's, or one to another host or scheme). */
export class RedirectRefusedError extends ToolkitError {
  static override readonly kind: string = 'RedirectRefusedError';
  override readonly code: string = 'redirect_refused';
}

/** An answer larger than CLERK_BAPI_MAX_RESPONSE_MB. */
export class ResponseTooLargeError extends ToolkitError {
  static override readonly kind: string = 'ResponseTooLargeError';
  override readonly code: string = 'response_too_large';
}

/** --paginate cannot go on: not a list, a repeated page, no end. */
export class PaginationError extends ToolkitError {
  static override readonly kind: string = 'PaginationError';
  override readonly code: string = 'pagination_failed';
}

/** `error`, marked as already explained to the person (see ToolkitError.reported). */
export function reported<E extends ToolkitError>(error: E): E {
  error.reported = true;
  return error;
}

/** Any error as data: a toolkit error's own document, anything else an internal error. */
export function errorDocument(error: unknown): ErrorDocument {
  if (error instanceof ToolkitError) return error.toJSON();
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error), hints: [], exit_code: EXIT.runtime };
}
