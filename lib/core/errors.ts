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
  readonly code: string = 'E_TOOLKIT';
  readonly exitCode: ExitCode = EXIT.runtime;
  /** Lines of advice printed after the message (how to fix it). */
  readonly hints: string[];
  constructor(message: string, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hints = options.hints ?? [];
    Object.defineProperty(this, KINDS, { value: kindsOf(new.target) });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const kinds = typeof value === 'object' && value !== null ? (value as Record<symbol, unknown>)[KINDS] : undefined;
    return Array.isArray(kinds) && kinds.includes(Object.hasOwn(this, 'kind') ? (this as unknown as { kind: string }).kind : this.name);
  }
}

/** Bad arguments, invalid input, unknown endpoint or version, a request invalid against the spec. */
export class UsageError extends ToolkitError {
  static override readonly kind: string = 'UsageError';
  override readonly code: string = 'E_USAGE';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/** A name (endpoint, tag, version) that does not exist; still exit 2. */
export class NotFoundError extends UsageError {
  static override readonly kind: string = 'NotFoundError';
  override readonly code: string = 'E_NOT_FOUND';
}

/** The guard's policy refuses: no or malformed key, insufficient scopes. */
export class PolicyError extends ToolkitError {
  static override readonly kind: string = 'PolicyError';
  override readonly code: string = 'E_POLICY';
  override readonly exitCode: ExitCode = EXIT.policy;
}

/** The guard needs confirmation that it did not get (no TTY and no --yes, or the user declined). */
export class ConfirmationError extends ToolkitError {
  static override readonly kind: string = 'ConfirmationError';
  override readonly code: string = 'E_CONFIRMATION';
  override readonly exitCode: ExitCode = EXIT.confirmation;
}

/** The spec source or the network cannot be reached and nothing usable is cached. */
export class UnavailableError extends ToolkitError {
  static override readonly kind: string = 'UnavailableError';
  override readonly code: string = 'E_UNAVAILABLE';
  override readonly exitCode: ExitCode = EXIT.unavailable;
}

/** A spec file that cannot be parsed or is not an OpenAPI document. */
export class SpecError extends ToolkitError {
  static override readonly kind: string = 'SpecError';
  override readonly code: string = 'E_SPEC';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/** The API answered with an HTTP error status. */
export class HttpStatusError extends ToolkitError {
  static override readonly kind: string = 'HttpStatusError';
  override readonly code: string = 'E_HTTP_STATUS';
  readonly status: number;
  constructor(message: string, status: number, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, options);
    this.status = status;
  }
}
