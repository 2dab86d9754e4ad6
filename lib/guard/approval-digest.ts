// What binds an approval to one request, and what seals a record: canonical JSON (object keys sorted,
// prototype-less), the request's digest, and an HMAC under a secret the caller holds.
import { crypto } from '../core/builtins.js';
import type { ApprovalRequest } from './approvals.js';

/** JSON with object keys sorted at every level, so equal values always serialise the same way. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // Prototype-less, so that a "__proto__" key is a key like any other and not a prototype to set.
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortKeys(item);
    }
    return sorted;
  }
  return value;
}

function sha256(text: string): string {
  return crypto().createHash('sha256').update(text).digest('hex');
}

/** `/v1/users/x/` and `https://api.clerk.com/v1/users/x` are `/users/x`. */
export function canonicalPath(path: string): string {
  let p = path.trim().replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  if (!p.startsWith('/')) p = `/${p}`;
  p = p.replace(/\/{2,}/g, '/');
  if (p === '/v1' || p.startsWith('/v1/')) p = p.slice(3) || '/';
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Query pairs sorted by name then value: their order does not change what Clerk does. */
export function canonicalQuery(query: Array<[string, string]>): Array<[string, string]> {
  return query.map(([k, v]): [string, string] => [String(k), String(v)]).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
}

export function bodyHash(body: unknown): string | null {
  return body === undefined ? null : `sha256:${sha256(canonicalJson(body))}`;
}

/** The hash that binds an approval to one request. */
export function requestDigest(request: ApprovalRequest): string {
  return `sha256:${sha256(
    canonicalJson({
      method: request.method.toUpperCase(),
      path: canonicalPath(request.path),
      query: canonicalQuery(request.query),
      body: bodyHash(request.body),
      version: request.version,
      spec: request.specDigest,
      origin: request.origin,
      key: request.keyFingerprint,
    }),
  )}`;
}

/** The HMAC-SHA256 of a record's canonical JSON under `secret`, hex. */
export function hmacOf(secret: Buffer, record: unknown): string {
  return crypto().createHmac('sha256', secret).update(canonicalJson(record)).digest('hex');
}

/** True when `mac` is `record`'s HMAC under `secret` (compared in constant time). */
export function hmacMatches(secret: Buffer, record: unknown, mac: unknown): boolean {
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
  return crypto().timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(hmacOf(secret, record), 'hex'));
}
