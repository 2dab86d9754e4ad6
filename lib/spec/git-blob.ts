import { crypto } from '../core/builtins.js';

/** The git blob sha of some bytes: what GitHub's contents API reports as `sha` for a file. */
export function gitBlobSha(bytes: Buffer): string {
  return crypto().createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}


// FNV-1a over bytes, as a 92-byte WebAssembly module: the store checks every file it reads with it,
// and on the warm path loading node:zlib for a CRC (1.7 ms) cost more than a listing command's own
// work. Instantiating this takes ~0.4 ms and hashes 50 KB in under 0.1 ms. (The module: one function
// h(len) folding memory[0..len) into FNV-1a, and its memory m.)
const FNV_WASM = 'AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEAAQcJAgFoAAABbQIACjYBNAECf0HFu/KIeCECAkADQCABIABPDQEgAiABLQAAc0GTg4AIbCECIAFBAWohAQwACwsgAgs=';

// The WebAssembly global, typed for what is used here (the project's TypeScript libs have no DOM types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

interface FnvModule {
  h(length: number): number;
  m: { buffer: ArrayBuffer; grow(pages: number): number };
}

let fnvModule: FnvModule | null | undefined;

function fnvWasm(): FnvModule | null {
  if (fnvModule === undefined) {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(FNV_WASM, 'base64')), {});
      fnvModule = instance.exports as unknown as FnvModule;
    } catch {
      fnvModule = null; // no WebAssembly (node --jitless): the same hash in JavaScript
    }
  }
  return fnvModule;
}

/** FNV-1a (32 bits) of some bytes; the same value with or without WebAssembly. */
export function fnv1a(bytes: Uint8Array): number {
  const wasm = fnvWasm();
  if (wasm) {
    const missing = Math.ceil(bytes.length / 65536) - wasm.m.buffer.byteLength / 65536;
    if (missing > 0) wasm.m.grow(missing);
    new Uint8Array(wasm.m.buffer, 0, bytes.length).set(bytes);
    return wasm.h(bytes.length) >>> 0;
  }
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

/** A checksum of a store file's body, to notice a truncated or damaged file (not a defence against tampering). */
export function checksum(data: string | Uint8Array): string {
  return fnv1a(typeof data === 'string' ? Buffer.from(data) : data).toString(16).padStart(8, '0');
}

/** A short, stable FNV-1a hash of a short string, for file names (not for integrity). */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
