// The store: downloaded specs and their indexes, keyed by the spec file's git blob sha, in the user's
// cache directory (CLERK_SPECS_DIR). Every file is written atomically and checked when read, so a
// truncated or corrupt file is rebuilt, never served; concurrent processes share work through locks.
import { readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from './errors.js';
import { ensureDir, isUnwritable, writeFileAtomic } from './fs-atomic.js';
import { checksum, gitBlobSha } from './git-blob.js';
import { withLock } from './lock.js';
import { buildIndex, INDEX_FORMAT, type SpecDetail, type SpecIndex, type SpecSummary } from './spec-index.js';
import { parseSpecText } from './spec-parse.js';
import {
  describeSource,
  downloadSpec,
  fetchGithubListing,
  listLocal,
  type SpecSource,
  type VersionEntry,
} from './spec-source.js';

/** How long a GitHub listing is trusted before it is revalidated. */
export const LISTING_MAX_AGE_MS = 60 * 60 * 1000;

export function defaultStoreDir(env: Record<string, string | undefined>): string {
  if (env.CLERK_SPECS_DIR) return env.CLERK_SPECS_DIR;
  const home = env.HOME || homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'clerk-bapi-toolkit');
  if (process.platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'clerk-bapi-toolkit', 'cache');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'clerk-bapi-toolkit');
}

export interface Listing {
  source: string;
  checkedAt: number;
  etag: string | null;
  entries: VersionEntry[];
}

export interface StoreOptions {
  dir: string;
  source: SpecSource;
  offline: boolean;
  refresh: boolean;
  warn: (message: string) => void;
  progress?: (message: string) => void;
  now?: () => number;
}

// Files the store writes carry a one-line header with their body's length and checksum: a truncated
// or damaged file fails the check instead of parsing into something wrong.
function sealed(kind: string, key: string, body: string): string {
  const header = { kind, key, format: INDEX_FORMAT, length: body.length, checksum: checksum(body) };
  return `${JSON.stringify(header)}\n${body}`;
}

function unseal<T>(path: string, kind: string, key: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const newline = text.indexOf('\n');
  if (newline < 0) return null;
  try {
    const header = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
    const body = text.slice(newline + 1);
    if (header.kind !== kind || header.key !== key || header.format !== INDEX_FORMAT) return null;
    if (header.length !== body.length || header.checksum !== checksum(body)) return null;
    return JSON.parse(body) as T;
  } catch {
    return null;
  }
}

/** What the detail file keeps: the parts of the spec that the index is built from. */
interface CompactSpec {
  openapi: unknown;
  info: { title: unknown };
  tags: unknown;
  paths: unknown;
  components: unknown;
}

function compact(spec: Record<string, unknown>): CompactSpec {
  const info = (spec.info ?? {}) as Record<string, unknown>;
  return { openapi: spec.openapi, info: { title: info.title }, tags: spec.tags, paths: spec.paths, components: spec.components };
}

export class SpecStore {
  readonly dir: string;
  readonly source: SpecSource;
  private readonly options: StoreOptions;
  private writable = true;
  /** Indexes built by this process, so an unwritable store parses each spec once. */
  private readonly built = new Map<string, SpecIndex>();

