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

export class ToolkitError extends Error {
  readonly code: string = 'E_TOOLKIT';
  readonly exitCode: ExitCode = EXIT.runtime;
  /** Lines of advice printed after the message (how to fix it). */
  readonly hints: string[];
  constructor(message: string, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hints = options.hints ?? [];
  }
}

/** Bad arguments, invalid input, unknown endpoint or version, a request invalid against the spec. */
export class UsageError extends ToolkitError {
  override readonly code: string = 'E_USAGE';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/** A name (endpoint, tag, version) that does not exist; still exit 2. */
export class NotFoundError extends UsageError {
  override readonly code: string = 'E_NOT_FOUND';
}

/** The guard's policy refuses: no or malformed key, insufficient scopes. */
export class PolicyError extends ToolkitError {
  override readonly code: string = 'E_POLICY';
  override readonly exitCode: ExitCode = EXIT.policy;
}

/** The guard needs confirmation that it did not get (no TTY and no --yes, or the user declined). */
export class ConfirmationError extends ToolkitError {
  override readonly code: string = 'E_CONFIRMATION';
  override readonly exitCode: ExitCode = EXIT.confirmation;
}

/** The spec source or the network cannot be reached and nothing usable is cached. */
export class UnavailableError extends ToolkitError {
  override readonly code: string = 'E_UNAVAILABLE';
  override readonly exitCode: ExitCode = EXIT.unavailable;
}

/** A spec file that cannot be parsed or is not an OpenAPI document. */
export class SpecError extends ToolkitError {
  override readonly code: string = 'E_SPEC';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/** The API answered with an HTTP error status. */
export class HttpStatusError extends ToolkitError {
  override readonly code: string = 'E_HTTP_STATUS';
  readonly status: number;
  constructor(message: string, status: number, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, options);
    this.status = status;
  }
}
