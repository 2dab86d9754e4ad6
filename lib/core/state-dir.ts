// The private state directory (approvals, audit log, backups): CLERK_BAPI_STATE_DIR, else
// $XDG_STATE_HOME/clerk-bapi, else ~/.local/state/clerk-bapi. Mode 0700, files 0600, because what
// it holds says what was done to a Clerk instance and lets a write through.
import { chmodSync, lstatSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { StateDirUnusableError } from './errors.js';
import { os } from './builtins.js';
import { makeDirs, writeFileAtomic } from './fs-atomic.js';

export const STATE_DIR_VARIABLE = 'CLERK_BAPI_STATE_DIR';

export function defaultStateDir(env: Record<string, string | undefined>, cwd = process.cwd()): string {
  const explicit = env[STATE_DIR_VARIABLE];
  if (explicit !== undefined && explicit !== '') return resolve(cwd, explicit);
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'clerk-bapi');
  return join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : os().homedir(), '.local', 'state', 'clerk-bapi');
}

/** Creates `dir` (and parents) and makes it private: 0700, owned by this user, not a symlink. */
export function ensurePrivateDir(dir: string): string {
  try {
    makeDirs(dir, 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StateDirUnusableError(`cannot create the state directory ${dir} (${code})`, { hints: [`Set ${STATE_DIR_VARIABLE} to a writable directory of your own.`] });
  }
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new StateDirUnusableError(`state directory ${dir} is not a directory`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  if (uid !== null && stat.uid !== uid) {
    throw new StateDirUnusableError(`state directory ${dir} belongs to another user (uid ${stat.uid})`, {
      hints: [`Set ${STATE_DIR_VARIABLE} to a directory of your own.`],
    });
  }
  // A directory others may write to (a 1777 one like /tmp) is shared, not ours to make private.
  if ((stat.mode & 0o1002) !== 0) {
    throw new StateDirUnusableError(`state directory ${dir} is writable by other users (mode ${(stat.mode & 0o7777).toString(8)}); approvals and the audit log cannot be kept there`, {
      hints: [`Set ${STATE_DIR_VARIABLE} to a directory of your own, e.g. ${join(dir, 'clerk-bapi')}.`],
    });
  }
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/** A private subdirectory of the state directory (`approvals`, `backups`, ...). */
export function stateSubdir(stateDir: string, name: string): string {
  ensurePrivateDir(stateDir);
  return ensurePrivateDir(join(stateDir, name));
}

/** Writes a 0600 file atomically (temporary name, then rename), so a reader never sees half of it. */
export function writePrivateFile(path: string, data: string | Buffer): void {
  ensurePrivateDir(dirname(path));
  writeFileAtomic(path, data, 0o600);
}
