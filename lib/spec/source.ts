// Where spec versions come from: GitHub's contents API for clerk/openapi-specs (the default), or a
// local directory laid out like that repository (CLERK_SPECS_SOURCE). Network code loads node:https lazily.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UnavailableError, UsageError } from '../core/errors.js';
import { gitBlobSha } from './git-blob.js';
import { readSpecFile } from './parse.js';
import { userAgent } from '../core/version.js';

export const SPEC_REPO = 'clerk/openapi-specs';
export const SPEC_DIR = 'bapi';

export interface VersionEntry {
  /** YYYY-MM-DD */
  version: string;
  name: string;
  /** git blob sha of the file */
  sha: string;
  size: number;
  /** GitHub: the file's download_url; local: the file's path. */
  location: string;
  /** Local only: to notice a changed file without hashing it again. */
  mtimeMs?: number;
  /** From the snapshot shipped with the toolkit (location: its compressed file). */
  snapshot?: true;
}

export type SpecSource = { kind: 'github'; apiUrl: string; token?: string; timeoutMs?: number } | { kind: 'local'; dir: string };

const VERSION_FILE = /^(\d{4}-\d{2}-\d{2})\.yml$/;

/** `2025-11-10.yml` → `2025-11-10`; other names → null. */
export function versionFromFileName(name: string): string | null {
  return VERSION_FILE.exec(name)?.[1] ?? null;
}

export function sourceFromEnv(env: Record<string, string | undefined>, cwd: string): SpecSource {
  const local = env.CLERK_SPECS_SOURCE;
  if (local) return { kind: 'local', dir: resolve(cwd, local) };
  const apiUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new UsageError(`GITHUB_API_URL is not a URL: ${apiUrl}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`GITHUB_API_URL must be http(s): ${apiUrl}`);
  const timeoutMs = listingTimeoutMs(env);
  return env.GITHUB_TOKEN ? { kind: 'github', apiUrl, token: env.GITHUB_TOKEN, timeoutMs } : { kind: 'github', apiUrl, timeoutMs };
}

export function listingUrl(source: { apiUrl: string }, dir = SPEC_DIR): string {
  return `${source.apiUrl}/repos/${SPEC_REPO}/contents/${dir}`;
}

/** A stable name for a source: shown to users and used to keep listings of different sources apart. */
export function describeSource(source: SpecSource): string {
  return source.kind === 'local' ? resolve(source.dir) : listingUrl(source);
}

export function sortEntries(entries: VersionEntry[]): VersionEntry[] {
  return entries.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** Lists a local source, reusing the shas of files whose size and mtime did not change. */
export function listLocal(source: { dir: string }, previous: VersionEntry[] = [], family = SPEC_DIR): VersionEntry[] {
  const dir = join(source.dir, family);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new UnavailableError(`CLERK_SPECS_SOURCE has no readable ${family}/ directory: ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      hints: ['Point CLERK_SPECS_SOURCE at a checkout of clerk/openapi-specs (it holds bapi/YYYY-MM-DD.yml), or unset it to use GitHub.'],
    });
  }
  const known = new Map(previous.map((entry) => [entry.location, entry]));
  const entries: VersionEntry[] = [];
  for (const name of names) {
    const version = versionFromFileName(name);
    if (!version) continue;
    const location = join(dir, name);
    const stat = statSync(location, { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    const old = known.get(location);
    if (old && old.size === stat.size && old.mtimeMs === stat.mtimeMs) {
      entries.push(old);
      continue;
    }
    const sha = gitBlobSha(readSpecFile(location));
    entries.push({ version, name, sha, size: stat.size, location, mtimeMs: stat.mtimeMs });
  }
  return sortEntries(entries);
}

export type GithubListing = { notModified: true } | { notModified: false; entries: VersionEntry[]; etag: string | null };

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** How long the listing may take: a listing that never answers must not hold a command for long. */
export const LISTING_TIMEOUT_VARIABLE = 'CLERK_SPECS_TIMEOUT';
const DEFAULT_LISTING_TIMEOUT_MS = 8_000;
const DOWNLOAD_TIMEOUT_MS = 60_000;

export function listingTimeoutMs(env: Record<string, string | undefined>): number {
  const raw = env[LISTING_TIMEOUT_VARIABLE];
  const seconds = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_LISTING_TIMEOUT_MS;
}

// node:http(s), not undici: loading undici costs ~80 ms of a command's start, and a listing that
// fails (no network) must fall back to the cache or the snapshot at once.
async function httpGet(url: string, headers: Record<string, string>, what: string, timeoutMs: number): Promise<HttpAnswer> {
  const target = new URL(url);
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<HttpAnswer>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException | null, timedOut: boolean) => {
      clearTimeout(answerTimer);
      clearTimeout(downloadTimer);
      if (timedOut) {
        reject(new UnavailableError(`${target.host} did not answer within ${Math.round(timeoutMs / 1000)} s for ${what}`, { hints: [`Set ${LISTING_TIMEOUT_VARIABLE}=SECONDS to wait longer.`] }));
      } else {
        reject(new UnavailableError(`cannot reach ${target.host} for ${what}: ${error?.code ?? error?.message ?? 'the connection closed'}`));
      }
    };
    let timedOut = false;
    const req = request(target, { method: 'GET', headers }, (res) => {
      clearTimeout(answerTimer);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => fail(error, timedOut));
      res.on('end', () => {
        clearTimeout(downloadTimer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    // No answer within the listing's timeout, or no whole body within the download's: given up, in words.
    const answerTimer = setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, timeoutMs);
    const downloadTimer = setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, timeoutMs + DOWNLOAD_TIMEOUT_MS);
    req.on('error', (error) => fail(error, timedOut));
    req.end();
  });
}

