// Whether a spec is one Clerk published: its git blob sha is in specs/published.json (shipped with
// the toolkit), or it came from the official repository over HTTPS. Any other spec (a --spec file,
// an unknown file in a local CLERK_SPECS_SOURCE, a GitHub imitation) is unverified, and the guard
// says so: a crafted spec can describe any path as harmless.
import { readPackageData } from '../core/package-data.js';
import type { SpecSource } from './source.js';

export interface PublishedFile {
  $comment?: string;
  format: number;
  /** `bapi/2025-11-10.yml` → the shas that path had. */
  files: Record<string, string[]>;
}

export const OFFICIAL_API_URL = 'https://api.github.com';

let known: Set<string> | undefined;

/** The shas of every spec file Clerk published that this toolkit knows. */
export function publishedShas(): Set<string> {
  known ??= new Set(Object.values(readPackageData<PublishedFile>('published.json')?.files ?? {}).flat());
  return known;
}

export interface Provenance {
  published: boolean;
  /** Why, in words: `a published spec (sha …)`, `downloaded from GitHub over HTTPS`, or why not. */
  reason: string;
}

/**
 * The provenance of a spec file with git blob sha `sha`, from `source` (null: a --spec file or
 * stdin). A spec listed by the official GitHub API over HTTPS is published even when this build does
 * not know its sha yet (a version newer than the toolkit).
 */
export function provenanceOf(sha: string, source: SpecSource | null): Provenance {
  if (publishedShas().has(sha)) return { published: true, reason: `a spec Clerk published (sha ${sha.slice(0, 12)})` };
  if (source?.kind === 'github' && source.apiUrl === OFFICIAL_API_URL) return { published: true, reason: 'listed by clerk/openapi-specs on GitHub over HTTPS' };
  const where = source === null ? 'a spec given with --spec or on stdin' : source.kind === 'local' ? `a file of CLERK_SPECS_SOURCE (${source.dir})` : `a spec listed by ${source.apiUrl}, not GitHub`;
  return { published: false, reason: `${where} whose sha (${sha.slice(0, 12)}) is not one Clerk published` };
}
