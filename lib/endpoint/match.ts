// Stage endpoint: one endpoint of a spec: matching, resolving, validating, diffing, rendering,
// answering. It may import core, spec.
//
// Matching what a user typed (`POST /users`, `/users/user_123 get`, a full URL, a piped record) to one
// endpoint of the index. Pure functions over the summary's endpoint list, shared by the explorers,
// the guard and the executor so that all three agree on what a request means.
import { NotFoundError, UsageError } from '../core/errors.js';
import { HTTP_METHODS, type EndpointSummary } from '../spec/index.js';
import { isObject } from '../core/values.js';
import { parseRequestTarget, type RequestTarget } from './target.js';

export { parseRequestTarget, type RequestTarget } from './target.js';

/** Normalised user input: upper-case method; path with a leading slash, no host, no /v1, query kept. */
export interface EndpointInput {
  method: string;
  path: string;
  /** The scheme and host when the user gave a full URL (e.g. `https://api.clerk.com`), so callers can refuse other hosts. */
  origin?: string;
}

export interface EndpointMatch {
  endpoint: EndpointSummary;
  /** Concrete values of the template's parameters, percent-decoded; placeholders like `{user_id}` give none. */
  pathParams: Record<string, string>;
  /** The path as given, normalised: no /v1 prefix, no query, leading slash, percent-encoding kept. */
  concretePath: string;
  /** Pairs from the URL's query string, in order; [] when there was none. */
  query: Array<[string, string]>;
}

const METHODS = new Set(HTTP_METHODS.map((m) => m.toUpperCase()));

export function isHttpMethod(raw: string): boolean {
  return METHODS.has(raw.trim().toUpperCase());
}

function formatTarget(target: RequestTarget): string {
  if (target.query.length === 0) return target.path;
  return `${target.path}?${new URLSearchParams(target.query).toString()}`;
}

function looksLikePath(raw: string): boolean {
  return raw.includes('/') || /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
}

/**
 * `METHOD PATH` in either order (the old skill scripts passed the path first), any method case,
 * `/v1` optional, a full `https://api.clerk.com/v1/...` URL with a query string, or both in one
 * argument (`"GET /users"`). Throws UsageError on anything else.
 */
export function parseEndpointArgs(args: string[]): EndpointInput {
  let parts = args.map((a) => a.trim()).filter((a) => a !== '');
  if (parts.length === 1) parts = (parts[0] ?? '').split(/\s+/);
  const usage = ['Give METHOD PATH, e.g. `GET /users/{user_id}`, `POST /v1/users` or `GET https://api.clerk.com/v1/users?limit=5`.'];
  if (parts.length === 0) throw new UsageError('missing METHOD and PATH', { hints: usage });
  if (parts.length > 2) throw new UsageError(`expected METHOD PATH, got ${parts.length} arguments: ${parts.join(' ')}`, { hints: usage });
  const [first = '', second] = parts;
  if (second === undefined) {
    if (isHttpMethod(first)) throw new UsageError(`missing PATH after ${first.toUpperCase()}`, { hints: usage });
    throw new UsageError(`missing METHOD for ${first}`, { hints: usage });
  }
  let method: string;
  let rawPath: string;
  if (isHttpMethod(first) && !looksLikePath(first)) [method, rawPath] = [first, second];
  else if (isHttpMethod(second) && !looksLikePath(second)) [method, rawPath] = [second, first];
  else if (looksLikePath(second)) throw new UsageError(`unknown HTTP method: ${first}`, { hints: [`Use one of ${[...METHODS].join(', ')}.`] });
  else if (looksLikePath(first)) throw new UsageError(`unknown HTTP method: ${second}`, { hints: [`Use one of ${[...METHODS].join(', ')}.`] });
  else throw new UsageError(`expected METHOD PATH, got: ${first} ${second}`, { hints: usage });
  const target = parseRequestTarget(rawPath);
  const input: EndpointInput = { method: method.toUpperCase(), path: formatTarget(target) };
  if (target.origin !== undefined) input.origin = target.origin;
  return input;
}

