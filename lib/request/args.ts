// Stage request: what a user means to send, and where it goes. It may import core, spec, endpoint.
//
// The request a user means, from bapi-curl's arguments (-d, -f, -F, -q, --form, -H) or from a request
// JSON on stdin (the guard's --json verdict, or {method, path, query, body}). Pure, apart from reading
// the files named with @.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfirmationError, EXIT, PolicyError, UsageError } from '../core/errors.js';
import { parseEndpointRecord } from '../endpoint/match.js';
import { keyPath, parseJsonBody, plainObject, setField, splitPair, typedValue, type FieldType } from './body.js';
import { parseFormField, type FormField } from './form.js';

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
