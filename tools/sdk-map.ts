// `make sdk-map`: which @clerk/backend method sends which Backend API request, learned from what the
// methods *send*. Every method of every API object of a real `createClerkClient` is called against a
// recording fetch, with arguments typed from the method's own .d.ts (a string where it takes a
// string, an array where it takes one, an object whose every property reads as a marker where it
// takes one); each marker that shows up in the URL becomes the path parameter it fed. A method with
// optional parameters is called twice (with and without them), so both its paths are seen
// (sessions.getToken: /sessions/{id}/tokens and …/tokens/{template}). The built classes' code is not
// read. Written to specs/sdk.json with the package version; test/sdk.test.ts re-runs it and compares.
//
//   node --import tsx tools/sdk-map.ts [--check]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ParamKind = 'string' | 'number' | 'boolean' | 'array' | 'object';

export interface SdkParam {
  name: string;
  kind: ParamKind;
  optional: boolean;
}

export interface SdkMethod {
  /** `users.updateUserMetadata`: the property of clerkClient, then the method. */
  call: string;
  /** The method's parameters, as its .d.ts declares them (kind: how the example passes a value). */
  params: SdkParam[];
  method: string;
  /** The path it sent, with the values it was given as `{name}`: `/users/{userId}/metadata`. */
  path: string;
  /** Where each path parameter came from: a positional parameter (`userId`) or a property of one (`params.organizationId`). */
  from: Record<string, string>;
  /** Sent without the /v1 prefix the rest of the API has. */
  unversioned?: true;
  /** One call sends more than one request (users.getUserList also asks GET /users/count): each counts against the rate limit. */
  alsoSends?: string[];
}

export interface SdkMap {
  $comment: string;
  package: string;
  version: string;
  methods: SdkMethod[];
}

const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_MAP_FILE = join(PROJECT_DIR, 'specs', 'sdk.json');
const API_URL = 'https://api.clerk.test';

/** Every `class X extends AbstractAPI` of the package's .d.ts files: its methods' parameters. */
export function readSignatures(distDir: string): Map<string, Map<string, SdkParam[]>> {
  const classes = new Map<string, Map<string, SdkParam[]>>();
  const dir = join(distDir, 'api', 'endpoints');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.d.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
    for (const cls of text.matchAll(/export declare class (\w+) extends AbstractAPI \{([\s\S]*?)\n\}/g)) {
      const methods = new Map<string, SdkParam[]>();
      const body = cls[2] as string;
      // A member: `name(a: T, b?: { x: U; }): Promise<…>`, its parameters possibly over several lines.
      for (const member of body.matchAll(/^ {4}(?:(?:private|protected|public|static|readonly)\s+)*(\w+)\s*(?:<[^>]*>)?\(/gm)) {
        const open = (member.index ?? 0) + member[0].length - 1;
        let depth = 0;
        let close = open;
        for (; close < body.length; close++) {
          if ('([{<'.includes(body[close] as string)) depth++;
          else if (')]}'.includes(body[close] as string) || (body[close] === '>' && body[close - 1] !== '=')) depth--;
          if (depth === 0) break;
        }
        if (member[1] === 'constructor' || !/^\s*:\s*Promise</.test(body.slice(close + 1))) continue;
        methods.set(member[1] as string, splitTop(body.slice(open + 1, close)).map(paramOf).filter((p): p is SdkParam => p !== null));
      }
      classes.set(cls[1] as string, methods);
    }
  }
  return classes;
}

function paramOf(text: string): SdkParam | null {
  const match = /^(\.\.\.)?(\w+)(\?)?\s*:\s*([\s\S]+)$/.exec(text.trim());
  if (!match) return null;
  const type = (match[4] as string).trim();
  const kind: ParamKind = /\[\]$|^Array</.test(type) ? 'array' : type === 'string' || /^'[^']*'(\s*\|\s*'[^']*')*$/.test(type) ? 'string' : type === 'number' ? 'number' : type === 'boolean' ? 'boolean' : 'object';
  return { name: match[2] as string, kind, optional: match[3] === '?' };
}

