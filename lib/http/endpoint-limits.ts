// Clerk's per-endpoint limits (specs/rate-limits.json), below the instance budget: invitations per
// hour, user updates per user per 10 seconds. Each is a budget of its own in the state directory,
// shared like the instance's; a wait within a minute is waited, a longer one (an hourly limit spent)
// fails fast, naming the limit and when a slot frees.
import { readPackageData } from '../core/package-data.js';
import { ToolkitError } from '../core/errors.js';
import { BudgetExhausted, governor, type Governor } from './governor.js';

export interface EndpointLimit {
  method: string;
  path: string;
  requests: number;
  /** `10s`, `1h`. */
  window: string;
  /** `instance`, or the path parameter whose every value has its own budget. */
  per: string;
  source: string;
}

/** The longest wait for an endpoint's slot before failing fast instead. */
export const MAX_ENDPOINT_WAIT_MS = 60_000;

/** An endpoint's limit is spent for longer than a minute. */
export class RateLimitExhausted extends ToolkitError {
  static override readonly kind: string = 'RateLimitExhausted';
  override readonly code: string = 'rate_limited';
  constructor(readonly limit: EndpointLimit, readonly freesAt: Date) {
    super(`${limit.method} ${limit.path} is limited to ${limit.requests} per ${describeWindow(limit.window)}${limit.per === 'instance' ? '' : ` per ${limit.per}`} (specs/rate-limits.json); the next slot frees at ${freesAt.toISOString()}`, {
      hints: ['Run it again after that time (a batch: the same command with --resume).'],
    });
  }
}

function describeWindow(window: string): string {
  const match = /^(\d+)(s|m|h)$/.exec(window);
  if (!match) return window;
  const unit = { s: 'second', m: 'minute', h: 'hour' }[match[2] as 's' | 'm' | 'h'];
  return match[1] === '1' ? unit : `${match[1]} ${unit}s`;
}

export function windowMs(window: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(window);
  if (!match) throw new ToolkitError(`specs/rate-limits.json: not a window: ${JSON.stringify(window)}`);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

let cached: EndpointLimit[] | null = null;

/** specs/rate-limits.json, found from lib/ (tsx) or dist/ (built). */
export function endpointLimits(): EndpointLimit[] {
  if (cached) return cached;
  cached = readPackageData<{ endpoints: EndpointLimit[] }>('rate-limits.json')?.endpoints ?? [];
  return cached;
}

export interface EndpointLimiter {
  /** Waits for the endpoint's own budget (when it has one), or throws RateLimitExhausted. */
  acquire(endpoint: { method: string; path: string }, concretePath: string): Promise<void>;
}

/** The per-endpoint budgets of one instance (key fingerprint) in `stateDir`. */
export function endpointLimiter(stateDir: string, fingerprint: string, onWait: (text: string) => void, limits: EndpointLimit[] = endpointLimits()): EndpointLimiter {
  const governors = new Map<string, Governor>();
  // Per-user budgets live in this process: one file per user would litter the state directory, and
  // two processes updating the same user at once is not the case these limits are about.
  const local = new Map<string, number[]>();
  return {
    async acquire(endpoint, concretePath) {
      const limit = limits.find((l) => l.method === endpoint.method && l.path === endpoint.path);
      if (!limit) return;
      const bucket = `${limit.method}_${limit.path}`;
      if (limit.per !== 'instance') {
        const at = limit.path.split('/').indexOf(`{${limit.per}}`);
        const key = `${bucket} ${concretePath.split('/')[at] ?? ''}`;
        const span = windowMs(limit.window);
        let told = false;
        for (;;) {
          const now = Date.now();
          const recent = (local.get(key) ?? []).filter((t) => t > now - span);
          if (recent.length < limit.requests) {
            recent.push(now);
            local.set(key, recent);
            return;
          }
          const wait = (recent[recent.length - limit.requests] as number) + span - now + 20;
          if (!told) onWait(`waiting ${(wait / 1000).toFixed(1)}s for ${limit.method} ${limit.path}'s own limit (${limit.requests} per ${describeWindow(limit.window)} per ${limit.per})`);
          told = true;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
      let budget = governors.get(bucket);
      if (!budget) {
        budget = governor(stateDir, fingerprint, { requests: limit.requests, windowMs: windowMs(limit.window) }, {
          bucket,
          onWait: (ms) => onWait(`waiting ${(ms / 1000).toFixed(1)}s for ${limit.method} ${limit.path}'s own limit (${limit.requests} per ${describeWindow(limit.window)})`),
          onWarning: (message) => onWait(`warning: ${message}`),
        });
        governors.set(bucket, budget);
      }
      try {
        await budget.acquire({ maxWaitMs: MAX_ENDPOINT_WAIT_MS });
      } catch (error) {
        if (error instanceof BudgetExhausted) throw new RateLimitExhausted(limit, new Date(Date.now() + error.waitMs));
        throw error;
      }
    },
  };
}