function githubFailure(answer: HttpAnswer, url: string, what: string): UnavailableError {
  const remaining = header(answer, 'x-ratelimit-remaining');
  if ((answer.status === 403 || answer.status === 429) && remaining === '0') {
    const reset = Number(header(answer, 'x-ratelimit-reset'));
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
    return new UnavailableError(`GitHub's API rate limit is exhausted${when} (HTTP ${answer.status} for ${what})`, {
      hints: ['Set GITHUB_TOKEN to a GitHub token: authenticated requests get a much higher limit.', 'Or set CLERK_SPECS_SOURCE to a local checkout of clerk/openapi-specs.'],
    });
  }
  if (answer.status === 404) {
    return new UnavailableError(`GitHub answered 404 Not Found for ${what}: ${url}`, {
      hints: ['Check GITHUB_API_URL (default https://api.github.com); the specs live in clerk/openapi-specs under bapi/.'],
    });
  }
  if (answer.status === 401) {
    return new UnavailableError(`GitHub answered 401 for ${what}: GITHUB_TOKEN was refused`, { hints: ['Fix or unset GITHUB_TOKEN.'] });
  }
  return new UnavailableError(`GitHub answered HTTP ${answer.status} for ${what}`, {
    hints: answer.status >= 500 ? ['GitHub is having trouble; try again later, or use --offline with a cached store.'] : [],
  });
}

function githubHeaders(source: { token?: string }): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'user-agent': userAgent(),
    'x-github-api-version': '2022-11-28',
  };
  if (source.token) headers.authorization = `Bearer ${source.token}`;
  return headers;
}

/** Fetches the listing of bapi/ (or `family`/) from GitHub's contents API; `etag` makes an unchanged listing cost a 304. */
export async function fetchGithubListing(source: { apiUrl: string; token?: string; timeoutMs?: number }, etag: string | null, family = SPEC_DIR): Promise<GithubListing> {
  const url = listingUrl(source, family);
  const headers = githubHeaders(source);
  if (etag) headers['if-none-match'] = etag;
  const answer = await httpGet(url, headers, 'the list of spec versions', source.timeoutMs ?? DEFAULT_LISTING_TIMEOUT_MS);
  if (answer.status === 304) return { notModified: true };
  if (answer.status !== 200) throw githubFailure(answer, url, 'the list of spec versions');
  let items: unknown;
  try {
    items = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new UnavailableError(`GitHub's listing of ${family}/ is not JSON (${url})`);
  }
  if (!Array.isArray(items)) throw new UnavailableError(`GitHub's listing of ${family}/ is not a directory listing (${url})`);
  const entries: VersionEntry[] = [];
  for (const item of items as Array<Record<string, unknown>>) {
    if (item?.type !== 'file' || typeof item.name !== 'string' || typeof item.sha !== 'string' || typeof item.download_url !== 'string') continue;
    const version = versionFromFileName(item.name);
    if (!version) continue;
    entries.push({ version, name: item.name, sha: item.sha, size: typeof item.size === 'number' ? item.size : -1, location: item.download_url });
  }
  return { notModified: false, entries: sortEntries(entries), etag: header(answer, 'etag') ?? null };
}

/** Downloads one version and checks its bytes against the listing's git blob sha. */
export async function downloadSpec(source: { apiUrl: string; token?: string }, entry: VersionEntry): Promise<Buffer> {
  const headers = githubHeaders(source);
  // The token is for GitHub's API host; a download_url elsewhere (raw.githubusercontent.com) does not get it.
  if (new URL(entry.location).origin !== new URL(source.apiUrl).origin) delete headers.authorization;
  headers.accept = '*/*';
  const what = `spec ${entry.name}`;
  const answer = await httpGet(entry.location, headers, what, DOWNLOAD_TIMEOUT_MS);
  if (answer.status !== 200) throw githubFailure(answer, entry.location, what);
  const sha = gitBlobSha(answer.body);
  if (sha !== entry.sha) {
    throw new UnavailableError(
      `the download of ${entry.name} does not match its listed sha (${answer.body.length} bytes, sha ${sha.slice(0, 12)}, expected ${entry.sha.slice(0, 12)}): truncated or altered in transit`,
      { hints: ['Try again; if it persists, run with --refresh to fetch a new listing.'] },
    );
  }
  return answer.body;
}
