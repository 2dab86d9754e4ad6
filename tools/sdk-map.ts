// `make sdk-map`: which @clerk/backend method sends which request, read from the installed package's
// own built API classes (each `this.request({ method, path })` with its path built from a base path,
// literal segments and the method's arguments), written to specs/sdk.json with the package version.
// test/sdk.test.ts checks that the file still matches the installed package and reports coverage.
//
//   node --import tsx tools/sdk-map.ts [--check]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SdkMethod {
  /** `users.updateUserMetadata`: the property of clerkClient, then the method. */
  call: string;
  /** The method's parameter names, as the SDK declares them. */
  args: string[];
  method: string;
  /** The path the SDK builds, with its arguments as `{name}`: `/users/{userId}/metadata`. */
  path: string;
}

export interface SdkMap {
  $comment: string;
  package: string;
  version: string;
  methods: SdkMethod[];
}

const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_MAP_FILE = join(PROJECT_DIR, 'specs', 'sdk.json');

/** The text up to the bracket that closes the one at `open`, skipping strings and comments. */
function balanced(text: string, open: number): number {
  const pairs: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i);
      if (i < 0) return text.length;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i) + 1;
      continue;
    }
    if (pairs[c]) stack.push(pairs[c] as string);
    else if (c === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  return text.length;
}

/** Splits `a, "b", c.d` at top-level commas. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (text.slice(start).trim() !== '') out.push(text.slice(start).trim());
  return out;
}

function pathOf(expression: string, basePaths: Map<string, string>): string | null {
  const expr = expression.trim();
  if (basePaths.has(expr)) return basePaths.get(expr) as string;
  const literal = /^["'`]([^"'`$]*)["'`]$/.exec(expr);
  if (literal) return literal[1] as string;
  const join = /^joinPaths\(([\s\S]*)\)$/.exec(expr);
  if (!join) return null;
  const parts: string[] = [];
  for (const arg of splitArgs(join[1] as string)) {
    if (basePaths.has(arg)) parts.push(basePaths.get(arg) as string);
    else if (/^["'`][^"'`$]*["'`]$/.test(arg)) parts.push(arg.slice(1, -1));
    else parts.push(`{${arg.split('.').at(-1)?.replace(/\W/g, '') ?? 'id'}}`);
  }
  return `/${parts.join('/')}`.replace(/\/{2,}/g, '/');
}

/** The map from the built package in `distDir` (its .mjs chunks). */
export function extractSdkMap(distDir: string, version: string): SdkMap {
  const text = readdirSync(distDir)
    .filter((name) => name.endsWith('.mjs'))
    .map((name) => readFileSync(join(distDir, name), 'utf8'))
    .filter((source) => source.includes('extends AbstractAPI'))
    .join('\n');
  const basePaths = new Map<string, string>();
  for (const m of text.matchAll(/\bvar (basePath\d*) = "([^"]+)";/g)) basePaths.set(m[1] as string, m[2] as string);
  const properties = new Map<string, string>();
  const client = text.indexOf('function createBackendApiClient(');
  if (client >= 0) {
    const body = text.slice(client, balanced(text, text.indexOf('{', client)));
    for (const m of body.matchAll(/(\w+): new (\w+)\(/g)) properties.set(m[2] as string, m[1] as string);
  }
  const methods: SdkMethod[] = [];
  for (const cls of text.matchAll(/\bvar (\w+) = class extends AbstractAPI \{/g)) {
    const property = properties.get(cls[1] as string);
    if (!property) continue;
    const start = (cls.index ?? 0) + cls[0].length - 1;
    const body = text.slice(start, balanced(text, start));
    for (const member of body.matchAll(/\n {2}(?:async )?(\w+)\(([^)]*)\) \{/g)) {
      const name = member[1] as string;
      if (name === 'constructor' || name.startsWith('_')) continue;
      const open = (member.index ?? 0) + member[0].length - 1;
      const code = body.slice(open, balanced(body, open));
      const args = splitArgs(member[2] as string).map((a) => a.replace(/\s*=.*$/, '').replace(/^\.\.\./, '').trim()).filter((a) => /^\w+$/.test(a));
      for (const request of code.matchAll(/this\.request\(\{/g)) {
        const at = (request.index ?? 0) + request[0].length - 1;
        const options = code.slice(at, balanced(code, at) + 1);
        const method = /\bmethod:\s*"(\w+)"/.exec(options)?.[1];
        const pathAt = options.search(/\bpath:\s*/);
        if (!method || pathAt < 0) continue;
        const rest = options.slice(pathAt).replace(/^path:\s*/, '');
        let end = 0;
        for (let depth = 0; end < rest.length; end++) {
          const c = rest[end];
          if (c === '(') depth++;
          else if (c === ')') depth--;
          if ((c === ',' || c === '\n' || c === '}') && depth <= 0) break;
        }
        const path = pathOf(rest.slice(0, end), basePaths);
        if (path) methods.push({ call: `${property}.${name}`, args, method, path });
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
    $comment: 'Which @clerk/backend method sends which Backend API request: generated by `make sdk-map` from the installed package (tools/sdk-map.ts). Do not edit by hand.',
    package: '@clerk/backend',
    version,
    methods: unique,
  };
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
  const map = extractSdkMap(distDir, version);
  const text = `${JSON.stringify(map, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    const current = readFileSync(SDK_MAP_FILE, 'utf8');
    if (current !== text) {
      process.stderr.write(`specs/sdk.json is not what @clerk/backend ${version} gives: run make sdk-map\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(SDK_MAP_FILE, text);
    process.stderr.write(`specs/sdk.json: ${map.methods.length} requests of @clerk/backend ${version}\n`);
  }
}
