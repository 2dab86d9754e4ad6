// The one normalisation of a request's path, shared by the explorers, the guard and the executor:
// what the guard judges is what the executor sends. Anything a URL parser or a server would read
// differently from how it reads here is refused rather than normalised.
import { UsageError } from '../core/errors.js';

export interface RequestTarget {
  /** Leading slash, no /v1 prefix, no query or fragment, no trailing slash (except `/`). */
  path: string;
  query: Array<[string, string]>;
  /** `scheme://host[:port]` when the input was a full URL. */
  origin?: string;
}

// The one normalisation of a path, shared by the explorers, the guard and the executor: what the
// guard judges is what the executor sends. Anything a URL parser or a server would read differently
// from how it reads here is refused rather than normalised: a backslash (WHATWG URL turns it into
// `/`), dot segments, also %-encoded (`%2e%2e` climbs as `..` does), encoded separators and controls.
function checkPathText(raw: string, path: string): void {
  if (/[\u0000-\u001f\u007f-\u009f]/.test(raw)) throw new UsageError(`invalid path ${JSON.stringify(raw)}: it contains control characters`);
  if (raw.includes('\\')) throw new UsageError(`invalid path ${JSON.stringify(raw)}: it contains a backslash, which URLs read as /`);
  for (const segment of path.split('/')) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new UsageError(`invalid path ${JSON.stringify(raw)}: it has a malformed %-escape`);
    }
    if (decoded === '.' || decoded === '..') throw new UsageError(`invalid path ${JSON.stringify(raw)}: it contains a '${decoded}' segment`);
    // `user_1;x=y` would be judged as one id, but servers that read `;` as path parameters act on `user_1`.
    if (decoded.includes(';')) throw new UsageError(`invalid path ${JSON.stringify(raw)}: a ';' in a path segment is read as path parameters by some servers, so the id judged would not be the one acted on`);
    if (decoded !== segment && /[/\\?#\u0000-\u001f\u007f-\u009f]/.test(decoded)) {
      throw new UsageError(`invalid path ${JSON.stringify(raw)}: it has an encoded separator or control character`);
    }
  }
}

/** Splits a raw path or URL into its normalised path, query pairs and origin. Throws UsageError. */
export function parseRequestTarget(rawTarget: string): RequestTarget {
  const raw = rawTarget.trim();
  if (raw === '') throw new UsageError('missing PATH');
  // What a URL parser reads as a host (`//host/…`) or a fragment is not part of a request path: both
  // are refused here, so that the guard and the executor take one decision on them.
  if (raw.startsWith('//')) throw new UsageError(`PATH names another host (${raw.slice(2).split('/')[0] ?? ''}): give a path such as /users`);
  if (raw.includes('#')) throw new UsageError(`PATH contains a fragment (#), which is never sent: ${JSON.stringify(raw)}`);
  let origin: string | undefined;
  let rest = raw;
  const url = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#\\]*)(.*)$/i.exec(raw);
  if (url) {
    const scheme = (url[1] ?? '').toLowerCase();
    if (scheme !== 'https:' && scheme !== 'http:') throw new UsageError(`unsupported URL scheme in ${JSON.stringify(raw)}: use https://`);
    // A URL parser strips or rejects what a host cannot hold (a space before the path, a control
    // character): judged as written, such a host could be read as another by the code that sends.
    if (/[\s\x00-\x1f\x7f]/.test(url[2] ?? '')) throw new UsageError(`invalid host in ${JSON.stringify(raw)}: a host holds no spaces or control characters`);
    // The origin as a URL parser reads it (`:027431` is port 27431), so every caller compares the same thing.
    try {
      origin = new URL(`${scheme}//${url[2] ?? ''}`).origin;
    } catch {
      throw new UsageError(`invalid host in ${JSON.stringify(raw)}`);
    }
    if (origin === 'null') throw new UsageError(`invalid host in ${JSON.stringify(raw)}`);
    rest = url[3] ?? '';
  }
  const queryAt = rest.indexOf('?');
  const queryText = queryAt >= 0 ? rest.slice(queryAt + 1) : '';
  let path = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  if (!path.startsWith('/')) path = `/${path}`;
  path = path.replace(/\/{2,}/g, '/');
  checkPathText(raw, path);
  if (path === '/v1' || path.startsWith('/v1/')) path = path.slice(3) || '/';
  if (path === '/v1' || path.startsWith('/v1/')) {
    throw new UsageError(`invalid path ${JSON.stringify(raw)}: /v1 is given twice`, { hints: ['Give the path once, with or without /v1: /v1/users or /users.'] });
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const query = queryText === '' ? [] : [...new URLSearchParams(queryText)];
  return origin === undefined ? { path, query } : { path, query, origin };
}

/** The first segment of a judged path that is a placeholder (`<user_id>`, `{user_id}`, `:user_id`), not an id; null when none. */
export function placeholderIn(path: string): string | null {
  for (const segment of path.split('/')) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // a malformed escape is the normalisation's to refuse
    }
    if (/^(<[^>]*>|\{[^}]*\}|:[A-Za-z_][A-Za-z0-9_]*)$/.test(decoded)) return decoded;
  }
  return null;
}