function fromJson(value: unknown): EndpointInput {
  let record = value;
  if (Array.isArray(record)) {
    if (record.length !== 1) throw new UsageError(`expected one endpoint on stdin, got a JSON array of ${record.length}`);
    record = record[0];
  }
  if (!isObject(record)) throw new UsageError('expected a JSON object with `method` and `path` on stdin');
  // A guard verdict or a request document nests the endpoint.
  if (record.method === undefined && record.path === undefined) {
    const nested = isObject(record.request) ? record.request : isObject(record.endpoint) ? record.endpoint : null;
    if (nested) record = nested;
  }
  const { method, path } = record as Record<string, unknown>;
  if (typeof method !== 'string' || typeof path !== 'string') {
    throw new UsageError('expected a JSON object with string fields `method` and `path` on stdin');
  }
  return parseEndpointArgs([method, path]);
}

/**
 * An endpoint read from stdin: a text record `METHOD⇥PATH⇥…` (first non-empty line; `METHOD PATH`
 * with spaces works too) as printed by extract-tag-endpoints, or JSON `{method, path}` (also one
 * NDJSON line, a one-element array, or a document nesting it under `request`/`endpoint`).
 */
export function parseEndpointRecord(text: string): EndpointInput {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError('no endpoint on stdin');
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      const line = trimmed.split(/\r?\n/, 1)[0] ?? '';
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new UsageError(`stdin is not valid JSON: ${(error as Error).message}`);
      }
    }
    return fromJson(value);
  }
  const line = (trimmed.split(/\r?\n/, 1)[0] ?? '').trim();
  const fields = line.includes('\t') ? line.split('\t').slice(0, 2) : line.split(/\s+/).slice(0, 2);
  return parseEndpointArgs(fields);
}

interface SegmentPattern {
  names: string[];
  regex: RegExp | null;
  literal: string;
  /** 2 static, 1 static text around a parameter, 0 a whole-segment parameter. */
  rank: number;
}

const patternCache = new WeakMap<EndpointSummary, SegmentPattern[]>();

function segmentPattern(segment: string): SegmentPattern {
  if (!segment.includes('{')) return { names: [], regex: null, literal: segment, rank: 2 };
  const names: string[] = [];
  const source = segment.replace(/\{([^}]*)\}|([^{]+)/g, (_, name: string | undefined, text: string | undefined) => {
    if (name !== undefined) {
      names.push(name);
      return '([^/]+?)';
    }
    return (text ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  const whole = /^\{[^}]*\}$/.test(segment);
  return { names, regex: new RegExp(`^${source}$`), literal: segment, rank: whole ? 0 : 1 };
}

function templateSegments(endpoint: EndpointSummary): SegmentPattern[] {
  let segments = patternCache.get(endpoint);
  if (!segments) {
    segments = splitPath(endpoint.path).map(segmentPattern);
    patternCache.set(endpoint, segments);
  }
  return segments;
}

/** splitPath(path).length, without building the array: the starts of non-empty segments. */
function segmentCount(path: string): number {
  let count = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) !== 47 && (i === 0 || path.charCodeAt(i - 1) === 47)) count++;
  return count;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const PLACEHOLDER = /^(\{[^}]+\}|:[A-Za-z_][A-Za-z0-9_]*)$/;

