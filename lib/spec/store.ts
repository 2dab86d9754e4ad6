// The store: downloaded specs and their indexes, keyed by the spec file's git blob sha, in the user's
// cache directory (CLERK_SPECS_DIR). Every file is written atomically and checked when read, so a
// truncated or corrupt file is rebuilt, never served; concurrent processes share work through locks.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '../core/errors.js';
import { ensureDir, isUnwritable, writeFileAtomic } from '../core/fs-atomic.js';
import { gitBlobSha, shortHash } from './git-blob.js';
import { withLock } from '../core/lock.js';
import { buildIndex, INDEX_FORMAT, type SpecDetail, type SpecIndex, type SpecSummary } from './index.js';
import { parseSpecText, readSpecFile } from './parse.js';
import {
  describeSource,
  downloadSpec,
  fetchGithubListing,
  listLocal,
  type SpecSource,
  type VersionEntry,
} from './source.js';
import { snapshotBytes, snapshotIndexDir, snapshotNotice, SNAPSHOT_SOURCE } from './snapshot.js';
import { compact, encodeDetail, openDetail, sealed, unseal } from './store-files.js';
import { os } from '../core/builtins.js';

/** How long a GitHub listing is trusted before it is revalidated. */
export const LISTING_MAX_AGE_MS = 60 * 60 * 1000;

export function defaultStoreDir(env: Record<string, string | undefined>): string {
  if (env.CLERK_SPECS_DIR) return env.CLERK_SPECS_DIR;
  const home = env.HOME || os().homedir();
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
  /** The versions to answer from when nothing is cached and the source is out of reach (the snapshot shipped with the toolkit). */
  snapshot?: () => VersionEntry[];
}

let identity: string | undefined;

