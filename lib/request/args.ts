// Stage request: what a user means to send, and where it goes. It may import core, spec, endpoint.
//
// The request a user means, from bapi-curl's arguments (-d, -f, -F, -q, --form, -H) or from a request
// JSON on stdin (the guard's --json verdict, or {method, path, query, body}). Pure, apart from reading
// the files named with @.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { crypto } from '../core/builtins.js';
import { ConfirmationError, EXIT, PolicyError, UsageError } from '../core/errors.js';
import { parseEndpointRecord } from '../endpoint/match.js';
import { deref } from '../endpoint/validate.js';
import type { EndpointRaw, SpecDetail } from '../spec/index.js';
import { isObject, type Obj } from '../core/values.js';

export interface FormField {
  name: string;
  /** A plain value, or the path of a file to upload (from `k=@file`). */
  value?: string;
  file?: string;
  /** The file's content type (`k=@file;type=image/png`, else guessed from its extension). */
  type?: string;
}

/** A form field with its file read: the bytes that are hashed for the approval are the bytes sent. */
export interface LoadedFormField extends FormField {
  content?: Buffer;
}

/** One API call, as bound by an approval: method, path, query and parsed body. */
export interface ApiCall {
  /** Upper case. */
  method: string;
  /** The concrete path as given, without its query (e.g. /users/user_1 or /v1/users/user_1). */
  path: string;
  query: Array<[string, string]>;
  /** The parsed JSON body; undefined when there is none. */
  body: unknown;
  /** Multipart fields (--form); null for a JSON or empty body. */
  form: FormField[] | null;
  /** Extra headers, lower-case names. */
  headers: Record<string, string>;
  /** The approval named by a guard verdict on stdin. */
  approvalId?: string;
}

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | null;

export interface RawRequestArgs {
  method: string;
  path: string;
  data?: string | undefined;
  rawFields: string[];
  typedFields: string[];
  query: string[];
  form: string[];
  headers: string[];
  /** Reads `-` (stdin) for `-d -`. */
  readStdin?: () => string | null;
  /** The JSON type of a top-level body field, from the spec, where known. */
  fieldType?: (name: string) => FieldType;
  cwd: string;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export function normalizeMethod(raw: string): string {
  const method = raw.trim().toUpperCase();
  // Clerk's Backend API spec has no HEAD or OPTIONS endpoint: they could be neither checked nor meant.
  if (method === 'HEAD' || method === 'OPTIONS') throw new UsageError(`${method} is not supported: Clerk's Backend API has no ${method} endpoints (use GET)`);
  if (!METHODS.has(method)) throw new UsageError(`not an HTTP method: ${JSON.stringify(raw)} (use GET, POST, PUT, PATCH or DELETE)`);
  return method;
}

/** Splits `/users?limit=5` into the path and its query pairs. */
export function splitPathQuery(raw: string): { path: string; query: Array<[string, string]> } {
  const mark = raw.indexOf('?');
  if (mark < 0) return { path: raw, query: [] };
  return { path: raw.slice(0, mark), query: [...new URLSearchParams(raw.slice(mark + 1))] };
}

function splitPair(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag} ${JSON.stringify(raw)}: expected key=value`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

function readAt(value: string, cwd: string, readStdin: (() => string | null) | undefined, flag: string): string {
  if (value === '@-' || value === '-') {
    const text = readStdin?.() ?? null;
    if (text === null) throw new UsageError(`${flag} -: nothing on stdin`);
    return text;
  }
  const file = resolve(cwd, value.slice(1));
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${value}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
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
    throw new UsageError(`${what} is not valid JSON: ${reason}`);
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
function keyPath(key: string): string[] {
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

function setField(target: Record<string, unknown>, key: string, value: unknown): void {
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

const FORBIDDEN_HEADERS = new Set(['authorization', 'host', 'content-length', 'cookie', 'proxy-authorization', 'transfer-encoding', 'connection']);
// Headers that would change what the guard approved: the spec version it judged against, how the
// body is read, or the method a server acts on.
const JUDGED_HEADERS: Record<string, string> = {
  'clerk-api-version': 'Choose the version with --api-version (or CLERK_API_VERSION): the guard checks the request against it.',
  'content-type': 'The content type follows from -d/-f/-F (JSON) or --form (multipart).',
  'x-http-method-override': 'Give the method itself: bapi-curl METHOD PATH.',
  'x-http-method': 'Give the method itself: bapi-curl METHOD PATH.',
  'x-method-override': 'Give the method itself: bapi-curl METHOD PATH.',
};

export function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError(`-H ${JSON.stringify(raw)}: expected 'Name: value'`);
  const name = raw.slice(0, colon).trim().toLowerCase();
  const value = raw.slice(colon + 1).trim();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new UsageError(`-H: not a header name: ${JSON.stringify(raw.slice(0, colon))}`);
  if (/[\r\n\u0000]/.test(value)) throw new UsageError(`-H ${name}: the value contains a line break`);
  if (Object.hasOwn(JUDGED_HEADERS, name)) throw new UsageError(`-H ${name} is not allowed: it would change the request the guard judged`, { hints: [JUDGED_HEADERS[name] as string] });
  if (FORBIDDEN_HEADERS.has(name)) {
    throw new UsageError(`-H ${name} is not allowed`, {
      hints: name === 'authorization' ? ['The key is read from CLERK_SECRET_KEY (or .env) and sent for you.'] : [],
    });
  }
  return [name, value];
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  pdf: 'application/pdf',
  json: 'application/json',
  txt: 'text/plain',
  csv: 'text/csv',
  pem: 'application/x-pem-file',
};

/** `k=v`, `k=@file` or `k=@file;type=image/png` (curl's form). */
export function parseFormField(raw: string, cwd: string): FormField {
  const [name, value] = splitPair(raw, '--form');
  if (!value.startsWith('@')) return { name, value };
  const typed = /^(.*);type=([A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+)$/.exec(value.slice(1));
  const file = resolve(cwd, typed ? (typed[1] as string) : value.slice(1));
  const extension = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  return { name, file, type: typed ? (typed[2] as string) : (CONTENT_TYPES[extension] ?? 'application/octet-stream') };
}

/** Reads each form file once (so what is hashed for the approval is what is sent). */
export function loadForm(form: FormField[]): LoadedFormField[] {
  return form.map((field) => {
    if (field.file === undefined) return field;
    try {
      return { ...field, content: readFileSync(field.file) };
    } catch (error) {
      throw new UsageError(`--form ${field.name}=@${field.file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  });
}

