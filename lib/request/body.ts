// The body of a request: JSON parsed within the limits every front-end meets (depth, finite numbers),
// -f/-F fields set by their key paths on prototype-less objects, and the spec's field types.
import { UsageError } from '../core/errors.js';
import { deref } from '../endpoint/validate.js';
import type { EndpointRaw, SpecDetail } from '../spec/index.js';
import { isObject, type Obj } from '../core/values.js';

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | null;

export function splitPair(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) {
    // gh's -q is its --jq: a filter where a query parameter is expected.
    const jq = flag === '-q' && /^\s*(\.|\[|\|)/.test(raw) ? [`That looks like a jq filter (gh api -q): give it with --jq ${JSON.stringify(raw)}.`] : [];
    throw new UsageError(`${flag} ${JSON.stringify(raw)}: expected key=value`, { hints: jq });
  }
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** How deep a request body may nest. Clerk's schemas go a few levels; deeper is a mistake or an attack. */
export const MAX_BODY_DEPTH = 64;

/** The deepest nesting of arrays and objects in `value`, counted without recursion (a deep value must not overflow the stack). */
export function nestingDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, here]);
  }
  return deepest;
}

/** The first number JSON cannot carry (1e400 parses to Infinity, and is sent as null), as a JSON path; null when none. */
export function nonFiniteNumber(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '$']];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (typeof item === 'number' && !Number.isFinite(item)) return path;
    if (item === null || typeof item !== 'object') continue;
    for (const [key, child] of Object.entries(item)) stack.push([child, Array.isArray(item) ? `${path}[${key}]` : `${path}.${key}`]);
  }
  return null;
}

/**
 * The limits every request body meets before the guard judges it, whichever front-end it came from
 * (-d, a batch line, an MCP tool call): at most MAX_BODY_DEPTH levels, and only finite numbers (an
 * approval for `{"plan":1e400}` would otherwise be consumed by `{"plan":null}`).
 */
export function checkBodyValue(value: unknown, what: string): void {
  if (nestingDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw new UsageError(`${what} nests deeper than ${MAX_BODY_DEPTH} levels`);
  const infinite = nonFiniteNumber(value);
  if (infinite !== null) throw new UsageError(`${what}: ${infinite} is a number too large for JSON (it would be sent as null); refused`);
}

/** A JSON request body, refused (usage error, exit 2) when it is not JSON, nests deeper than MAX_BODY_DEPTH or holds a non-finite number. */
export function parseJsonBody(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // The parser may quote the text it choked on; a body can hold passwords, so never echo it.
    const reason = (error as Error).message.replace(/"(?:[^"\\]|\\.)*"/g, '…');
    // curl's -d 'a=b' is a form field here: -f (strings) or -F (typed) build the JSON body.
    const fields = /^[A-Za-z_][\w.[\]]*=/.test(text.trim()) ? ['-d takes JSON here; for name=value fields use -f name=value (strings) or -F name=value (typed).'] : [];
    throw new UsageError(`${what} is not valid JSON: ${reason}`, { hints: fields });
  }
  checkBodyValue(value, what);
  return value;
}


/** `-F` value: typed by the spec where it knows the field, else as `gh api -F` does. */
export function typedValue(raw: string, type: FieldType): unknown {
  switch (type) {
    case 'string':
      return raw;
    case 'integer':
    case 'number':
      if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return raw;
      if (!Number.isFinite(Number(raw))) throw new UsageError(`-F value ${JSON.stringify(raw)} is a number too large for JSON (it would be sent as null)`);
      return Number(raw);
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'object':
    case 'array':
      if (raw === 'null') return null;
      return parseJsonBody(raw, `-F value ${JSON.stringify(raw)}`);
    default:
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      if (raw === 'null') return null;
      if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(raw) && Number.isSafeInteger(Math.trunc(Number(raw)))) return Number(raw);
      if (/^\s*[[{]/.test(raw)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          return raw;
        }
        checkBodyValue(parsed, `-F value ${JSON.stringify(raw)}`);
        return parsed;
      }
      return raw;
  }
}

