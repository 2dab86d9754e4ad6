// A client's side of key custody: send one request to the broker, write what comes back to this
// process's own stdout and stderr, and end with the broker's exit code or its failure (rebuilt as
// a ToolkitError with the same code, exit code and hints). Also: the warning that custody is
// defeated when the agent can read a key anyway.
import { connect } from 'node:net';
import { EXIT, ToolkitError, type ErrorDocument, type ExitCode } from '../core/errors.js';
import { writeLine, type IO } from '../core/io.js';
import { findSecretKey, KEY_VARIABLE } from '../guard/key.js';
import { emit } from '../http/print.js';
import { BROKER_VARIABLE, encodeFrame, frameReader, type BrokerFrame, type BrokerRequest, type BrokerStatus, type ClientTerminal } from './protocol.js';

/** A failure the broker reported, with its code, exit code, hints and details as it gave them. */
export class BrokerFailure extends ToolkitError {
  static override readonly kind: string = 'BrokerFailure';
  override readonly code: string;
  override readonly exitCode: ExitCode;
  private readonly extra: Record<string, unknown>;
  constructor(document: ErrorDocument, alreadyShown: boolean) {
    super(document.message, { hints: document.hints });
    const { code, message: _message, hints: _hints, exit_code, ...extra } = document;
    this.code = code;
    this.exitCode = ([0, 1, 2, 3, 4, 5] as const).find((c) => c === exit_code) ?? EXIT.runtime;
    this.extra = extra;
    this.reported = alreadyShown;
  }
  protected override details(): Record<string, unknown> {
    return this.extra;
  }
}

/** The broker cannot be reached: nothing was sent, and no key of the client's is tried instead. */
export class BrokerUnavailableError extends ToolkitError {
  static override readonly kind: string = 'BrokerUnavailableError';
  override readonly code: string = 'broker_unavailable';
}

/** How this process's own output looks, for the broker to print the same way. */
export function clientTerminal(io: IO): ClientTerminal {
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  return { stdout: io.stdout.isTTY === true, stderr: io.stderr.isTTY === true, noColor, ...(io.stderr.columns ? { columns: io.stderr.columns } : {}) };
}

/** Sends `request` to the broker at `path`; its output goes to io; resolves with its exit code (a failure is thrown). */
export async function viaBroker(path: string, request: BrokerRequest, io: IO): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const socket = connect(path);
    let settled = false;
    let writing: Promise<void> = Promise.resolve();
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      void writing.then(fn);
    };
    const read = frameReader(
      (value) => {
        const frame = value as BrokerFrame;
        if (frame.t === 'out' || frame.t === 'err') {
          const stream = frame.t === 'out' ? io.stdout : io.stderr;
          // Backpressure: the broker waits while this process's stdout is full.
          socket.pause();
          writing = writing.then(() => emit(stream, frame.d)).finally(() => socket.resume());
        } else if (frame.t === 'exit') settle(() => resolve(frame.code));
        else if (frame.t === 'error') settle(() => reject(new BrokerFailure(frame.error, frame.reported)));
      },
      (problem) => settle(() => reject(new ToolkitError(`the broker at ${path} answered with ${problem}`))),
    );
    socket.on('data', read);
    socket.once('connect', () => socket.write(encodeFrame(request)));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          new BrokerUnavailableError(`cannot reach the key-custody broker at ${path} (${error.code ?? error.message}); nothing was sent`, {
            hints: ['Ask the person to start it in their own terminal: bapi-guard serve --key-command "…" (see README, Key custody).', `If no broker should run here, remove ${path} (a broker that was killed leaves it behind) and unset ${BROKER_VARIABLE}.`],
          }),
        ),
      ),
    );
    socket.once('close', () => settle(() => reject(new BrokerUnavailableError(`the key-custody broker at ${path} closed the connection before answering; whether the request was sent is unknown`))));
  });
}

/** The broker's own account of itself (key masked, scopes, pid), or null when it does not answer within `timeoutMs`. */
export async function brokerStatus(path: string, timeoutMs = 1_000): Promise<BrokerStatus | null> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const timer = setTimeout(() => done(null), timeoutMs);
    const done = (status: BrokerStatus | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    socket.on('data', frameReader((value) => done((value as BrokerFrame).t === 'status' ? (value as { status: BrokerStatus }).status : null), () => done(null)));
    socket.once('connect', () => socket.write(encodeFrame({ op: 'status' })));
    socket.once('error', () => done(null));
  });
}

/**
 * Custody holds only while the agent cannot read a key: a client that uses a broker and still finds
 * one (its environment, .env.local, .env) says so, once, on stderr.
 */
export function warnIfKeyReadable(io: IO, command: string): void {
  const key = findSecretKey(io.env, io.cwd);
  if (key.info.present !== true) return;
  const where = key.info.source === KEY_VARIABLE ? `${KEY_VARIABLE} is set in this environment` : `${key.info.source} holds ${KEY_VARIABLE}`;
  writeLine(io.stderr, `${command}: warning: ${where}: the agent can read that key and use it without the broker (${BROKER_VARIABLE}); remove it, so only the broker holds it`);
}
