// Files that other processes may read at any moment: written to a temporary name and renamed into
// place, so a reader sees the old file or the new one, never half of one.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function ensureDir(dir: string, mode = 0o755): void {
  makeDirs(dir, mode);
}

/**
 * mkdir -p, one level at a time from the nearest existing ancestor. Node's recursive mkdir retries
 * for ever where a parent exists but a child cannot be made and says ENOENT (under /proc): this
 * fails with that error instead.
 */
export function makeDirs(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); ) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
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

/** Why readBoundedFile refused: not a regular file (a directory, a device such as /dev/zero), or larger than allowed. */
export class FileShapeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: 'not-a-file' | 'too-large',
    readonly size: number,
  ) {
    super(reason === 'not-a-file' ? `${path} is not a regular file` : `${path} is ${size} bytes, more than allowed`);
  }
}

/**
 * A regular file's bytes, at most `maxBytes` of them: a directory, a device or a FIFO put where a
 * file should be, or a file beyond the limit, is refused before anything is read (reading /dev/zero
 * never ends). ENOENT and other errors are thrown as they are.
 */
export function readBoundedFile(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new FileShapeError(path, 'not-a-file', 0);
    if (stat.size > maxBytes) throw new FileShapeError(path, 'too-large', stat.size);
    const buffer = Buffer.alloc(stat.size);
    let offset = 0;
    while (offset < stat.size) {
      const read = readSync(fd, buffer, offset, stat.size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return offset === stat.size ? buffer : buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}