// Names that reach an object's prototype instead of a field: `-f '__proto__[CLERK_BAPI_SCOPES]=write'`
// would otherwise grant scopes to the whole process.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** `a[b][]=v` → ['a', 'b', ''] ; a plain key → [key]. */
export function keyPath(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) throw new UsageError(`field name ${JSON.stringify(key)} is not key, key[sub] or key[]`);
  const rest = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? '');
  const parts = [match[1] as string, ...rest];
  const bad = parts.find((part) => PROTOTYPE_KEYS.has(part));
  if (bad !== undefined) throw new UsageError(`field name ${JSON.stringify(key)}: "${bad}" is not allowed in a field name`);
  return parts;
}

/** An object with no prototype: a key is only ever its own field. */
export function plainObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = keyPath(key);
  let node: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const last = i === parts.length - 1;
    const nextIsArray = !last && parts[i + 1] === '';
    if (Array.isArray(node)) {
      if (part !== '') throw new UsageError(`field ${key}: cannot mix key[] and key[name]`);
      if (last) node.push(value);
      else {
        const child: Record<string, unknown> | unknown[] = nextIsArray ? [] : plainObject();
        node.push(child);
        node = child;
      }
      continue;
    }
    if (part === '') throw new UsageError(`field ${key}: [] must follow a name`);
    if (last) {
      node[part] = value;
    } else {
      const existing: unknown = Object.hasOwn(node, part) ? node[part] : undefined;
      if (existing === undefined || existing === null || typeof existing !== 'object') {
        const child: Record<string, unknown> | unknown[] = nextIsArray ? [] : plainObject();
        node[part] = child;
        node = child;
      } else {
        node = existing as Record<string, unknown> | unknown[];
      }
    }
  }
}

/** The JSON type of each top-level field of an endpoint's JSON request body, from the spec. */
export function bodyFieldTypes(raw: EndpointRaw | undefined, components: SpecDetail['components']): (name: string) => FieldType {
  const body = deref(raw?.requestBody ?? null, components);
  const content = isObject(body) && isObject(body.content) ? body.content : {};
  const media = Object.entries(content).find(([type]) => /json/.test(type))?.[1];
  const schema = deref(isObject(media) ? media.schema : undefined, components);
  const properties: Obj = {};
  const collect = (node: unknown, depth: number) => {
    const resolved = deref(node, components);
    if (!isObject(resolved) || depth > 5) return;
    if (isObject(resolved.properties)) Object.assign(properties, resolved.properties);
    if (Array.isArray(resolved.allOf)) for (const part of resolved.allOf) collect(part, depth + 1);
  };
  collect(schema, 0);
  const typeOf = (node: unknown, depth = 0): FieldType => {
    const resolved = deref(node, components);
    if (!isObject(resolved) || depth > 5) return null;
    const type = Array.isArray(resolved.type) ? resolved.type.find((t) => t !== 'null') : resolved.type;
    if (typeof type === 'string' && ['string', 'integer', 'number', 'boolean', 'object', 'array'].includes(type)) return type as FieldType;
    for (const key of ['allOf', 'oneOf', 'anyOf']) {
      const list = resolved[key];
      if (Array.isArray(list)) for (const part of list) {
        const found = typeOf(part, depth + 1);
        if (found !== null) return found;
      }
    }
    return null;
  };
  return (name) => (name in properties ? typeOf(properties[name]) : null);
}

/** Body fields whose values must never reach a log: passwords, secrets, tokens, codes. */
const SECRET_FIELD = /pass(word)?|secret|token|private_key|api_key|^key$|_key$|code|otp|totp|backup|signature|certificate|hash/i;

/** A copy of `body` with secret-looking fields replaced by "[redacted]" (for logs and dry runs). */
export function redactBody(body: unknown, depth = 0): unknown {
  if (depth > 20) return '[redacted]';
  if (Array.isArray(body)) return body.map((item) => redactBody(item, depth + 1));
  if (body !== null && typeof body === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      out[key] = SECRET_FIELD.test(key) ? '[redacted]' : redactBody(value, depth + 1);
    }
    return out;
  }
  return body;
}
