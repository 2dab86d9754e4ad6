// `make published`: adds the git blob sha of every spec file of a source laid out like
// clerk/openapi-specs (CLERK_SPECS_SOURCE, e.g. ../shared/clerk-openapi-specs) to
// specs/published.json. The guard treats a spec whose sha is listed there as one Clerk published;
// any other spec (a --spec file, an unknown file in a local source) is unverified. Shas are only
// added, never removed: a version Clerk once published stays published.
//
//   CLERK_SPECS_SOURCE=DIR node --import tsx tools/published.ts [--check]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitBlobSha } from '../lib/spec/git-blob.js';
import type { PublishedFile } from '../lib/spec/published.js';

export const PUBLISHED_FILE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'specs', 'published.json');
const FAMILIES = ['bapi', 'webhooks'];

/** `bapi/2025-11-10.yml` → sha for every version file of the source. */
export function shasOf(sourceDir: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const family of FAMILIES) {
    let names: string[] = [];
    try {
      names = readdirSync(join(sourceDir, family));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => /^\d{4}-\d{2}-\d{2}\.yml$/.test(n)).sort()) found[`${family}/${name}`] = gitBlobSha(readFileSync(join(sourceDir, family, name)));
  }
  return found;
}

function main(): number {
  const source = process.env.CLERK_SPECS_SOURCE;
  if (!source) {
    process.stderr.write('published: set CLERK_SPECS_SOURCE to a checkout of clerk/openapi-specs\n');
    return 2;
  }
  const file = JSON.parse(readFileSync(PUBLISHED_FILE, 'utf8')) as PublishedFile;
  const found = shasOf(resolve(source));
  const missing = Object.entries(found).filter(([path, sha]) => !(file.files[path] ?? []).includes(sha));
  if (process.argv.includes('--check')) {
    for (const [path, sha] of missing) process.stderr.write(`published: ${path} (${sha}) is not in specs/published.json\n`);
    return missing.length === 0 ? 0 : 1;
  }
  for (const [path, sha] of missing) file.files[path] = [...(file.files[path] ?? []), sha];
  file.files = Object.fromEntries(Object.entries(file.files).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(PUBLISHED_FILE, `${JSON.stringify(file, null, 2)}\n`);
  process.stderr.write(`published: ${missing.length} sha${missing.length === 1 ? '' : 's'} added\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
