// Resolving `$ref`s for display: every reference replaced by what it names, `allOf` merged where that
// changes nothing, and a reference cycle cut by a marker, so output is always finite and readable.
//
// The cycle marker: where a component refers back to one of its own ancestors, the reference becomes
// `{"$cycle": "#/components/schemas/X"}` (keeping the reference's sibling keywords such as
// `description`), meaning "X again, as shown above". A reference that cannot be followed (external
// or missing) becomes `{"$unresolved": "<ref>"}`.
import { isObject, type Obj } from '../core/values.js';

export const CYCLE_KEY = '$cycle';
export const UNRESOLVED_KEY = '$unresolved';
/** Added by an annotating resolver (text rendering only): the component a schema came from. */
export const COMPONENT_KEY = '$component';

// Values of these keywords are data, not schemas: a `$ref` inside an example is text to show.
const LITERAL_KEYWORDS = new Set(['example', 'examples', 'default', 'enum', 'const', 'x-speakeasy-usage-example']);
// Values of these keywords are maps from names to schemas: a property may be called `default`.
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);

/** Looks up a local reference (`#/components/schemas/User`) in a spec's `components`. */
export function lookupRef(components: Record<string, unknown>, ref: string): unknown {
  if (!ref.startsWith('#/components/')) return undefined;
  let node: unknown = { components };
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

// Keywords where a later allOf member may simply win: they describe, they do not constrain.
const ANNOTATIONS = new Set(['description', 'title', 'example', 'examples', 'x-speakeasy-name-override', COMPONENT_KEY]);

/** `a` and `b` as one schema when that means the same as `allOf: [a, b]`, else null. */
function mergeTwo(a: Obj, b: Obj): Obj | null {
  if (Object.hasOwn(a, CYCLE_KEY) || Object.hasOwn(b, CYCLE_KEY) || Object.hasOwn(a, UNRESOLVED_KEY) || Object.hasOwn(b, UNRESOLVED_KEY)) return null;
  const merged: Obj = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (!Object.hasOwn(merged, key) || ANNOTATIONS.has(key)) {
      merged[key] = value;
      continue;
    }
    const current = merged[key];
    if (deepEqual(current, value)) continue;
    if (key === 'properties' && isObject(current) && isObject(value)) {
      const properties: Obj = { ...current };
      for (const [name, schema] of Object.entries(value)) {
        if (Object.hasOwn(properties, name) && !deepEqual(properties[name], schema)) return null;
        properties[name] = schema;
      }
      merged.properties = properties;
      continue;
    }
    if (key === 'required' && Array.isArray(current) && Array.isArray(value)) {
      merged.required = [...new Set([...current, ...value])];
      continue;
    }
    return null;
  }
  // additionalProperties: false on one member forbids the other member's properties; keep allOf then.
  if ((a.additionalProperties === false && isObject(b.properties)) || (b.additionalProperties === false && isObject(a.properties))) return null;
  return merged;
}

/** Collapses `allOf` into one schema when the members merge without changing meaning; else keeps it. */
function simplifyAllOf(schema: Obj): Obj {
  const members = schema.allOf;
  if (!Array.isArray(members) || !members.every(isObject)) return schema;
  const { allOf: _allOf, ...rest } = schema;
  let merged: Obj | null = {};
  for (const member of members) {
    merged = merged && mergeTwo(merged, member);
    if (!merged) return schema;
  }
  // The wrapper's own keywords (a description or `nullable` next to `allOf: [{$ref}]`) come last.
  const withRest = mergeTwo(merged, rest);
  return withRest ?? schema;
}

export interface Resolution<T> {
  value: T;
  /** Every component reached, as references (`#/components/schemas/User`), sorted. */
  components: string[];
}

/**
 * A resolver over one spec's components. Reuse one for the parts of an endpoint (parameters,
 * body, responses) so that `components()` lists everything they reached.
 */
export class SchemaResolver {
  readonly #components: Record<string, unknown>;
  readonly #reached = new Set<string>();
  readonly #annotate: boolean;

  constructor(components: Record<string, unknown>, options: { annotate?: boolean } = {}) {
    this.#components = components;
    this.#annotate = options.annotate === true;
  }

  /** `value` with every `$ref` resolved (cycles cut with a marker). Never mutates the input. */
  resolve(value: unknown): unknown {
    return this.#walk(value, []);
  }

  /** The object a reference (or a plain object) stands for, one level deep, without resolving inside it. */
  target(value: unknown): unknown {
    const seen = new Set<string>();
    let node = value;
    while (isObject(node) && typeof node.$ref === 'string' && !seen.has(node.$ref)) {
      seen.add(node.$ref);
      node = lookupRef(this.#components, node.$ref);
    }
    return node;
  }

  components(): string[] {
    return [...this.#reached].sort();
  }

  #walk(value: unknown, stack: string[]): unknown {
    if (Array.isArray(value)) return value.map((item) => this.#walk(item, stack));
    if (!isObject(value)) return value;
    if (typeof value.$ref === 'string') return this.#reference(value, stack);
    const out: Obj = {};
    for (const [key, child] of Object.entries(value)) {
      if (NAME_MAPS.has(key) && isObject(child)) {
        out[key] = Object.fromEntries(Object.entries(child).map(([name, schema]) => [name, this.#walk(schema, stack)]));
      } else {
        out[key] = LITERAL_KEYWORDS.has(key) ? child : this.#walk(child, stack);
      }
    }
    return Array.isArray(out.allOf) ? simplifyAllOf(out) : out;
  }

  #reference(value: Obj, stack: string[]): unknown {
    const { $ref, ...siblings } = value as Obj & { $ref: string };
    const extra = this.#walk(siblings, stack) as Obj;
    if (stack.includes($ref)) {
      this.#reached.add($ref);
      return { [CYCLE_KEY]: $ref, ...extra };
    }
    const target = lookupRef(this.#components, $ref);
    if (target === undefined) return { [UNRESOLVED_KEY]: $ref, ...extra };
    this.#reached.add($ref);
    const resolved = this.#walk(target, [...stack, $ref]);
    if (!isObject(resolved)) return resolved;
    const annotated = this.#annotate ? { ...resolved, [COMPONENT_KEY]: $ref } : resolved;
    if (Object.keys(extra).length === 0) return annotated;
    return { ...annotated, ...extra };
  }
}

/** One value resolved against `components`, with the components it reached. */
export function resolveRefs<T = unknown>(value: unknown, components: Record<string, unknown>): Resolution<T> {
  const resolver = new SchemaResolver(components);
  return { value: resolver.resolve(value) as T, components: resolver.components() };
}

/** True when a resolved value still holds a `$ref` anywhere outside literal data (for tests and checks). */
export function findUnresolvedRef(value: unknown, path = '$'): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnresolvedRef(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (!isObject(value)) return null;
  if (Object.hasOwn(value, '$ref')) return path;
  if (Object.hasOwn(value, UNRESOLVED_KEY)) return path;
  for (const [key, child] of Object.entries(value)) {
    if (NAME_MAPS.has(key) && isObject(child)) {
      for (const [name, schema] of Object.entries(child)) {
        const found = findUnresolvedRef(schema, `${path}.${key}.${name}`);
        if (found) return found;
      }
      continue;
    }
    if (LITERAL_KEYWORDS.has(key)) continue;
    const found = findUnresolvedRef(child, `${path}.${key}`);
    if (found) return found;
  }
  return null;
}
