// The rate-limit governor: every toolkit process using one Clerk instance (one key fingerprint)
// shares one budget, kept in the state directory as the send times of the last window (small,
// locked by an exclusive file, no daemon). A request waits for budget instead of meeting a 429; a
// 429 that comes anyway pauses everyone until its Retry-After.
import { closeSync, constants, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { stateSubdir } from '../core/state-dir.js';

export const RATE_LIMIT_VARIABLE = 'CLERK_BAPI_RATE_LIMIT';
/**
 * The longest shared pause a 429's Retry-After can impose on every process (Clerk's windows are 10 s;
 * an hourly limit is the endpoint limiter's to report): `Retry-After: 99999999` must not stop the
 * toolkit for years.
 */
export const MAX_PAUSE_MS = 60_000;

export interface RateLimit {
  requests: number;
  windowMs: number;
}

/** Clerk's instance limits: 100 / 10 s for development (sk_test_), 1 000 / 10 s for production. */
export function rateLimitFor(env: Record<string, string | undefined>, kind: 'test' | 'live' | null): RateLimit {
  const raw = env[RATE_LIMIT_VARIABLE];
  if (raw !== undefined && raw.trim() !== '') {
    const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m)?\s*$/.exec(raw);
    if (!match || Number(match[1]) < 1) throw new UsageError(`${RATE_LIMIT_VARIABLE} must be N/Ws, e.g. 100/10s or 50/1m, not ${JSON.stringify(raw)}`);
    const amount = match[2] === undefined ? 1 : Number(match[2]);
    const unit = match[3] ?? 's';
    return { requests: Number(match[1]), windowMs: amount * (unit === 'ms' ? 1 : unit === 'm' ? 60_000 : 1000) };
  }
  return kind === 'live' ? { requests: 1000, windowMs: 10_000 } : { requests: 100, windowMs: 10_000 };
}

interface Budget {
  /** Send times (ms) within the last window. */
  sent: number[];
  /** No request before this time (a 429's Retry-After). */
  pausedUntil: number;
  /** After a 429: at most this many per window (others share the instance), until `ceilingUntil`. */
  ceiling?: number;
  ceilingUntil?: number;
}

/** A wait longer than the caller accepts (an hourly limit): nothing was counted. */
export class BudgetExhausted extends Error {
  constructor(readonly waitMs: number) {
    super(`no budget for ${Math.ceil(waitMs / 1000)}s`);
  }
}

export interface Governor {
  /**
   * Waits until a request may be sent, and counts it. The returned function, called once the answer
   * is in, moves the count to that time (unless it came within the margin): Clerk counted the
   * request when it arrived, which is no later, so the budget never frees a slot before Clerk does.
   * With `maxWaitMs`, a longer wait throws BudgetExhausted instead, and nothing is counted.
   */
  acquire(options?: { maxWaitMs?: number }): Promise<() => Promise<void>>;
  /** A 429 came anyway: everyone waits `retryAfterMs`. */
  pause(retryAfterMs: number): void;
}

export interface GovernorOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told once when a request has to wait for budget. */
  onWait?: (ms: number) => void;
  /** A budget of its own beside the instance's (an endpoint's limit): its file is named after it. */
  bucket?: string;
  /** Told once when the budget file holds numbers out of range (it is then read as empty). */
  onWarning?: (message: string) => void;
}

