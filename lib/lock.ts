// A lock file so that concurrent processes on an empty store do expensive work (download, YAML parse)
// once: the first one works, the others wait for its result. A lock whose holder died goes stale.
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { ensureDir } from './fs-atomic.js';
import { dirname } from 'node:path';

export interface LockOptions {
  /** After this long a lock is presumed abandoned. */
  staleMs?: number;
  pollMs?: number;
}

/**
 * Runs `work` holding the lock at `lockPath`, unless `ready()` finds the result made by another holder
 * first. Returns whatever `ready()` or `work()` gives.
 */
export async function withLock<T>(lockPath: string, ready: () => T | null, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 120_000;
  const pollMs = options.pollMs ?? 40;
  ensureDir(dirname(lockPath));
  for (;;) {
    const done = ready();
    if (done !== null) return done;
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > staleMs) rmSync(lockPath, { force: true });
      } catch {
        // gone between open and stat: try again
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const again = ready();
      if (again !== null) return again;
      return await work();
    } finally {
      rmSync(lockPath, { force: true });
    }
  }
}
