// A lock file so that concurrent processes on an empty store do expensive work (download, YAML parse)
// once: the first one works, the others wait for its result. A lock whose holder died goes stale.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { ensureDir } from './fs-atomic.js';
import { dirname } from 'node:path';

export interface LockOptions {
  /** After this long a lock is presumed abandoned. */
  staleMs?: number;
  pollMs?: number;
  /** Told once, after `waitNoticeMs`, that another process holds the lock (its PID), so a wait is never silent. */
  onWait?: (holder: number | null) => void;
  waitNoticeMs?: number;
}

/** The PID written in a lock file; null when unreadable. */
function lockHolder(lockPath: string): number | null {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** False only when no process has that PID any more (kill -9, a crash): its lock is abandoned. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding the lock at `lockPath`, unless `ready()` finds the result made by another holder
 * first. Returns whatever `ready()` or `work()` gives.
 */
export async function withLock<T>(lockPath: string, ready: () => T | null, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 120_000;
  const pollMs = options.pollMs ?? 40;
  const started = Date.now();
  let told = false;
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
        const age = Date.now() - statSync(lockPath).mtimeMs;
        const holder = lockHolder(lockPath);
        // A holder that died leaves its lock behind; one that is alive gets staleMs before we presume it stuck.
        // (A lock younger than a second may not have its PID written yet.)
        if (age > staleMs || (holder !== null && holder !== process.pid && !isAlive(holder)) || (holder === null && age > 1000)) {
          rmSync(lockPath, { force: true });
          continue;
        }
        if (!told && options.onWait && Date.now() - started > (options.waitNoticeMs ?? 1000)) {
          told = true;
          options.onWait(holder);
        }
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
