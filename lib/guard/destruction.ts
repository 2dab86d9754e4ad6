// What a request permanently destroys. The curated knowledge lives in specs/destroys.json; an
// endpoint it does not know (a future spec version) gets a list derived from its own summary and
// description, so a new DELETE is never waved through as harmless.
import { readFileSync } from 'node:fs';
import { packageDataPath } from '../core/package-data.js';
import { isObject } from '../core/values.js';
import { matchEndpoint } from '../endpoint/match.js';
import { endpointKey, type EndpointSummary } from '../spec/index.js';

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
  const path = packageDataPath('destroys.json');
  if (path === null) throw new Error('specs/destroys.json is missing from the package');
  return path;
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

/**
 * What a summary's verb acts on, as a noun phrase: "Delete one of a user's agent credentials" → "one
 * of the user's agent credentials", "Delete all the user's TOTPs" → "all of the user's TOTPs",
 * "Delete multiple users" → "the users", "Revoke the given sign-in token" → "the sign-in token".
 */
function objectOf(summary: string): string | null {
  let rest = summary.split(/\s+/).slice(1).join(' ');
  let quantity = '';
  for (;;) {
    const one = /^one of\s+/i.exec(rest);
    const all = /^all(\s+of)?\s+/i.exec(rest);
    const word = /^(a|an|the|given|multiple)\s+/i.exec(rest);
    const found = one ?? all ?? word;
    if (!found) break;
    if (one) quantity = 'one of ';
    else if (all) quantity = 'all of ';
    rest = rest.slice(found[0].length);
  }
  return rest === '' ? null : `${quantity}the ${rest}`;
}

/** A destroys list from the spec's own words, for endpoints the curated file does not know. */
export function deriveDestruction(endpoint: EndpointText): string[] {
  const summary = (endpoint.summary ?? '').trim().replace(/\.$/, '');
  const params = [...endpoint.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const last = params.at(-1);
  const segment = endpoint.path.split('/').filter((s) => s !== '' && !s.startsWith('{')).at(-1) ?? 'resource';
  const list = [`${objectOf(summary) ?? `the ${segment.replace(/_/g, ' ')}`}${last ? ` identified by {${last}}` : ''}`];
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

const curatedTemplates = new WeakMap<DestroysFile, EndpointSummary[]>();

/** The curated list's own templates, as endpoints to match a concrete path against. */
function curatedEndpoints(file: DestroysFile): EndpointSummary[] {
  let endpoints = curatedTemplates.get(file);
  if (!endpoints) {
    endpoints = Object.keys(file.endpoints).map((key) => {
      const [method = '', path = ''] = key.split(' ');
      return { method, path, operationId: null, summary: '', tags: [], deprecated: false, platform: false };
    });
    curatedTemplates.set(file, endpoints);
  }
  return endpoints;
}

// A Clerk id (`user_2NNEqL2nrIRdJ194ndJqAHwEfxC`): random letters that may spell a verb by chance.
const CLERK_ID = /^[a-z]+_[A-Za-z0-9]{20,}$/;

/**
 * What a request to a concrete path destroys, judged on the path itself rather than on the template a
 * spec matched it to: the curated list matched by its own templates, whatever the spec says, and a
 * destructive verb in any segment that is not a Clerk id (`POST /users/u1/ban` against a spec whose
 * template is `/users/{a}/{b}`). Texts name the concrete ids. `trustedTemplate`, the template of a
 * published spec, keeps its parameter values out of the verb check (a slug is not an action).
 */
export function destructionByPath(method: string, concretePath: string, trustedTemplate: string | null = null, file: DestroysFile = loadDestroys()): Destruction {
  const upper = method.toUpperCase();
  const none: Destruction = { destructive: false, destroys: [], reversible: [], note: null, source: 'none' };
  if (upper === 'GET' || upper === 'HEAD') return none;
  const match = matchEndpoint(curatedEndpoints(file), { method: upper, path: concretePath });
  if (match) {
    const entry = file.endpoints[endpointKey(match.endpoint.method, match.endpoint.path)] as DestroysEntry;
    const concrete = (text: string) => text.replace(/\{([^}]+)\}/g, (whole, name: string) => match.pathParams[name] ?? whole);
    return { destructive: true, destroys: entry.destroys.map(concrete), reversible: (entry.reversible ?? []).map(concrete), note: entry.note === null ? null : concrete(entry.note), source: 'curated' };
  }
  const segments = concretePath.split('/').filter((s) => s !== '');
  const template = trustedTemplate?.split('/').filter((s) => s !== '') ?? [];
  const actions = segments.filter((segment, i) => !CLERK_ID.test(segment) && !(template[i]?.startsWith('{') ?? false));
  const verb = actions.flatMap(words).find((w) => DESTRUCTIVE_VERBS.has(w));
  if (upper !== 'DELETE' && verb === undefined) return none;
  return {
    destructive: true,
    destroys: [`what ${upper} ${concretePath} ${verb === undefined ? 'deletes' : `does (its path says "${verb}")`}: no curated entry says what is lost`],
    reversible: [],
    note: 'The path names a destructive action that the curated list in specs/destroys.json does not know; read the endpoint\'s documentation before confirming.',
    source: 'derived',
  };
}

/** The keys of `before` that `after` does not have, as dotted paths (a replaced object loses them). */
export function lostKeys(before: unknown, after: unknown, prefix = '', out: string[] = []): string[] {
  if (!isObject(before)) return out;
  for (const [key, value] of Object.entries(before)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (!isObject(after) || !Object.hasOwn(after, key)) out.push(path);
    else if (isObject(value)) lostKeys(value, after[key], path, out);
  }
  return out;
}

/** Both judgements of what a request destroys, as one: destructive when either says so, every item once. */
export function combineDestruction(a: Destruction, b: Destruction): Destruction {
  if (!b.destructive) return a;
  if (!a.destructive) return b;
  const unique = (items: string[]) => [...new Set(items)];
  const source = a.source === 'curated' || b.source === 'curated' ? 'curated' : 'derived';
  return {
    destructive: true,
    destroys: unique([...a.destroys, ...b.destroys]),
    reversible: unique([...a.reversible, ...b.reversible]),
    note: a.source === 'curated' ? a.note : b.note ?? a.note,
    source,
  };
}