  constructor(options: StoreOptions) {
    this.options = options;
    this.dir = options.dir;
    this.source = options.source;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private listingPath(): string {
    return join(this.dir, `listing-${checksum(describeSource(this.source))}.json`);
  }

  private summaryPath(sha: string): string {
    return join(this.dir, 'index', `${sha}.v${INDEX_FORMAT}.summary.json`);
  }

  private detailPath(sha: string): string {
    return join(this.dir, 'index', `${sha}.v${INDEX_FORMAT}.detail.json`);
  }

  private specPath(sha: string): string {
    return join(this.dir, 'specs', `${sha}.yml`);
  }

  /** Writes into the store; a store that cannot be written degrades to working in memory. */
  private save(path: string, data: string | Buffer): void {
    if (!this.writable) return;
    try {
      writeFileAtomic(path, data);
    } catch (error) {
      if (!isUnwritable(error)) throw error;
      this.writable = false;
      this.options.warn(`warning: cannot write the spec store at ${this.dir} (${(error as NodeJS.ErrnoException).code}); working without a cache. Set CLERK_SPECS_DIR to a writable directory.`);
    }
  }

  private readListing(): Listing | null {
    const listing = unseal<Listing>(this.listingPath(), 'listing', describeSource(this.source));
    return listing && Array.isArray(listing.entries) ? listing : null;
  }

  private writeListing(listing: Listing): void {
    this.save(this.listingPath(), sealed('listing', describeSource(this.source), JSON.stringify(listing)));
  }

  /** The versions the source offers, from the cache when it is fresh enough. */
  async listing(): Promise<Listing> {
    const cached = this.readListing();
    const source = this.source;
    if (source.kind === 'local') {
      const entries = listLocal(source, cached?.entries);
      const unchanged = cached !== null && JSON.stringify(cached.entries) === JSON.stringify(entries);
      const listing = unchanged ? cached : { source: describeSource(source), checkedAt: this.now(), etag: null, entries };
      if (!unchanged) this.writeListing(listing);
      return listing;
    }
    if (this.options.offline) {
      if (cached) return cached;
      throw new UnavailableError('--offline was given and the spec store has no list of versions yet', {
        hints: [`Run once without --offline to fill the store (${this.dir}), or set CLERK_SPECS_SOURCE to a local checkout of clerk/openapi-specs.`],
      });
    }
    const fresh = cached !== null && this.now() - cached.checkedAt < LISTING_MAX_AGE_MS;
    if (fresh && !this.options.refresh) return cached;
    try {
      const answer = await fetchGithubListing(source, cached?.etag ?? null);
      const listing: Listing = answer.notModified
        ? { ...(cached as Listing), checkedAt: this.now() }
        : { source: describeSource(source), checkedAt: this.now(), etag: answer.etag, entries: answer.entries };
      this.writeListing(listing);
      return listing;
    } catch (error) {
      if (!(error instanceof UnavailableError) || !cached) {
        if (error instanceof UnavailableError) {
          error.hints.push('Nothing is cached yet: set CLERK_SPECS_SOURCE to a local checkout of clerk/openapi-specs, or pass --spec FILE.');
        }
        throw error;
      }
      const age = new Date(cached.checkedAt).toISOString().replace(/\.\d+Z$/, 'Z');
      this.options.warn(`warning: ${error.message}; using the cached list of versions from ${age}`);
      return cached;
    }
  }

  private async specBytes(entry: VersionEntry): Promise<Buffer> {
    const source = this.source;
    if (source.kind === 'local') {
      const bytes = readFileSync(entry.location);
      if (gitBlobSha(bytes) !== entry.sha) throw new UnavailableError(`${entry.location} changed while it was being read; run the command again`);
      return bytes;
    }
    const path = this.specPath(entry.sha);
    try {
      const bytes = readFileSync(path);
      if (gitBlobSha(bytes) === entry.sha) return bytes;
    } catch {
      // not downloaded yet
    }
    if (this.options.offline) {
      throw new UnavailableError(`spec ${entry.version} is not in the store and --offline forbids downloading it`, {
        hints: ['Run once without --offline, or choose a cached version with --api-version.'],
      });
    }
    this.options.progress?.(`downloading ${entry.name}…`);
    const bytes = await downloadSpec(source, entry);
    this.save(path, bytes);
    return bytes;
  }

  /** The summary of one version, building the index on first use. */
  async summary(entry: VersionEntry): Promise<SpecSummary> {
    const ready = () => unseal<SpecSummary>(this.summaryPath(entry.sha), 'summary', entry.sha);
    const existing = ready();
    if (existing) return existing;
    return withLock(join(this.dir, 'locks', `${entry.sha}.lock`), ready, async () => {
      const index = await this.build(entry);
      return index.summary;
    }).catch(async (error: unknown) => {
      // A store we cannot even lock in: build in memory.
      if (!isUnwritable(error)) throw error;
      this.writable = false;
      return (await this.build(entry)).summary;
    });
  }

  /** The detail of one version (raw operations and components). */
  async detail(entry: VersionEntry): Promise<SpecDetail> {
    const built = this.built.get(entry.sha);
    if (built) return built.detail;
    const cached = unseal<CompactSpec>(this.detailPath(entry.sha), 'detail', entry.sha);
    if (cached) return buildIndex(cached, { version: entry.version, sha: entry.sha }).detail;
    return (await this.build(entry)).detail;
  }

  private async build(entry: VersionEntry): Promise<SpecIndex> {
    const bytes = await this.specBytes(entry);
    this.options.progress?.(`indexing ${entry.name}…`);
    const spec = await parseSpecText(bytes.toString('utf8'), `spec ${entry.name}`);
    const kept = compact(spec);
    const index = buildIndex(kept, { version: entry.version, sha: entry.sha });
    this.built.set(entry.sha, index);
    ensureDirQuietly(join(this.dir, 'index'));
    // The summary is written last: its presence says the detail is there too.
    this.save(this.detailPath(entry.sha), sealed('detail', entry.sha, JSON.stringify(kept)));
    this.save(this.summaryPath(entry.sha), sealed('summary', entry.sha, JSON.stringify(index.summary)));
    return index;
  }

  /** Index of a spec given as text (--spec): cached by its sha when the store is writable. */
  async indexText(text: string, version: string, label: string): Promise<{ summary: SpecSummary; loadDetail: () => Promise<SpecDetail> }> {
    const sha = gitBlobSha(Buffer.from(text, 'utf8'));
    const summary = unseal<SpecSummary>(this.summaryPath(sha), 'summary', sha);
    const detail = unseal<CompactSpec>(this.detailPath(sha), 'detail', sha);
    if (summary && detail && summary.version === version) {
      return { summary, loadDetail: async () => buildIndex(detail, { version, sha }).detail };
    }
    const kept = compact(await parseSpecText(text, label));
    const index = buildIndex(kept, { version, sha });
    ensureDirQuietly(join(this.dir, 'index'));
    this.save(this.detailPath(sha), sealed('detail', sha, JSON.stringify(kept)));
    this.save(this.summaryPath(sha), sealed('summary', sha, JSON.stringify(index.summary)));
    return { summary: index.summary, loadDetail: async () => index.detail };
  }

  /** Removes a corrupt or unwanted index (tests, `clean`). */
  forget(sha: string): void {
    rmSync(this.summaryPath(sha), { force: true });
    rmSync(this.detailPath(sha), { force: true });
  }
}

function ensureDirQuietly(dir: string): void {
  try {
    ensureDir(dir);
  } catch {
    // save() reports an unwritable store once
  }
}
