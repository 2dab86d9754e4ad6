// Where a request goes: CLERK_API_URL checked (https, or http to this machine), and PATH normalised
// once (parseRequestTarget) into the path the guard judges and the URL that carries exactly it.
import { parseRequestTarget } from '../endpoint/match.js';
import { UsageError } from '../core/errors.js';

export const DEFAULT_API_URL = 'https://api.clerk.com';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A URL the key may be sent to: https anywhere, plain http only to this machine. */
export function isTrustedOrigin(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** CLERK_API_URL, checked: https, or http on loopback; no credentials, query or fragment. */
export function resolveBaseUrl(raw: string | undefined): URL {
  const text = raw === undefined || raw.trim() === '' ? DEFAULT_API_URL : raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`CLERK_API_URL is not a URL: ${JSON.stringify(text)}`);
  }
  if (!isTrustedOrigin(url)) {
    throw new UsageError(`CLERK_API_URL must be https:// (or http:// to localhost for tests), not ${url.protocol}//${url.host}`, {
      hints: ['The secret key would travel in clear text.'],
    });
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError('CLERK_API_URL must be a plain base URL such as https://api.clerk.com (no credentials, query or fragment)');
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/**
 * The URL of PATH under the base URL: `/v1` added when PATH lacks it, PATH's own `?query` kept before
 * `query`. PATH goes through the same normalisation as the guard's (parseRequestTarget), so the
 * request sent is the request judged; a PATH that names another host, climbs with `..`, holds a
 * backslash or control characters, or that the URL parser would read differently, is refused
 * before anything is sent.
 */
export function buildRequestUrl(base: URL, rawPath: string, query: Array<[string, string]> = []): URL {
  return resolveRequestTarget(base, rawPath, query).url;
}

export interface ResolvedTarget {
  /** What the guard judges: leading slash, no /v1, no query (e.g. /users/user_1). */
  path: string;
  /** PATH's own query pairs, then `query`. */
  query: Array<[string, string]>;
  /** What is sent. */
  url: URL;
}

/** PATH normalised once: the path the guard judges and the URL that carries exactly that path. */
export function resolveRequestTarget(base: URL, rawPath: string, query: Array<[string, string]> = []): ResolvedTarget {
  const target = parseRequestTarget(rawPath);
  if (target.origin !== undefined && sameOrigin(target.origin, base) === false) {
    throw new UsageError(`PATH names another host (${target.origin.replace(/^[a-z]+:\/\//, '')}); requests go only to ${base.host}`, {
      hints: ['Set CLERK_API_URL to change the API host.'],
    });
  }
  if (target.path === '/') throw new UsageError('PATH is empty; give an API path such as /users');
  const basePath = base.pathname.replace(/\/+$/, '');
  const prefix = basePath.endsWith('/v1') ? basePath : `${basePath}/v1`;
  const url = new URL(base.href);
  url.pathname = `${prefix}${target.path}`;
  // The URL parser percent-encodes what it must; it must not change a segment's meaning.
  const sent = url.pathname.slice(prefix.length);
  if (decodedSegments(sent) !== decodedSegments(target.path)) {
    throw new UsageError(`PATH would be sent as ${sent}, which is not what it says: ${rawPath}`);
  }
  const pairs = [...target.query, ...query];
  const params = new URLSearchParams();
  for (const [name, value] of pairs) params.append(name, value);
  url.search = params.toString();
  return { path: target.path, query: pairs, url };
}

function sameOrigin(origin: string, base: URL): boolean {
  try {
    return new URL(origin).origin === base.origin;
  } catch {
    return false;
  }
}

function decodedSegments(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return `\u0000${segment}`;
      }
    })
    .join('\u0000/');
}
