// Part of `make build`: the index of the shipped snapshot's Backend API spec, built once into
// dist/snapshot/index/ (the store's own format), so that the first answer from the snapshot reads an
// index instead of parsing 700 KB of YAML.
//
//   node --import tsx tools/snapshot-index.ts
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshotBytes, snapshotEntries } from '../lib/spec/snapshot.js';
import { SpecStore } from '../lib/spec/store.js';

const OUT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'dist', 'snapshot');

async function main(): Promise<number> {
  rmSync(OUT, { recursive: true, force: true });
  const entries = snapshotEntries();
  const store = new SpecStore({ dir: OUT, source: { kind: 'local', dir: OUT }, offline: true, refresh: false, warn: (message) => process.stderr.write(`${message}\n`) });
  for (const entry of entries) await store.indexText(snapshotBytes(entry).toString('utf8'), entry.version, entry.name);
  // Only the index ships: the store keeps nothing else there.
  for (const name of ['specs', 'locks']) rmSync(join(OUT, name), { recursive: true, force: true });
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
