// What a request permanently destroys. The curated knowledge lives in specs/destroys.json; an
// endpoint it does not know (a future spec version) gets a list derived from its own summary and
// description, so a new DELETE is never waved through as harmless.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { endpointKey } from '../spec/index.js';

export interface DestroysEntry {
  destroys: string[];
  /** What is taken away until another request gives it back (a ban's sign-in ability). */
  reversible?: string[];
  note: string | null;
}

export interface DestroysFile {
  format: number;
  endpoints: Record<string, DestroysEntry>;
}

export interface Destruction {
  destructive: boolean;
  /** What is permanently lost; empty when not destructive. */
  destroys: string[];
  /** What is revoked but can be given back by another request. */
  reversible: string[];
  /** What can and cannot be undone, when known. */
  note: string | null;
  /** `curated` from specs/destroys.json, `derived` from the spec's text, `none` when not destructive. */
  source: 'curated' | 'derived' | 'none';
}

export interface EndpointText {
  method: string;
  path: string;
  summary?: string;
  description?: string;
}

let cached: DestroysFile | undefined;

/** specs/destroys.json, found from lib/ (tsx) or dist/lib/ (built). */
export function destroysFilePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'specs', 'destroys.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('specs/destroys.json is missing from the package');
}

export function loadDestroys(): DestroysFile {
  if (cached) return cached;
  const parsed = JSON.parse(readFileSync(destroysFilePath(), 'utf8')) as DestroysFile;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.endpoints !== 'object') {
    throw new Error('specs/destroys.json has no `endpoints` object');
  }
  cached = parsed;
  return parsed;
}

// Verbs that mark a non-DELETE write as destructive when they name the action (path segment or summary).
const DESTRUCTIVE_VERBS = new Set([
  'revoke', 'revokes', 'ban', 'bans', 'lock', 'locks', 'rotate', 'rotates', 'reset', 'resets', 'cancel', 'cancels',
  'remove', 'removes', 'delete', 'deletes', 'disable', 'disables', 'purge', 'purges', 'invalidate', 'invalidates',
  'expire', 'expires', 'reject', 'rejects', 'revert', 'reverts', 'replace', 'replaces', 'destroy', 'destroys',
]);

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z]+/).filter(Boolean);
}

/** True when a non-DELETE endpoint's own path or summary names a destructive action. */
export function looksDestructive(endpoint: EndpointText): boolean {
  if (endpoint.method.toUpperCase() === 'DELETE') return true;
  if (endpoint.method.toUpperCase() === 'GET' || endpoint.method.toUpperCase() === 'HEAD') return false;
  const staticSegments = endpoint.path.split('/').filter((s) => s !== '' && !s.startsWith('{'));
  const last = staticSegments.at(-1) ?? '';
  const summaryVerb = words(endpoint.summary ?? '')[0] ?? '';
  return words(last).some((w) => DESTRUCTIVE_VERBS.has(w)) || DESTRUCTIVE_VERBS.has(summaryVerb);
}

const CONSEQUENCE = /\b(delet|remov|revok|clear|stop|cancel|disabl|invalidat|no longer|reject|not reversible|irreversib|replac|lose|lost)/i;

/** A destroys list from the spec's own words, for endpoints the curated file does not know. */
export function deriveDestruction(endpoint: EndpointText): string[] {
  const summary = (endpoint.summary ?? '').trim().replace(/\.$/, '');
  const params = [...endpoint.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const last = params.at(-1);
  const object = summary
    .split(/\s+/)
    .slice(1)
    .join(' ')
    .replace(/^(a|an|the|all|all the)\s+/i, '');
  const segment = endpoint.path.split('/').filter((s) => s !== '' && !s.startsWith('{')).at(-1) ?? 'resource';
  const head = object !== '' ? `the ${object}` : `the ${segment.replace(/_/g, ' ')}`;
  const list = [`${head}${last ? ` identified by {${last}}` : ''}`];
  const sentences = (endpoint.description ?? '')
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && CONSEQUENCE.test(s) && s.toLowerCase().replace(/\.$/, '') !== summary.toLowerCase());
  for (const sentence of sentences.slice(0, 4)) list.push(`per the spec: ${sentence}`);
  return list;
}

/** What this endpoint destroys: curated when known, derived from the spec for a destructive endpoint otherwise. */
export function destructionFor(endpoint: EndpointText, file: DestroysFile = loadDestroys()): Destruction {
  const entry = file.endpoints[endpointKey(endpoint.method, endpoint.path)];
  if (entry) return { destructive: true, destroys: [...entry.destroys], reversible: [...(entry.reversible ?? [])], note: entry.note ?? null, source: 'curated' };
  if (!looksDestructive(endpoint)) return { destructive: false, destroys: [], reversible: [], note: null, source: 'none' };
  return {
    destructive: true,
    destroys: deriveDestruction(endpoint),
    reversible: [],
    note: 'No curated entry for this endpoint in specs/destroys.json; this list is derived from the spec\'s own summary and description. Read the endpoint\'s documentation before confirming.',
    source: 'derived',
  };
}
