import { createHash } from 'node:crypto';

/** The git blob sha of some bytes: what GitHub's contents API reports as `sha` for a file. */
export function gitBlobSha(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