/**
 * What the guard sees, and the approval binds, of a multipart request: each field's value, and for a
 * file its path, type, size and the SHA-256 of its content. A file edited after approval no longer matches.
 */
export function formBinding(form: LoadedFormField[]): Record<string, string> {
  const sha256 = (data: Buffer) => crypto().createHash('sha256').update(data).digest('hex');
  const body = plainObject() as Record<string, string>;
  for (const field of form) {
    body[field.name] = field.content !== undefined
      ? `@${field.file} (${field.type ?? 'application/octet-stream'}, ${field.content.length} bytes, sha256:${sha256(field.content)})`
      : (field.value ?? '');
  }
  return body;
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

/** The call from command-line arguments. */
export function callFromArgs(args: RawRequestArgs): ApiCall {
  const method = normalizeMethod(args.method);
  // Trimmed as the guard trims its arguments (parseEndpointArgs): one reading of the same words.
  const { path, query } = splitPathQuery(args.path.trim());
  const headers: Record<string, string> = {};
  for (const raw of args.headers) {
    const [name, value] = parseHeader(raw);
    headers[name] = value;
  }
  for (const raw of args.query) query.push(splitPair(raw, '-q'));

  let body: unknown;
  if (args.data !== undefined) {
    const text = args.data.startsWith('@') || args.data === '-' ? readAt(args.data === '-' ? '@-' : args.data, args.cwd, args.readStdin, '-d') : args.data;
    body = parseJsonBody(text, '-d body');
  }

  const fields: Array<[string, unknown]> = [];
  for (const raw of args.rawFields) {
    const [key, value] = splitPair(raw, '-f');
    fields.push([key, value]);
  }
  for (const raw of args.typedFields) {
    const [key, rawValue] = splitPair(raw, '-F');
    const value = rawValue.startsWith('@') ? readAt(rawValue, args.cwd, args.readStdin, '-F').replace(/\n$/, '') : rawValue;
    const top = keyPath(key);
    const type = top.length === 1 ? (args.fieldType?.(key) ?? null) : null;
    fields.push([key, typedValue(value, type)]);
  }

  let form: FormField[] | null = null;
  if (args.form.length > 0) {
    if (body !== undefined || fields.length > 0) throw new UsageError('--form cannot be combined with -d, -f or -F');
    form = args.form.map((raw) => parseFormField(raw, args.cwd));
    const names = form.map((field) => field.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) throw new UsageError(`--form ${repeated} is given twice; give each field once`);
  }

  if (fields.length > 0) {
    if (method === 'GET' || method === 'HEAD') {
      // As with `gh api`: fields of a read go to the query string.
      for (const [key, value] of fields) query.push([key, typeof value === 'string' ? value : JSON.stringify(value)]);
    } else {
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        throw new UsageError('-f/-F fields need the -d body to be a JSON object');
      }
      const merged = (body ?? plainObject()) as Record<string, unknown>;
      for (const [key, value] of fields) setField(merged, key, value);
      body = merged;
    }
  }
  return { method, path, query, body, form, headers };
}

