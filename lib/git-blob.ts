// node:crypto costs milliseconds to load, and the warm path of the explorers never needs it: it is
// fetched on first use, not imported at start-up.
function crypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}

/** The git blob sha of some bytes: what GitHub's contents API reports as `sha` for a file. */
export function gitBlobSha(bytes: Buffer): string {
  return crypto().createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}


/**
 * A CRC-32 of a store file's body, to notice a truncated or damaged file. Not a defence against
 * tampering; it only has to be cheaper than loading node:crypto (zlib's native crc32: ~0.1 ms).
 */
export function checksum(data: string | Uint8Array): string {
  const { crc32 } = process.getBuiltinModule('node:zlib');
  return (crc32(data) >>> 0).toString(16).padStart(8, '0');
}

/** A short, stable FNV-1a hash of a short string, for file names (not for integrity). */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
