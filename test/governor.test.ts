// The rate-limit governor in process, with a given clock: a Retry-After or a budget file must never
// stop every request with the key (round 2: one 429 with Retry-After 99999999, or a budget file with
// pausedUntil 1e300 or ceiling 0, hung every later request).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { governor, MAX_PAUSE_MS } from '../lib/http/governor.js';
import { tempDir } from './helpers/run-cli.js';

const LIMIT = { requests: 10, windowMs: 1000 };

/** A governor on a fake clock whose sleeps advance it; more than `maxSleeps` sleeps is a hang. */
function world(maxSleeps = 20) {
  const stateDir = join(tempDir('governor-'), 'state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  let clock = 1_700_000_000_000;
  const slept: number[] = [];
  const warnings: string[] = [];
  const make = () =>
    governor(stateDir, 'sha256:fingerprint', LIMIT, {
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        if (slept.length > maxSleeps || !Number.isFinite(ms)) throw new Error(`hung: slept ${slept.join(', ')}`);
        clock += ms;
      },
      onWarning: (message) => warnings.push(message),
    });
  const budgetFile = () => join(stateDir, 'rate', readdirSync(join(stateDir, 'rate')).find((n) => n.endsWith('.json'))!);
  return { stateDir, make, slept, warnings, budgetFile, now: () => clock };
}

describe('the governor', () => {
  it(`caps a pause taken from a Retry-After at ${MAX_PAUSE_MS / 1000} s`, async () => {
    const w = world();
    const g = w.make();
    await (await g.acquire())();
    g.pause(99_999_999 * 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await g.acquire();
    assert.ok(w.slept.reduce((a, b) => a + b, 0) <= MAX_PAUSE_MS + 1000, `waited ${w.slept.join(', ')} ms`);
  });

  for (const [what, budget] of [
    ['pausedUntil 1e300', { sent: [], pausedUntil: 1e300 }],
    ['ceiling 0', { sent: [1_700_000_000_000], pausedUntil: 0, ceiling: 0, ceilingUntil: 1_700_000_005_000 }],
    ['ceiling -1', { sent: [1_700_000_000_000], pausedUntil: 0, ceiling: -1, ceilingUntil: 1_700_000_005_000 }],
    ['a send time of 1e300', { sent: Array(10).fill(1e300), pausedUntil: 0 }],
    ['a pause of NaN (as a string)', { sent: [], pausedUntil: 'NaN' }],
  ] as const) {
    it(`reads a budget file with ${what} as absent, with one warning`, async () => {
      const w = world();
      const g = w.make();
      await (await g.acquire())();
      writeFileSync(w.budgetFile(), JSON.stringify(budget));
      await g.acquire();
      await g.acquire();
      assert.deepEqual(w.slept, []);
      assert.equal(w.warnings.length, 1);
      assert.match(w.warnings[0]!, /out of range; it is read as empty/);
    });
  }

  it('still waits for a real pause, and for the budget', async () => {
    const w = world();
    const g = w.make();
    for (let i = 0; i < LIMIT.requests; i++) await g.acquire();
    await g.acquire();
    assert.equal(w.slept.length, 1, 'the eleventh waited');
    g.pause(2000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = w.now();
    await g.acquire();
    assert.ok(w.now() - before >= 2000);
    assert.deepEqual(w.warnings, []);
  });
});