/** The shared budget of one instance in `stateDir`. */
export function governor(stateDir: string, fingerprint: string, limit: RateLimit, options: GovernorOptions = {}): Governor {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // Made (private) the first time it is missing: a read with budget to spare then costs a lock, a
  // read and a write of one small file, nothing more.
  const dir = join(stateDir, 'rate');
  const name = fingerprint.replace(/[^A-Za-z0-9]/g, '').slice(-32);
  const file = join(dir, `${name}${options.bucket ? `-${options.bucket.replace(/[^A-Za-z0-9_]+/g, '_').slice(0, 120)}` : ''}.json`);
  let told = false;
  // A margin for the time between counting a request here and Clerk receiving it: an entry counts
  // for its window and the margin. One whose answer took longer than the margin is moved to the
  // answer's time (no earlier than Clerk counted it), so a small margin is enough.
  const margin = Math.min(500, Math.max(20, limit.windowMs * 0.02));

  const { read, save, locked } = budgetFile(stateDir, file, limit, margin, { now, sleep, onWarning: options.onWarning });

  return {
    async acquire(acquireOptions = {}) {
      let counted = 0;
      for (;;) {
        // A budget that cannot be read or written (a full disk) does not stop the request.
        const wait = await locked(() => {
          const at = now();
          const budget = read();
          // An entry counts for a window and a margin: one that was not settled (its answer came
          // within the margin) was received by Clerk no later than the margin after it was counted.
          const recent = budget.sent.filter((t) => t > at - limit.windowMs - margin).sort((a, b) => a - b);
          if (budget.pausedUntil > at) return budget.pausedUntil - at;
          const shrunk = budget.ceiling !== undefined && (budget.ceilingUntil ?? 0) > at;
          const allowed = shrunk ? Math.min(limit.requests, budget.ceiling as number) : limit.requests;
          if (recent.length < allowed) {
            // A distinct time per entry, so the settle below moves this one and no other.
            counted = recent.includes(at) ? at + Math.random() : at;
            recent.push(counted);
            save({ sent: recent, pausedUntil: budget.pausedUntil, ...(shrunk ? { ceiling: budget.ceiling as number, ceilingUntil: budget.ceilingUntil as number } : {}) });
            return 0;
          }
          return (recent[recent.length - allowed] as number) + limit.windowMs - at + margin;
        }).catch(() => 0);
        if (acquireOptions.maxWaitMs !== undefined && wait > acquireOptions.maxWaitMs) throw new BudgetExhausted(wait);
        if (wait <= 0) {
          const entry = counted;
          return async () => {
            // Clerk counted it on arrival, before the answer: when the answer came within the
            // margin, the count here frees no earlier than Clerk's, and the file stays as it is.
            if (now() - entry <= margin) return;
            await locked(() => {
              const budget = read();
              const at = budget.sent.indexOf(entry);
              if (at >= 0) budget.sent[at] = Math.max(entry, now());
              save(budget);
            }).catch(() => undefined);
          };
        }
        if (!told) {
          told = true;
          options.onWait?.(wait);
        }
        await sleep(wait);
      }
    },
    pause(rawRetryAfterMs) {
      const retryAfterMs = Number.isFinite(rawRetryAfterMs) ? Math.min(Math.max(rawRetryAfterMs, 0), MAX_PAUSE_MS) : MAX_PAUSE_MS;
      void locked(() => {
        const at = now();
        const budget = read();
        // Someone else spends this instance's budget too: a tenth less per window for the next five windows.
        const inWindow = budget.sent.filter((t) => t > at - limit.windowMs).length;
        const previous = budget.ceiling !== undefined && (budget.ceilingUntil ?? 0) > at ? budget.ceiling : limit.requests;
        const ceiling = Math.max(1, Math.floor(Math.min(previous, Math.max(inWindow, 1)) * 0.9));
        save({ sent: budget.sent, pausedUntil: Math.max(budget.pausedUntil, at + retryAfterMs), ceiling, ceilingUntil: at + 5 * limit.windowMs });
      }).catch(() => undefined);
    },
  };
}

/** The budget file of one instance (or one endpoint): read (refusing numbers out of range), rewritten in place, and locked. */
function budgetFile(stateDir: string, file: string, limit: RateLimit, margin: number, context: { now: () => number; sleep: (ms: number) => Promise<void>; onWarning: ((message: string) => void) | undefined }) {
  const { now, sleep } = context;
  const options = { onWarning: context.onWarning };
  const lock = `${file}.lock`;
  let warned = false;
  // Nothing this code writes lies further ahead than a capped pause or five windows of a lowered ceiling.
  const horizon = () => now() + Math.max(MAX_PAUSE_MS, 5 * limit.windowMs) + margin + 1000;
  const inRange = (n: unknown, low: number, high: number): n is number => typeof n === 'number' && Number.isFinite(n) && n >= low && n <= high;

  const read = (): Budget => {
    let budget: Partial<Budget>;
    try {
      budget = JSON.parse(readFileSync(file, 'utf8')) as Partial<Budget>;
    } catch {
      // Missing, or torn by a crash mid-write: an empty budget.
      return { sent: [], pausedUntil: 0 };
    }
    const until = horizon();
    const sent = Array.isArray(budget.sent) ? budget.sent : [];
    const valid =
      sent.every((t) => inRange(t, 0, until)) &&
      (budget.pausedUntil === undefined || inRange(budget.pausedUntil, 0, until)) &&
      (budget.ceiling === undefined || (Number.isInteger(budget.ceiling) && inRange(budget.ceiling, 1, limit.requests))) &&
      (budget.ceilingUntil === undefined || inRange(budget.ceilingUntil, 0, until));
    if (!valid) {
      // A NaN wait or a pause until 1e300 would stop every request with this key: read it as absent.
      if (!warned) options.onWarning?.(`the rate-limit budget ${file} holds numbers out of range; it is read as empty`);
      warned = true;
      return { sent: [], pausedUntil: 0 };
    }
    return {
      sent: sent as number[],
      pausedUntil: budget.pausedUntil ?? 0,
      ...(budget.ceiling !== undefined && budget.ceilingUntil !== undefined ? { ceiling: budget.ceiling, ceilingUntil: budget.ceilingUntil } : {}),
    };
  };

  // Written in place: every read and write of the file happens under the lock, so no reader sees it
  // half written; a crash in the middle leaves a file that does not parse, read as an empty budget.
  // Never through a link planted at its name (O_NOFOLLOW).
  const save = (budget: Budget) => {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, JSON.stringify(budget));
    } finally {
      closeSync(fd);
    }
  };

  // A few milliseconds at most: held only to read and rewrite one small file.
  const locked = async <T>(work: () => T): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = openSync(lock, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt === 0) {
          stateSubdir(stateDir, 'rate');
          continue;
        }
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        try {
          if (now() - statSync(lock).mtimeMs > 2000) rmSync(lock, { force: true });
        } catch {
          // gone already
        }
        await sleep(attempt < 20 ? 1 : 5);
        continue;
      }
      try {
        return work();
      } finally {
        closeSync(fd);
        rmSync(lock, { force: true });
      }
    }
  };

  return { read, save, locked };
}
