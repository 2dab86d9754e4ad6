// Files that other processes may read at any moment: written to a temporary name and renamed into
// place, so a reader sees the old file or the new one, never half of one.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function ensureDir(dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
}

let tempCounter = 0;

export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  ensureDir(dirname(path));
  const temp = `${path}.${process.pid}.${(tempCounter++).toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    // 'wx': never write through something already at the temporary name (a planted link).
    writeFileSync(temp, data, { mode, flag: 'wx' });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** True for errors that mean "this place cannot be written", as opposed to a bug. */
export function isUnwritable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC' || code === 'ENOTDIR' || code === 'EEXIST';
}
