// The Clerk secret key: where it comes from, whether it looks right, and the only forms in which it
// may ever be shown (a masked hint) or stored (a fingerprint). The key itself stays in memory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { crypto } from '../core/builtins.js';
import { KeyInvalidError, PolicyError } from '../core/errors.js';

export const KEY_VARIABLE = 'CLERK_SECRET_KEY';
// .env.local over .env, as Next.js and dotenv-flow load them.
export const ENV_FILES = ['.env.local', '.env'] as const;

// Clerk secret keys are `sk_test_` or `sk_live_` followed by a long base62 string.
const KEY_PATTERN = /^sk_(test|live)_[A-Za-z0-9]{20,}$/;

export type KeyKind = 'test' | 'live';

/** Everything about the key that may be shown or stored. Never holds the key. */
export interface KeyInfo {
  present: boolean;
  wellFormed: boolean;
  kind: KeyKind | null;
  /** `CLERK_SECRET_KEY` (the environment) or the path of the .env file that supplied it. */
  source: string | null;
  /** At most the prefix and the last 4 characters, e.g. `sk_test_…a1b2`. */
  masked: string | null;
  /** A hash of the key, to bind approvals and audit lines to it. */
  fingerprint: string | null;
  /** Why the key is unusable, for the user; null when it is fine. */
  problem: string | null;
}

export interface SecretKey {
  /** The key itself, or null. Only ever for the Authorization header. */
  value: string | null;
  info: KeyInfo;
}

export function maskKey(key: string): string {
  const match = /^(sk_(?:test|live)_)/.exec(key);
  const tail = key.length >= 12 ? key.slice(-4) : '';
  return `${match ? match[1] : ''}…${tail}`;
}

export function keyFingerprint(key: string): string {
  return `sha256:${crypto().createHash('sha256').update(`clerk-bapi-key:${key}`).digest('hex').slice(0, 32)}`;
}

export function keyKind(key: string): KeyKind | null {
  const match = KEY_PATTERN.exec(key);
  return match ? (match[1] as KeyKind) : null;
}

/** Parses the `KEY=value` lines of a .env file (`export`, quotes and comments as dotenv does). */
export function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(rawLine);
    if (!match) continue;
    const name = match[1] as string;
    let value = (match[2] as string).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && value.indexOf(quote, 1) > 0) {
      value = value.slice(1, value.indexOf(quote, 1));
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    values.set(name, value);
  }
  return values;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The directories searched for .env files: from `cwd` upwards, up to and including the repository
 * root (a directory holding `.git`) or $HOME, whichever comes first, else the filesystem root.
 */