/** Splits at top-level commas. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{' || c === '<') depth++;
    else if (c === ')' || c === ']' || c === '}' || (c === '>' && text[i - 1] !== '=')) depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.slice(start).trim() !== '') out.push(text.slice(start));
  return out;
}

const marker = (name: string) => `~${name}~`;
/** Properties that name a resource: the ones a path is built from (`organizationId`, `slug`, `roleSetKeyOrId`). */
const ID_PROPERTY = /^(id|slug)$|(Id|ID|Slug|KeyOrId)$/;

/**
 * An object whose id-like properties read as markers naming them, and every other property as
 * absent: so a method takes its plain path, not a deprecated branch some other property would choose
 * (updateUser with publicMetadata goes to PUT …/metadata). Never a thenable, never serialised with content.
 */
function markerObject(prefix: string, deep: boolean): Record<string, unknown> {
  return new Proxy({}, {
    get: (_target, prop) => {
      if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
      if (ID_PROPERTY.test(prop)) return marker(`${prefix}.${prop}`);
      // Deep: the other properties are objects of the same kind (emails.create reads params.to.userId),
      // but a key (an idempotency key, which the SDK checks is a string) is left out.
      return deep && !/Key$/.test(prop) ? markerObject(`${prefix}.${prop}`, true) : undefined;
    },
    has: (_target, prop) => typeof prop === 'string' && ID_PROPERTY.test(prop),
  });
}

/** How a call's arguments are tried: shallow objects, then deep ones, then a named type read as a string alias. */
type Attempt = 'shallow' | 'deep' | 'strings';

function argumentFor(param: SdkParam, attempt: Attempt): unknown {
  if (param.kind === 'string' || (attempt === 'strings' && param.kind === 'object')) return marker(param.name);
  if (param.kind === 'number') return 1;
  if (param.kind === 'boolean') return true;
  if (param.kind === 'array') return [markerObject(`${param.name}[]`, attempt === 'deep')];
  return markerObject(param.name, attempt === 'deep');
}

export interface Sent {
  method: string;
  url: string;
}

/** The requests `fn` sends, each as method and URL; errors after (or instead of) sending are the SDK's business. */
async function sentBy(record: Sent[], fn: () => unknown): Promise<Sent[]> {
  const from = record.length;
  try {
    await fn();
  } catch {
    // A response the SDK cannot read as what it expected, or a check that refused the arguments.
  }
  return record.slice(from);
}

/** `https://api.clerk.test/v1/users/__userId__` → `/users/{userId}`, with where each parameter came from. */
function templateOf(url: string, params: SdkParam[]): { path: string; from: Record<string, string>; unversioned: boolean } {
  const { pathname } = new URL(url);
  const decoded = decodeURIComponent(pathname);
  const unversioned = !/^\/v1(\/|$)/.test(decoded);
  const from: Record<string, string> = {};
  const path = decoded.replace(/^\/v1(?=\/|$)/, '').replace(/~([\w.[\]]+?)~/g, (_, source: string) => {
    const name = source.split('.').at(-1) as string;
    from[name] = params.some((p) => p.name === source) ? source : `${source.replace(/\[\]/g, '[0]')}`;
    return `{${name}}`;
  });
  return { path: path === '' ? '/' : path, from, unversioned };
}

let recorder: { client: Record<string, unknown>; record: Sent[] } | null = null;

/**
 * A real client of the installed package whose every request is recorded (method and URL) and
 * answered with an empty 200, never sent. One per process: the SDK keeps the fetch it found at import.
 */
