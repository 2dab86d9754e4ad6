// bapi-curl's arguments that take more than a flag's value: METHOD and PATH in either order (curl's
// -X, gh's bare PATH), --timeout and --wait-approval in seconds, and the bounds they are checked
// against.
import { UsageError } from '../core/errors.js';
import { isHttpMethod } from '../endpoint/match.js';
import { normalizeMethod } from '../request/args.js';

export const MAX_TIMEOUT_SECONDS = 86_400;
// As lib/http/batch.ts has them; not imported, so a single request loads none of the batch code.
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 32;

/** `--wait-approval` (as long as the pending approval lives) or `--wait-approval=SECONDS`. */
export function waitApproval(raw: unknown): number | null {
  if (raw === undefined) return null;
  if (raw === '' || raw === true) return Infinity;
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw) || Number(raw) > MAX_TIMEOUT_SECONDS) {
    throw new UsageError(`--wait-approval ${JSON.stringify(raw)}: expected --wait-approval or --wait-approval=SECONDS (at most ${MAX_TIMEOUT_SECONDS})`);
  }
  return Number(raw) * 1000;
}

/** METHOD and PATH from the positional words and -X: `POST /users`, `/users POST`, `-X POST /users`, a bare `/users` (a GET). */
export function curlTarget(positional: string[], methodFlag: string | undefined): { method: string | null; path: string | null } {
  let method: string | null = null;
  let path: string | null = null;
  if (methodFlag !== undefined) {
    // curl's habit: -X POST /users.
    if (positional.length !== 1) throw new UsageError(`-X ${methodFlag} needs exactly one PATH, got ${positional.length === 0 ? 'none' : positional.join(' ')}`);
    [method, path] = [methodFlag, positional[0] as string];
  } else if (positional.length === 1) {
    const only = positional[0] as string;
    if (isHttpMethod(only)) throw new UsageError(`missing PATH after ${only.toUpperCase()}`, { hints: ['Run bapi-curl --help for usage.'] });
    // `bapi-curl /users` is a GET, as with `gh api`; a bare word (`bapi-curl help`) is not a path.
    if (!only.startsWith('/') && !/^https?:\/\//i.test(only)) {
      throw new UsageError(`expected METHOD PATH, got ${JSON.stringify(only)}`, { hints: ['A PATH starts with /, e.g. bapi-curl GET /users. Run bapi-curl --help for usage.'] });
    }
    [method, path] = ['GET', only];
  } else if (positional.length === 2) {
    const [first, second] = positional as [string, string];
    const firstIsPath = first.startsWith('/') || /^https?:/i.test(first);
    [method, path] = firstIsPath ? [second, first] : [first, second];
  }
  if (method !== null) method = normalizeMethod(method);
  return { method, path };
}

/** --timeout SECONDS as milliseconds (default 30 s). */
export function timeoutFrom(timeoutText: string | undefined): number {
  if (timeoutText === undefined) return 30_000;
  const seconds = Number(timeoutText);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout ${timeoutText}: expected a number of seconds`);
  // Node's timers hold 2^31-1 ms; a longer one fires at once.
  if (seconds > MAX_TIMEOUT_SECONDS) throw new UsageError(`--timeout ${timeoutText}: at most ${MAX_TIMEOUT_SECONDS} seconds (24 hours)`);
  return Math.round(seconds * 1000);
}
