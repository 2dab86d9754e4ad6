// The spec snapshot shipped with the toolkit (specs/snapshot/, made by `make snapshot`): Clerk's latest
// published Backend API spec (and webhooks spec) as of the release, compressed, with their git blob
// shas and Clerk's LICENSE. The store uses it only when nothing better is there: no list of versions
// cached and GitHub unreachable. Its index is built at `make build` (dist/snapshot/), so the first
// answer from it is as fast as a warm one.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zlib } from '../core/builtins.js';
import { UnavailableError } from '../core/errors.js';
import { packageVersion } from '../core/version.js';
import { gitBlobSha } from './git-blob.js';
import type { VersionEntry } from './source.js';

export interface SnapshotFile {
  /** `bapi` or `webhooks`. */
  family: string;
  version: string;
  /** As in clerk/openapi-specs: `bapi/2026-05-12.yml`. */
  name: string;
  sha: string;
  size: number;
  /** The compressed file beside snapshot.json. */
  file: string;
}

export interface SnapshotManifest {
  format: number;
  files: SnapshotFile[];
}

export const SNAPSHOT_SOURCE = 'snapshot';

/** The first folder named `relative` above this module (lib/ under tsx, dist/scripts or dist/lib built). */
function packagePath(relative: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

let manifest: { dir: string; files: SnapshotFile[] } | null | undefined;

/** The shipped snapshot's manifest and folder; null when this build has none. */
export function snapshotManifest(): { dir: string; files: SnapshotFile[] } | null {
  if (manifest !== undefined) return manifest;
  const path = packagePath(join('specs', 'snapshot', 'snapshot.json'));
  if (path === null) return (manifest = null);
  try {
    manifest = { dir: dirname(path), files: (JSON.parse(readFileSync(path, 'utf8')) as SnapshotManifest).files };
  } catch {
    manifest = null;
  }
  return manifest;
}

/** The snapshot's Backend API (or webhooks) versions as store entries (location: the compressed file); [] without a snapshot. */
export function snapshotEntries(family: 'bapi' | 'webhooks' = 'bapi'): VersionEntry[] {
  const found = snapshotManifest();
  if (!found) return [];
  return found.files.filter((f) => f.family === family).map((f) => ({ version: f.version, name: `${f.version}.yml`, sha: f.sha, size: f.size, location: join(found.dir, f.file), snapshot: true }));
}

/** The spec text of a snapshot entry, checked against its sha. */
export function snapshotBytes(entry: VersionEntry): Buffer {
  const bytes = zlib().gunzipSync(readFileSync(entry.location));
  if (gitBlobSha(bytes) !== entry.sha) throw new UnavailableError(`the spec snapshot ${entry.location} does not match its sha; reinstall clerk-bapi-toolkit`);
  return bytes;
}

/** Where `make build` put the snapshot's prebuilt index files; null when it did not. */
export function snapshotIndexDir(): string | null {
  return packagePath(join('dist', 'snapshot', 'index'));
}

/** What to tell a person, once, when the store answers from the snapshot. */
export function snapshotNotice(entries: VersionEntry[]): string {
  const versions = entries.map((e) => e.version).join(', ');
  return `using the spec snapshot shipped with clerk-bapi-toolkit ${packageVersion()}: BAPI ${versions}; run with network access (or set CLERK_SPECS_SOURCE) for newer versions`;
}