export async function recordingClient(): Promise<{ client: Record<string, unknown>; record: Sent[] }> {
  if (recorder) return recorder;
  const record: Sent[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    record.push({ method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), url });
    return new Response('{"object":"unknown","id":"x","data":[],"total_count":0}', { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  try {
    const require = createRequire(join(PROJECT_DIR, 'package.json'));
    const sdk = (await import(pathToFileURL(require.resolve('@clerk/backend')).href)) as { createClerkClient: (options: Record<string, unknown>) => Record<string, unknown> };
    recorder = { client: sdk.createClerkClient({ secretKey: `sk_test_${'0'.repeat(40)}`, apiUrl: API_URL }), record };
    return recorder;
  } finally {
    // The SDK bound the recorder when it loaded; nothing else in this process sees it.
    globalThis.fetch = realFetch;
  }
}

/** Calls every method of every API object of a real client against a recording fetch. */
export async function recordSdkMap(version: string, distDir: string): Promise<SdkMap> {
  const { client, record } = await recordingClient();
  // The SDK warns about deprecated branches on the console; what it sends is what counts here.
  const { console: output } = globalThis;
  const realWarn = output.warn;
  output.warn = () => {};
  try {
    const signatures = readSignatures(distDir);
    const methods: SdkMethod[] = [];
    for (const [property, api] of Object.entries(client)) {
      if (typeof api !== 'object' || api === null) continue;
      const declared = signatures.get((api as object).constructor.name);
      if (!declared) continue;
      for (const [name, declaredParams] of declared) {
        let params = declaredParams;
        const fn = (api as Record<string, unknown>)[name];
        if (typeof fn !== 'function') continue;
        const required = params.filter((p) => !p.optional || params.slice(params.indexOf(p) + 1).some((q) => !q.optional));
        const variants = [params, ...(required.length < params.length ? [required] : [])];
        for (const given of variants) {
          let sent: Sent[] = [];
          let worked: Attempt = 'shallow';
          // A parameter the .d.ts names by an alias of string (an OAuth provider) is tried as a string last.
          for (const attempt of ['shallow', 'deep', 'strings'] as const) {
            if (sent.length > 0) break;
            sent = await sentBy(record, () => fn.apply(api, given.map((p) => argumentFor(p, attempt))));
            worked = attempt;
          }
          // What it took is what the example passes: an alias of string is a string.
          if (worked === 'strings') params = params.map((p) => (p.kind === 'object' ? { ...p, kind: 'string' as const } : p));
          const [first, ...rest] = sent;
          if (!first) continue;
          const template = templateOf(first.url, params);
          methods.push({
            call: `${property}.${name}`,
            params,
            method: first.method,
            path: template.path,
            from: template.from,
            ...(template.unversioned ? { unversioned: true as const } : {}),
            ...(rest.length > 0 ? { alsoSends: rest.map((r) => `${r.method} ${templateOf(r.url, params).path}`) } : {}),
          });
        }
      }
    }
    const seen = new Set<string>();
    const unique = methods.filter((m) => {
      const key = `${m.call} ${m.method} ${m.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    unique.sort((a, b) => (a.call < b.call ? -1 : a.call > b.call ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      $comment: 'Which @clerk/backend method sends which Backend API request: recorded by `make sdk-map` (tools/sdk-map.ts) calling each method of the installed package against a recording fetch. Do not edit by hand.',
      package: '@clerk/backend',
      version,
      methods: unique,
    };
  } finally {
    output.warn = realWarn;
  }
}

/** The installed @clerk/backend: its dist directory and version. */
export function installedSdk(): { distDir: string; version: string } {
  const require = createRequire(join(PROJECT_DIR, 'package.json'));
  const pkgFile = require.resolve('@clerk/backend/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string };
  return { distDir: join(dirname(pkgFile), 'dist'), version: pkg.version };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { distDir, version } = installedSdk();
  const map = await recordSdkMap(version, distDir);
  const text = `${JSON.stringify(map, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    const current = readFileSync(SDK_MAP_FILE, 'utf8');
    if (current !== text) {
      process.stderr.write(`specs/sdk.json is not what @clerk/backend ${version} sends: run make sdk-map\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(SDK_MAP_FILE, text);
    process.stderr.write(`specs/sdk.json: ${map.methods.length} requests of @clerk/backend ${version}\n`);
  }
}
