// The index: what every command needs from one spec version, extracted once and kept as JSON so that
// later commands never parse YAML. Two parts: a small summary (tags, endpoint list) that the fast
// listing commands read, and the detail (raw operations and components, `$ref`s intact) for the rest.
import { isObject, type Obj } from '../core/values.js';

export const INDEX_FORMAT = 2;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface EndpointSummary {
  /** Upper case: GET, POST, ... */
  method: string;
  /** The spec's template, e.g. /users/{user_id} */
  path: string;
  operationId: string | null;
  summary: string;
  tags: string[];
  deprecated: boolean;
  /** Concerns Clerk's platform API (path or tag); hidden unless --include-platform. */
  platform: boolean;
}

export interface TagSummary {
  name: string;
  description: string;
  platform: boolean;
}

export interface SpecSummary {
  format: typeof INDEX_FORMAT;
  version: string;
  sha: string;
  title: string;
  openapi: string;
  tags: TagSummary[];
  endpoints: EndpointSummary[];
}

export interface EndpointRaw {
  method: string;
  path: string;
  operationId: string | null;
  summary: string;
  description: string;
  tags: string[];
  deprecated: boolean;
  /** Path-item and operation parameters merged (operation wins), each raw: an object or a {$ref}. */
  parameters: unknown[];
  /** Raw request body object or {$ref}; null when the operation takes none. */
  requestBody: unknown;
  /** Raw responses by status code, each an object or a {$ref}. */
  responses: Record<string, unknown>;
  /** The operation exactly as in the spec (for --yaml). */
  operation: Record<string, unknown>;
}

export interface SpecDetail {
  format: typeof INDEX_FORMAT;
  version: string;
  sha: string;
  /** Keyed by endpointKey(method, path). */
  endpoints: Record<string, EndpointRaw>;
  /** The spec's `components`, as is. */
  components: Record<string, Record<string, unknown>>;
}

export interface SpecIndex {
  summary: SpecSummary;
  detail: SpecDetail;
}

export function endpointKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const PLATFORM = /(^|[^a-z])platform([^a-z]|$)/i;

export function isPlatform(path: string, tags: string[]): boolean {
  return PLATFORM.test(path) || tags.some((tag) => PLATFORM.test(tag));
}

function parameterIdentity(parameter: unknown, components: Obj): string | null {
  let resolved: unknown = parameter;
  if (isObject(parameter) && typeof parameter.$ref === 'string') {
    const name = parameter.$ref.replace(/^#\/components\/parameters\//, '');
    resolved = isObject(components.parameters) ? components.parameters[name] : undefined;
  }
  if (!isObject(resolved)) return null;
  return `${text(resolved.in)}:${text(resolved.name)}`;
}

function mergeParameters(pathLevel: unknown, operationLevel: unknown, components: Obj): unknown[] {
  const merged = new Map<string, unknown>();
  const unnamed: unknown[] = [];
  for (const list of [pathLevel, operationLevel]) {
    if (!Array.isArray(list)) continue;
    for (const parameter of list) {
      const id = parameterIdentity(parameter, components);
      if (id === null) unnamed.push(parameter);
      else merged.set(id, parameter);
    }
  }
  return [...merged.values(), ...unnamed];
}

function endpointSummary(method: string, path: string, operation: Obj): EndpointSummary {
  const tags = Array.isArray(operation.tags) ? operation.tags.filter((t): t is string => typeof t === 'string') : [];
  return {
    method: method.toUpperCase(),
    path,
    operationId: typeof operation.operationId === 'string' ? operation.operationId : null,
    summary: text(operation.summary).trim(),
    tags,
    deprecated: operation.deprecated === true,
    platform: isPlatform(path, tags),
  };
}

/** One endpoint's raw detail, from its operation and the path item's own parameters. */
export function endpointRaw(method: string, path: string, operation: Obj, pathParameters: unknown, components: Obj): EndpointRaw {
  return {
    ...endpointSummary(method, path, operation),
    description: text(operation.description),
    parameters: mergeParameters(pathParameters, operation.parameters, components),
    requestBody: operation.requestBody ?? null,
    responses: isObject(operation.responses) ? operation.responses : {},
    operation,
  };
}

/** Builds the index of one parsed OpenAPI document. Pure. */
export function buildIndex(spec: unknown, meta: { version: string; sha: string }): SpecIndex {
  if (!isObject(spec) || !isObject(spec.paths)) {
    throw new TypeError('not an OpenAPI document: it has no `paths` object');
  }
  const components = isObject(spec.components) ? (spec.components as Record<string, Obj>) : {};
  const endpoints: EndpointSummary[] = [];
  const raw: Record<string, EndpointRaw> = {};
  const tagNamesInUse = new Set<string>();

  for (const [path, item] of Object.entries(spec.paths)) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const summary = endpointSummary(method, path, operation);
      for (const tag of summary.tags) tagNamesInUse.add(tag);
      endpoints.push(summary);
      raw[endpointKey(method, path)] = endpointRaw(method, path, operation, item.parameters, components);
    }
  }

  const tags: TagSummary[] = [];
  const declared = new Set<string>();
  if (Array.isArray(spec.tags)) {
    for (const tag of spec.tags) {
      if (!isObject(tag) || typeof tag.name !== 'string' || declared.has(tag.name)) continue;
      declared.add(tag.name);
      tags.push({ name: tag.name, description: text(tag.description).trim(), platform: PLATFORM.test(tag.name) });
    }
  }
  // Tags used by operations but never declared still deserve a line.
  for (const name of [...tagNamesInUse].sort()) {
    if (!declared.has(name)) tags.push({ name, description: '', platform: PLATFORM.test(name) });
  }

  const info = isObject(spec.info) ? spec.info : {};
  return {
    summary: {
      format: INDEX_FORMAT,
      version: meta.version,
      sha: meta.sha,
      title: text(info.title),
      openapi: text(spec.openapi),
      tags,
      endpoints,
    },
    detail: {
      format: INDEX_FORMAT,
      version: meta.version,
      sha: meta.sha,
      endpoints: raw,
      components,
    },
  };
}

/** Endpoints visible under the platform option. */
export function visibleEndpoints(summary: SpecSummary, includePlatform: boolean): EndpointSummary[] {
  return includePlatform ? summary.endpoints : summary.endpoints.filter((e) => !e.platform);
}

export interface TagCount {
  name: string;
  description: string;
  endpoints: number;
}

/** Tags with the number of visible endpoints each; tags left with none (platform ones) are dropped. */
export function tagCounts(summary: SpecSummary, includePlatform: boolean): TagCount[] {
  const counts = new Map<string, number>();
  for (const endpoint of visibleEndpoints(summary, includePlatform)) {
    for (const tag of endpoint.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return summary.tags
    .filter((tag) => includePlatform || !tag.platform)
    .map((tag) => ({ name: tag.name, description: tag.description, endpoints: counts.get(tag.name) ?? 0 }))
    .filter((tag) => includePlatform || tag.endpoints > 0 || !summary.endpoints.some((e) => e.tags.includes(tag.name)));
}
