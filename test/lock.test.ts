// The store's lock: a holder that died is taken over at once, and a wait for a live one is announced.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { withLock } from '../lib/core/lock.js';
import { tempDir } from './helpers/run-cli.js';

describe('withLock', () => {
  it('takes over the lock of a process that no longer runs, without waiting for staleness', async () => {
    const lock = join(tempDir('lock-'), 'x.lock');
    const exited = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(lock, String(exited.stdout));
    const result = await withLock(lock, () => null, async () => 'built', { staleMs: 3_600_000 });
    assert.equal(result, 'built');
  });

  it('says once whom it waits for while a live process holds the lock', async () => {
    const lock = join(tempDir('lock-'), 'x.lock');
    const holder = execa(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    writeFileSync(lock, String(holder.pid));
    const told: Array<number | null> = [];
    let ready: string | null = null;
    setTimeout(() => (ready = 'made by the holder'), 400);
    const result = await withLock(lock, () => ready, async () => 'built', { waitNoticeMs: 100, pollMs: 20, onWait: (pid) => told.push(pid) });
    holder.kill();
    await holder.catch(() => undefined);
    assert.equal(result, 'made by the holder');
    assert.deepEqual(told, [holder.pid]);
  });
});
