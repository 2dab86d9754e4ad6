// What a client and a key-custody broker say to each other over its Unix socket: one request per
// connection, as one JSON line; the answer as JSON lines (what the client writes to its stdout and
// stderr, then its exit code or the failure as data). Where the socket is, for both sides.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorDocument } from '../core/errors.js';
import { UsageError } from '../core/errors.js';
import { defaultStateDir } from '../core/state-dir.js';
import type { GuardRequest } from '../guard/policy.js';
import type { ApiCall } from '../request/args.js';

export const BROKER_VARIABLE = 'CLERK_BAPI_BROKER';
/** A request line larger than this is refused (a batch's text travels in it). */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** How a forwarded call is carried out and printed: bapi-curl's options that mean nothing to consent. */
export interface ForwardedCallOptions {
  include: boolean;
  verbose: boolean;
  dryRun: boolean;
  paginate: boolean;
  slurp: boolean;
  maxItems?: number;
  jq?: string;
  timeoutMs: number;
  backup: boolean;
  concurrency?: number;
  /** A version pinned by the client (judged with the broker's own store of that version). */
  apiVersion?: string;
  includePlatform: boolean;
}

/** How the client's own output looks: the broker's streams for it behave the same (colour, width, a status line). */
export interface ClientTerminal {
  stdout: boolean;
  stderr: boolean;
  columns?: number;
  noColor: boolean;
}

/** How long a write waits for the person: milliseconds, or null to return approval_pending at once (--no-wait); absent: as long as the pending approval lives. */
export type Wait = number | null;

export type BrokerRequest =
  | { op: 'status' }
  | { op: 'call'; call: ApiCall; options: ForwardedCallOptions; wait?: Wait; terminal: ClientTerminal }
  | { op: 'batch'; text: string; source: string; resume: boolean; concurrency: number; options: ForwardedCallOptions; wait?: Wait; terminal: ClientTerminal }
  | { op: 'guard'; request: GuardRequest; json: boolean; wait?: Wait; /** A check only: nothing approved, nothing pending. */ check?: boolean; apiVersion?: string; includePlatform: boolean; terminal: ClientTerminal }
  | { op: 'guard-batch'; text: string; source: string; json: boolean; wait?: Wait; apiVersion?: string; includePlatform: boolean; terminal: ClientTerminal };

/** What a broker says of itself (`status`): for api-specs-context and for a client's checks. */
export interface BrokerStatus {
  pid: number;
  version: string;
  key: { masked: string; kind: string | null };
  scopes: string | null;
  origin: string;
  pendingTtlSeconds: number;
}

export type BrokerFrame =
  | { t: 'out'; d: string }
  | { t: 'err'; d: string }
  | { t: 'status'; status: BrokerStatus }
  | { t: 'exit'; code: number }
  | { t: 'error'; error: ErrorDocument; reported: boolean };

/** The directory a broker's socket lives in by default: $XDG_RUNTIME_DIR/clerk-bapi, else the state directory. */
export function defaultSocketPath(env: Record<string, string | undefined>, cwd: string): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime.startsWith('/')) return join(runtime, 'clerk-bapi', 'broker.sock');
  return join(defaultStateDir(env, cwd), 'broker.sock');
}

/**
 * The broker a client should use: CLERK_BAPI_BROKER (which must then be reachable: a client never
 * falls back to a key of its own when a broker was named), else the default socket when it exists.
 */
export function brokerSocket(env: Record<string, string | undefined>, cwd: string): { path: string; named: boolean } | null {
  const named = Object.hasOwn(env, BROKER_VARIABLE) ? env[BROKER_VARIABLE] : undefined;
  if (named !== undefined && named !== '') {
    if (!named.startsWith('/') && !named.startsWith('.')) throw new UsageError(`${BROKER_VARIABLE} must be the path of the broker's socket, not ${JSON.stringify(named)}`);
    return { path: named, named: true };
  }
  const path = defaultSocketPath(env, cwd);
  try {
    return statSync(path).isSocket() ? { path, named: false } : null;
  } catch {
    return null;
  }
}

/** Splits a stream of chunks into JSON lines; a line over `max` bytes, or not JSON, is an error. */
export function frameReader(onFrame: (value: unknown) => void, onError: (message: string) => void, max = MAX_REQUEST_BYTES): (chunk: Buffer | string) => void {
  let buffered = '';
  let failed = false;
  return (chunk) => {
    if (failed) return;
    buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        failed = true;
        onError('a message that is not JSON');
        return;
      }
      onFrame(value);
    }
    if (buffered.length > max) {
      failed = true;
      onError(`a message over ${max} bytes`);
    }
  };
}

export function encodeFrame(value: BrokerRequest | BrokerFrame): string {
  return `${JSON.stringify(value)}\n`;
}
