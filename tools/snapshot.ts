// `make snapshot`: specs/snapshot/ from a spec source laid out like clerk/openapi-specs
// (CLERK_SPECS_SOURCE, e.g. ../shared/clerk-openapi-specs): the latest Backend API version and the
// latest webhooks version, gzip-compressed (reproducibly: no name, no time in the header), a
// manifest with their git blob shas, and Clerk's LICENSE beside them. Regenerated, never edited.
// These are the only Clerk spec files the repository holds.
//
//   CLERK_SPECS_SOURCE=DIR node --import tsx tools/snapshot.ts
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { gitBlobSha } from '../lib/spec/git-blob.js';
import type { SnapshotFile, SnapshotManifest } from '../lib/spec/snapshot.js';

const SNAPSHOT_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'specs', 'snapshot');

function latest(sourceDir: string, family: string): string | null {
  let names: string[];
  try {
    names = readdirSync(join(sourceDir, family)).filter((n) => /^\d{4}-\d{2}-\d{2}\.yml$/.test(n)).sort();
  } catch {
    return null;
  }
  return names.at(-1) ?? null;
}

function main(): number {
  const source = process.env.CLERK_SPECS_SOURCE;
  if (!source) {
    process.stderr.write('snapshot: set CLERK_SPECS_SOURCE to a checkout of clerk/openapi-specs\n');
    return 2;
  }
  const dir = resolve(source);
  rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const files: SnapshotFile[] = [];
  for (const family of ['bapi', 'webhooks']) {
    const name = latest(dir, family);
    if (name === null) continue;
    const bytes = readFileSync(join(dir, family, name));
    const version = name.slice(0, -'.yml'.length);
    const file = `${family}-${version}.yml.gz`;
    writeFileSync(join(SNAPSHOT_DIR, file), gzipSync(bytes, { level: 9 }));
    files.push({ family, version, name: `${family}/${name}`, sha: gitBlobSha(bytes), size: bytes.length, file });
  }
  writeFileSync(join(SNAPSHOT_DIR, 'LICENSE'), readFileSync(join(dir, 'LICENSE')));
  const manifest: SnapshotManifest = { format: 1, files };
  writeFileSync(join(SNAPSHOT_DIR, 'snapshot.json'), `${JSON.stringify({ $comment: "Clerk's specs (MIT, see LICENSE) as shipped with this toolkit, from clerk/openapi-specs. Made by `make snapshot`; never edited.", ...manifest }, null, 2)}\n`);
  process.stderr.write(`snapshot: ${files.map((f) => f.name).join(', ')}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
