// A local server that imitates GitHub for the spec source: the contents API listings of bapi/ and
// webhooks/ (in the shape of ../shared/clerk-openapi-specs/github-contents-*.json, download_urls
// pointing here) and the raw files, with the failures users meet (rate limit, 404, 5xx, truncated
// downloads) on demand, and files a test adds (a version no one has seen).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gitBlobSha } from '../../lib/spec/git-blob.js';
import { SHARED_SPECS_DIR } from './spec-fixtures.js';

export type GithubFault = 'rate-limit' | 'not-found' | 'server-error' | 'truncate' | 'reset' | 'hang';

export interface FakeGithub {
  url: string;
  /** Every request received: method, path, and whether it carried a token. */
  requests: Array<{ method: string; path: string; authorization: string | undefined; ifNoneMatch: string | undefined }>;
  /** Fail the listing (`listing`) or downloads (`download`) this way until cleared. */
  faults: { listing?: GithubFault; download?: GithubFault };
  /** Only these file names are listed (default: all in the shared listing). */
  only: string[] | null;
  /** Files listed besides the shared ones: `webhooks/2026-09-01.yml` → a path on disk. */
  extra: Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeGithub(): Promise<FakeGithub> {
  const listings = Object.fromEntries(['bapi', 'webhooks'].map((family) => [family, JSON.parse(readFileSync(join(SHARED_SPECS_DIR, `github-contents-${family}.json`), 'utf8')) as Array<Record<string, unknown>>]));
  const state: FakeGithub = {
    url: '',
    requests: [],
    faults: {},
    only: null,
    extra: {},
    close: async () => {},
  };
  const extraEntries = (family: string) =>
    Object.entries(state.extra)
      .filter(([path]) => path.startsWith(`${family}/`))
      .map(([path, file]) => {
        const bytes = readFileSync(file);
        return { name: path.slice(family.length + 1), path, sha: gitBlobSha(bytes), size: bytes.length, type: 'file' };
      });

  function fail(res: ServerResponse, fault: GithubFault, body: Buffer | null): void {
    if (fault === 'rate-limit') {
      res.writeHead(403, { 'content-type': 'application/json', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1893456000' });
      res.end(JSON.stringify({ message: 'API rate limit exceeded for 127.0.0.1.' }));
    } else if (fault === 'not-found') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
    } else if (fault === 'server-error') {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad gateway</body></html>');
    } else if (fault === 'truncate' && body) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(body.subarray(0, Math.floor(body.length / 2)));
    } else if (fault === 'hang') {
      // Never answers; the connection closes when the client gives up or the server stops.
    } else {
      res.socket?.destroy();
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', state.url).pathname;
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    state.requests.push({ method: req.method ?? 'GET', path, authorization: header('authorization'), ifNoneMatch: header('if-none-match') });
    const listed = /^\/repos\/clerk\/openapi-specs\/contents\/(bapi|webhooks)$/.exec(path)?.[1];
    if (listed) {
      if (state.faults.listing) return fail(res, state.faults.listing, null);
      const entries = [...(listings[listed] as Array<Record<string, unknown>>), ...extraEntries(listed)]
        .filter((entry) => state.only === null || state.only.includes(String(entry.name)))
        .map((entry) => ({ ...entry, download_url: `${state.url}/raw/${String(entry.path)}` }));
      const body = JSON.stringify(entries);
      const etag = `"${Buffer.from(body).length}-${entries.length}"`;
      if (header('if-none-match') === etag) {
        res.writeHead(304, { etag });
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json', etag, 'x-ratelimit-remaining': '59' });
      return void res.end(body);
    }
    const raw = /^\/raw\/((?:bapi|webhooks)\/\d{4}-\d{2}-\d{2}\.yml)$/.exec(path);
    if (raw?.[1]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(state.extra[raw[1]] ?? join(SHARED_SPECS_DIR, raw[1]));
      } catch {
        res.writeHead(404);
        return void res.end('404: Not Found');
      }
      if (state.faults.download) return fail(res, state.faults.download, bytes);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': bytes.length });
      return void res.end(bytes);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Not Found' }));
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