export function envSearchDirs(cwd: string, home: string | undefined): string[] {
  const dirs: string[] = [];
  const stop = home ? resolve(home) : null;
  let dir = resolve(cwd);
  for (;;) {
    dirs.push(dir);
    if (existsSync(join(dir, '.git')) || dir === stop) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dirs;
}

function describe(value: string | null, source: string | null): SecretKey {
  if (value === null) {
    return {
      value: null,
      info: {
        present: false,
        wellFormed: false,
        kind: null,
        source: null,
        masked: null,
        fingerprint: null,
        problem: `${KEY_VARIABLE} is not set, and no .env or .env.local file up to the repository root defines it`,
      },
    };
  }
  const kind = keyKind(value);
  if (kind === null) {
    // Say what is wrong without echoing any of it: a pasted value may be some other secret.
    const looksPublishable = value.startsWith('pk_');
    // A value pasted with its quotes (CLERK_SECRET_KEY='"sk_test_…"', or quoted twice in .env).
    const quoted = /^(["'`]).*\1$/s.test(value) && keyKind(value.slice(1, -1)) !== null;
    const problem = looksPublishable
      ? `${KEY_VARIABLE} (from ${source}) is a publishable key (pk_…), not a secret key`
      : quoted
        ? `${KEY_VARIABLE} (from ${source}) is wrapped in quotes that are part of its value: remove them`
        : `${KEY_VARIABLE} (from ${source}) is not a well-formed Clerk secret key (expected sk_test_… or sk_live_… followed by at least 20 letters or digits; got ${value.length} characters)`;
    return {
      value: null,
      info: { present: true, wellFormed: false, kind: null, source, masked: null, fingerprint: null, problem },
    };
  }
  return {
    value,
    info: { present: true, wellFormed: true, kind, source, masked: maskKey(value), fingerprint: keyFingerprint(value), problem: null },
  };
}

/** Describes a key value given directly (tests, the executor's in-process use). */
export function describeSecretKey(value: string | null | undefined, source: string | null = KEY_VARIABLE): SecretKey {
  return describe(value === undefined || value === null ? null : value.trim(), value === undefined || value === null ? null : source);
}

/**
 * Finds the key: `CLERK_SECRET_KEY` in the environment, else the first `.env.local` then `.env`
 * that defines it, walking up from `cwd` and stopping at the repository root or $HOME.
 */
export function findSecretKey(env: Record<string, string | undefined>, cwd: string): SecretKey {
  const fromEnv = env[KEY_VARIABLE];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return describe(fromEnv.trim(), KEY_VARIABLE);
  const found = findDotenvValue(KEY_VARIABLE, env, cwd);
  return found ? describe(found.value, found.from) : describe(null, null);
}

/** `name` from the first `.env.local`, then `.env`, that defines it, walking up from `cwd` to the repository root or $HOME. */
export function findDotenvValue(name: string, env: Record<string, string | undefined>, cwd: string): { value: string; from: string } | null {
  for (const dir of envSearchDirs(cwd, env.HOME)) {
    for (const fileName of ENV_FILES) {
      const file = join(dir, fileName);
      if (!existsSync(file) || isDirectory(file)) continue;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      const value = parseDotenv(text).get(name);
      if (value !== undefined && value !== '') return { value, from: file };
    }
  }
  return null;
}

/** How to set the key, for a refusal. */
export const KEY_HINTS = [
  `Set ${KEY_VARIABLE} in the environment (export ${KEY_VARIABLE}=sk_test_…), or in a .env / .env.local file`,
  'in this directory or a parent up to the repository root. Find it in the Clerk Dashboard under API keys.',
];

/** `value` with every occurrence of `secret` in its strings replaced (a key pasted into a body is never echoed). */
export function redactSecret<T>(value: T, secret: string | null, replacement = '[REDACTED]'): T {
  if (secret === null || secret.length < 8) return value;
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return item.includes(secret) ? item.split(secret).join(replacement) : item;
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([k, v]) => [walk(k) as string, walk(v)]));
    return item;
  };
  return walk(value) as T;
}

/**
 * The key as JSON may spell it: any of its characters as a `\uXXXX` escape (either case of hex), so a
 * server that echoes it escaped inside a JSON string is redacted as well as one that echoes it plainly.
 */
export function escapedSecretPattern(secret: string): RegExp {
  const hex = (digit: string) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit);
  const parts = [...secret].map((char) => {
    const code = (char.codePointAt(0) ?? 0).toString(16).padStart(4, '0');
    return `(?:${char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|\\\\u${[...code].map(hex).join('')})`;
  });
  return new RegExp(parts.join(''), 'g');
}

/**
 * `stream` with the key replaced by its masked form in everything written to it: a server that
 * echoes the key (in an error message, a trace id, a page title) must not make the toolkit print it.
 */
export function redactingStream<S extends { write(chunk: string): unknown }>(stream: S, secret: string | null, replacement: string): S {
  if (secret === null || secret.length < 8) return stream;
  const escaped = escapedSecretPattern(secret);
  const redact = (chunk: string) => {
    const literal = chunk.includes(secret) ? chunk.split(secret).join(replacement) : chunk;
    return literal.includes('\\u') ? literal.replace(escaped, replacement) : literal;
  };
  return new Proxy(stream, {
    get(target, property, receiver) {
      if (property === 'write') return (chunk: string) => target.write(typeof chunk === 'string' ? redact(chunk) : chunk);
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A refused key as an error (exit 3), for a read that only needs the key check. */
export function keyError(info: KeyInfo): PolicyError {
  return new KeyInvalidError(info.problem ?? 'no usable CLERK_SECRET_KEY', { hints: KEY_HINTS });
}