/** Query as pairs, from pairs or from an object of strings / arrays (the guard prints either). */
export function queryPairs(raw: unknown, what = 'query'): Array<[string, string]> {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) {
    return raw.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new UsageError(`${what}: expected [name, value] pairs`);
      return [String(pair[0]), scalar(pair[1])];
    });
  }
  if (typeof raw === 'object') {
    const pairs: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      if (Array.isArray(value)) for (const item of value) pairs.push([name, scalar(item)]);
      else if (value !== undefined) pairs.push([name, scalar(value)]);
    }
    return pairs;
  }
  throw new UsageError(`${what}: expected an object or a list of [name, value] pairs`);
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The call from stdin: a guard verdict, a request JSON {method, path, query, body}, or a
 * `METHOD<TAB>PATH…` record as extract-tag-endpoints prints it (a body-less request).
 */
export function callFromJson(text: string): ApiCall {
  if (!/^\s*[[{]/.test(text)) {
    const input = parseEndpointRecord(text);
    const { path, query } = splitPathQuery(input.origin ? `${input.origin}${input.path}` : input.path);
    return { method: normalizeMethod(input.method), path, query, body: undefined, form: null, headers: {} };
  }
  const parsed = parseJsonBody(text, 'the request on stdin');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('the request on stdin must be a JSON object: {method, path, query, body} or a bapi-guard --json verdict');
  }
  const object = parsed as Record<string, unknown>;
  const verdict = typeof object.request === 'object' && object.request !== null && 'allowed' in object;
  const request = (verdict ? object.request : object) as Record<string, unknown>;
  if (typeof request.method !== 'string' || typeof request.path !== 'string') {
    throw new UsageError('the request on stdin needs "method" and "path" strings');
  }
  if (verdict && object.allowed !== true) {
    // The verdict's own reason and exit code: refused for scopes is 3, waiting for consent is 4.
    const reason = typeof object.reason === 'string' ? `: ${object.reason}` : '';
    const hints = Array.isArray(object.hints) ? object.hints.filter((h): h is string => typeof h === 'string') : [];
    const message = `the guard verdict on stdin does not allow this request (allowed: false)${reason}`;
    const options = { hints: hints.length > 0 ? hints : ['Fix what bapi-guard reported, then run it again.'] };
    if (object.exitCode === EXIT.policy) throw new PolicyError(message, options);
    if (object.exitCode === EXIT.confirmation) throw new ConfirmationError(message, options);
    throw new UsageError(message, options);
  }
  const { path, query } = splitPathQuery(request.path.trim());
  query.push(...queryPairs(request.query));
  const call: ApiCall = {
    method: normalizeMethod(request.method),
    path,
    query,
    body: request.body === null ? undefined : request.body,
    form: null,
    headers: {},
  };
  const approval = object.approval as { id?: unknown } | null | undefined;
  if (verdict && approval && typeof approval.id === 'string') call.approvalId = approval.id;
  return call;
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