/** This build of the toolkit: the file this module runs from (a bundle, or the source under tsx). */
function codeIdentity(): string {
  if (identity === undefined) {
    try {
      const stat = statSync(fileURLToPath(import.meta.url));
      identity = `${INDEX_FORMAT}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      identity = `${INDEX_FORMAT}:${Date.now()}`;
    }
  }
  return identity;
}

/** How long another build's memoised answers are kept: two installed versions may share a store. */
const OTHER_BUILD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Memoised answers of other builds are never read by this one: remove those not written to for a week. */
function pruneOtherBuilds(root: string, keep: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const path = join(root, name);
    if (path === keep) continue;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat && now - stat.mtimeMs > OTHER_BUILD_TTL_MS) rmSync(path, { recursive: true, force: true });
  }
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
    return join(this.dir, `listing-${shortHash(describeSource(this.source))}.json`);
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
      const why = '--offline was given and nothing is cached for this source';
      const remembered = this.fromAnotherSource(why) ?? this.fromSnapshot(why);
      if (remembered) return remembered;
      throw new UnavailableError('--offline was given and the spec store has no list of versions yet', {
        hints: [`Run once without --offline to fill the store (${this.dir}), or set CLERK_SPECS_SOURCE to a local checkout of clerk/openapi-specs.`],
      });
    }
    const fresh = cached !== null && this.now() - cached.checkedAt < LISTING_MAX_AGE_MS;
    if (fresh && !this.options.refresh) return cached;
    try {
      this.options.progress?.('asking GitHub for the list of spec versions…');
      const answer = await fetchGithubListing(source, cached?.etag ?? null);
      const listing: Listing = answer.notModified
        ? { ...(cached as Listing), checkedAt: this.now() }
        : { source: describeSource(source), checkedAt: this.now(), etag: answer.etag, entries: answer.entries };
      this.writeListing(listing);
      return listing;
    } catch (error) {
      if (error instanceof UnavailableError && !cached) {
        const why = [error.message, ...error.hints].join(' ');
        const remembered = this.fromAnotherSource(why) ?? this.fromSnapshot(why);
        if (remembered) return remembered;
      }
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

  /**
   * Nothing cached for this source and it is out of reach: the store remembers the versions it was
   * filled with from another source (a CLERK_SPECS_SOURCE used before), the newest listing whose
   * latest version is indexed here; said once, and kept as this source's listing until it answers.
   */
  private fromAnotherSource(why: string): Listing | null {
    let best: Listing | null = null;
    let names: string[] = [];
    try {
      names = readdirSync(this.dir).filter((name) => /^listing-[0-9a-f]+\.json$/.test(name) && join(this.dir, name) !== this.listingPath());
    } catch {
      return null;
    }
    for (const name of names) {
      const listing = unseal<Listing>(join(this.dir, name), 'listing', null);
      const latest = listing && Array.isArray(listing.entries) ? listing.entries.at(-1) : undefined;
      if (!listing || listing.source === SNAPSHOT_SOURCE || latest === undefined || !existsSync(this.summaryPath(latest.sha))) continue;
      if (best === null || listing.checkedAt > best.checkedAt) best = listing;
    }
    if (best === null) return null;
    this.options.warn(`warning: ${why}; answering from the versions this store was filled with from ${best.source} (latest ${best.entries.at(-1)?.version})`);
    const listing: Listing = { ...best, checkedAt: this.now() };
    this.writeListing(listing);
    return listing;
  }

  /**
   * Nothing cached and GitHub out of reach: the snapshot shipped with the toolkit, said once (its
   * listing is kept like GitHub's, so later runs answer from it quietly until GitHub answers again).
   */
  private fromSnapshot(why: string): Listing | null {
    const entries = this.options.snapshot?.() ?? [];
    if (entries.length === 0) return null;
    this.options.warn(`warning: ${why}; ${snapshotNotice(entries)}`);
    const listing: Listing = { source: SNAPSHOT_SOURCE, checkedAt: this.now(), etag: null, entries };
    this.writeListing(listing);
    return listing;
  }

  private async specBytes(entry: VersionEntry): Promise<Buffer> {
    if (entry.snapshot) return snapshotBytes(entry);
    const source = this.source;
    // A local file (this source's, or another source's the store remembers) is read where it is.
    if (source.kind === 'local' || !/^https?:/i.test(entry.location)) {
      const bytes = readSpecFile(entry.location);
      if (gitBlobSha(bytes) !== entry.sha) throw new UnavailableError(`${entry.location} changed while it was being read; run the command again`);
      return bytes;
    }
    const path = this.specPath(entry.sha);
    try {
      const bytes = readSpecFile(path);
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
    const existing = ready() ?? this.seeded(entry);
    if (existing) return existing;
    const lock = join(this.dir, 'locks', `${entry.sha}.lock`);
    const onWait = (holder: number | null) =>
      this.options.warn(`waiting for another process${holder === null ? '' : ` (pid ${holder})`} that is indexing spec ${entry.version} (lock ${lock})…`);
    return withLock(lock, ready, async () => {
      const index = await this.build(entry);
      return index.summary;
    }, { onWait }).catch(async (error: unknown) => {
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
    const seeded = entry.snapshot ? snapshotIndexDir() : null;
    return openDetail(this.detailPath(entry.sha), entry.sha, entry.version) ?? (seeded ? openDetail(join(seeded, basename(this.detailPath(entry.sha))), entry.sha, entry.version) : null) ?? (await this.build(entry)).detail;
  }

  /** A snapshot version's index as `make build` made it: copied into the store, or read in place when the store cannot be written. */
  private seeded(entry: VersionEntry): SpecSummary | null {
    const dir = entry.snapshot ? snapshotIndexDir() : null;
    if (dir === null) return null;
    const summaryFile = join(dir, basename(this.summaryPath(entry.sha)));
    const summary = unseal<SpecSummary>(summaryFile, 'summary', entry.sha);
    if (summary === null) return null;
    ensureDirQuietly(join(this.dir, 'index'));
    // The summary is copied last: its presence says the detail is there too.
    for (const path of [this.detailPath(entry.sha), this.summaryPath(entry.sha)]) {
      try {
        this.save(path, readFileSync(join(dir, basename(path))));
      } catch {
        return summary;
      }
    }
    return summary;
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
    this.save(this.detailPath(entry.sha), encodeDetail(kept, entry.sha));
    this.save(this.summaryPath(entry.sha), sealed('summary', entry.sha, JSON.stringify(index.summary)));
    return index;
  }

  /** Index of a spec given as text (--spec): cached by its sha when the store is writable. */
  async indexText(text: string, version: string, label: string): Promise<{ sha: string; summary: SpecSummary; loadDetail: () => Promise<SpecDetail> }> {
    const sha = gitBlobSha(Buffer.from(text, 'utf8'));
    const summary = unseal<SpecSummary>(this.summaryPath(sha), 'summary', sha);
    if (summary && summary.version === version) {
      const detailPath = this.detailPath(sha);
      const detail = openDetail(detailPath, sha, version);
      if (detail) return { sha, summary, loadDetail: async () => detail };
    }
    const kept = compact(await parseSpecText(text, label));
    const index = buildIndex(kept, { version, sha });
    ensureDirQuietly(join(this.dir, 'index'));
    this.save(this.detailPath(sha), encodeDetail(kept, sha));
    this.save(this.summaryPath(sha), sealed('summary', sha, JSON.stringify(index.summary)));
    return { sha, summary: index.summary, loadDetail: async () => index.detail };
  }

  /**
   * A value computed from one version's index (such as an endpoint with every `$ref` resolved), kept
   * beside the index so the next command reads it instead of computing it again. Keyed by the
   * spec's sha, `name` and the identity of this build of the toolkit, so new code never reads an
   * answer that older code computed. `keep` may decline to store a value (it is still returned).
   */
  async memo<T>(sha: string, name: string, compute: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    const place = this.memoPlace(sha, name);
    const hit = unseal<{ value: T }>(place.path, 'memo', place.key);
    if (hit) return hit.value;
    const value = await compute();
    if (!keep(value)) return value;
    if (this.writable && !existsSync(place.dir)) pruneOtherBuilds(place.root, place.dir);
    this.save(place.path, sealed('memo', place.key, JSON.stringify({ value })));
    return value;
  }

  /** A memoised value if there is one, without computing anything. */
  peekMemo<T>(sha: string, name: string): T | null {
    const place = this.memoPlace(sha, name);
    return unseal<{ value: T }>(place.path, 'memo', place.key)?.value ?? null;
  }

  private memoPlace(sha: string, name: string): { root: string; dir: string; path: string; key: string } {
    const identity = codeIdentity();
    const key = `${name}\u0000${identity}`;
    const root = join(this.dir, 'index', `${sha}.v${INDEX_FORMAT}.memo`);
    const dir = join(root, shortHash(identity));
    return { root, dir, path: join(dir, `${shortHash(key)}.json`), key };
  }
}

function ensureDirQuietly(dir: string): void {
  try {
    ensureDir(dir);
  } catch {
    // save() reports an unwritable store once
  }
}