/** Ranks per segment when `segments` fit the template, else null. */
function fit(template: SegmentPattern[], segments: string[], params: Record<string, string>): number[] | null {
  if (template.length !== segments.length) return null;
  const ranks: number[] = [];
  for (let i = 0; i < template.length; i++) {
    const pattern = template[i] as SegmentPattern;
    const segment = segments[i] as string;
    if (pattern.regex === null) {
      if (segment !== pattern.literal && decode(segment) !== pattern.literal) return null;
      ranks.push(2);
      continue;
    }
    // The template itself (`{user_id}`, or `:user_id`) names the parameter without a value.
    if (pattern.rank === 0 && PLACEHOLDER.test(decode(segment))) {
      ranks.push(0);
      continue;
    }
    if (segment === pattern.literal) {
      ranks.push(pattern.rank);
      continue;
    }
    const found = pattern.regex.exec(segment);
    if (!found) return null;
    pattern.names.forEach((name, k) => {
      params[name] = decode(found[k + 1] ?? '');
    });
    ranks.push(pattern.rank);
  }
  return ranks;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when the spec has a GET at this template path (a resource can be read: backed up, checked). */
export function hasGet(endpoints: ReadonlyArray<{ method: string; path: string }>, path: string): boolean {
  return endpoints.some((e) => e.method === 'GET' && e.path === path);
}

/**
 * The endpoint an input names: a template or a concrete path, with the same method. A static
 * segment beats a parameter at the first position where candidates differ, so `/users/count` is
 * `GET /users/count`, never `GET /users/{user_id}`. Null when nothing fits.
 */
export function matchEndpoint(endpoints: EndpointSummary[], input: EndpointInput): EndpointMatch | null {
  const method = input.method.trim().toUpperCase();
  const target = parseRequestTarget(input.path);
  const segments = splitPath(target.path);
  // A spec whose own templates start with /v1 (Clerk's Frontend API) is matched with it too: the
  // form the user typed first, then the other.
  const typedV1 = /^\/v1(\/|$)/.test(input.path.trim().replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').replace(/\/{2,}/g, '/'));
  const forms = !hasV1Templates(endpoints) ? [segments] : typedV1 ? [['v1', ...segments], segments] : [segments, ['v1', ...segments]];
  for (const form of forms) {
    const found = bestFit(endpoints, method, form);
    if (found) return { endpoint: found.endpoint, pathParams: found.params, concretePath: form === segments ? target.path : `/v1${target.path === '/' ? '' : target.path}`, query: target.query };
  }
  return null;
}

const v1Templates = new WeakMap<EndpointSummary[], boolean>();

function hasV1Templates(endpoints: EndpointSummary[]): boolean {
  let known = v1Templates.get(endpoints);
  if (known === undefined) {
    known = endpoints.some((e) => e.path === '/v1' || e.path.startsWith('/v1/'));
    v1Templates.set(endpoints, known);
  }
  return known;
}

function bestFit(endpoints: EndpointSummary[], method: string, segments: string[]): { endpoint: EndpointSummary; params: Record<string, string> } | null {
  let best: { endpoint: EndpointSummary; params: Record<string, string>; ranks: number[] } | null = null;
  for (const endpoint of endpoints) {
    // Cheap tests first: most templates differ in method or in their number of segments.
    if (endpoint.method !== method || segmentCount(endpoint.path) !== segments.length) continue;
    const params: Record<string, string> = {};
    const ranks = fit(templateSegments(endpoint), segments, params);
    if (ranks === null) continue;
    if (best === null || compareRanks(ranks, best.ranks) > 0) best = { endpoint, params, ranks };
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function segmentCost(pattern: SegmentPattern, segment: string): number {
  if (pattern.rank === 0) return 0.1;
  if (pattern.regex !== null) return pattern.regex.test(segment) ? 0.1 : 0.8;
  const a = pattern.literal.toLowerCase();
  const b = decode(segment).toLowerCase();
  if (a === b) return 0;
  return Math.min(1, levenshtein(a, b) / Math.max(a.length, b.length));
}

// Edit distance over path segments: a parameter accepts any value cheaply, static segments cost by
// how much their spelling differs, a missing or extra segment costs one.
function pathDistance(template: SegmentPattern[], segments: string[]): number {
  let previous = Array.from({ length: segments.length + 1 }, (_, j) => j);
  for (let i = 1; i <= template.length; i++) {
    const current = [i];
    for (let j = 1; j <= segments.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + segmentCost(template[i - 1] as SegmentPattern, segments[j - 1] as string);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute);
    }
    previous = current;
  }
  return previous[segments.length] ?? 0;
}

/** The `n` endpoints nearest to the input (by path first, method second), nearest first. */
export function closestEndpoints(endpoints: EndpointSummary[], input: EndpointInput, n = 3): EndpointSummary[] {
  const method = input.method.trim().toUpperCase();
  let segments: string[];
  try {
    segments = splitPath(parseRequestTarget(input.path).path);
  } catch {
    segments = splitPath(input.path);
  }
  return endpoints
    .map((endpoint, order) => ({
      endpoint,
      order,
      distance: pathDistance(templateSegments(endpoint), segments) + (endpoint.method === method ? 0 : 0.75),
    }))
    .sort((a, b) => a.distance - b.distance || a.order - b.order)
    .slice(0, Math.max(0, n))
    .map((scored) => scored.endpoint);
}

/** No endpoint of the spec fits the input: exit 2, with the closest ones as data. */
export class EndpointNotFoundError extends NotFoundError {
  static override readonly kind: string = 'EndpointNotFoundError';
  constructor(message: string, readonly closest: EndpointSummary[], options: { hints?: string[] } = {}) {
    super(message, options);
  }
  protected override details(): Record<string, unknown> {
    return { closest: this.closest.map((e) => ({ method: e.method, path: e.path, summary: e.summary })) };
  }
}

/** Like matchEndpoint, but an unknown endpoint is an EndpointNotFoundError (exit 2) naming the closest ones and the version. */
export function findEndpoint(endpoints: EndpointSummary[], input: EndpointInput, version: string): EndpointMatch {
  const found = matchEndpoint(endpoints, input);
  if (found) return found;
  const method = input.method.trim().toUpperCase();
  const path = parseRequestTarget(input.path).path;
  const closest = closestEndpoints(endpoints, input, 3);
  const hints = closest.length === 0 ? [] : ['Closest endpoints:', ...closest.map((e) => `  ${e.method} ${e.path}${e.summary ? `  (${e.summary})` : ''}`)];
  hints.push(`Browse them with: extract-tag-endpoints --api-version ${version} --grep WORD`);
  throw new EndpointNotFoundError(`no endpoint ${method} ${path} in spec version ${version}`, closest, { hints });
}

function tagKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/**
 * The tag a user named: case-insensitive, and forgiving about spaces and punctuation
 * (`email-addresses`, `EmailAddresses` → `Email Addresses`). Unknown: NotFoundError naming the closest tags.
 */
export function findTag(tags: string[], rawName: string, version: string): string {
  const wanted = rawName.trim();
  if (wanted === '') throw new UsageError('empty TAG');
  const exact = tags.find((t) => t === wanted) ?? tags.find((t) => t.toLowerCase() === wanted.toLowerCase()) ?? tags.find((t) => tagKey(t) === tagKey(wanted));
  if (exact !== undefined) return exact;
  const key = tagKey(wanted);
  const closest = tags
    .map((tag, order) => {
      const k = tagKey(tag);
      const contains = k.includes(key) || (k.length > 0 && key.includes(k));
      return { tag, order, distance: contains ? 0 : levenshtein(k, key) / Math.max(k.length, key.length, 1) };
    })
    .sort((a, b) => a.distance - b.distance || a.order - b.order)
    .slice(0, 3)
    .map((c) => c.tag);
  throw new NotFoundError(`unknown tag ${JSON.stringify(wanted)} in spec version ${version}`, {
    hints: [`Closest tags: ${closest.join(', ')}`, 'List them all with: extract-tags'],
  });
}

/** Endpoints of a tag (all when null) that match every grep word and one of the methods. */
export function filterEndpoints(endpoints: EndpointSummary[], tag: string | null, grep: string[], methods: string[]): EndpointSummary[] {
  return endpoints.filter((e) => {
    if (tag !== null && !e.tags.includes(tag)) return false;
    if (methods.length > 0 && !methods.includes(e.method)) return false;
    if (grep.length === 0) return true;
    const haystack = [e.path, e.summary, e.operationId ?? '', ...e.tags].join('\n').toLowerCase();
    return grep.every((word) => haystack.includes(word));
  });
}
