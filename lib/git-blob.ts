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
 * A 64-bit checksum of a string (two 32-bit FNV-1a variants), to notice truncated or damaged store
 * files. Not a defence against tampering; it only has to be cheaper than loading node:crypto.
 */
export function checksum(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
