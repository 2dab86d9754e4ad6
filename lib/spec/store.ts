// The store: downloaded specs and their indexes, keyed by the spec file's git blob sha, in the user's
// cache directory (CLERK_SPECS_DIR). Every file is written atomically and checked when read, so a
// truncated or corrupt file is rebuilt, never served; concurrent processes share work through locks.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '../core/errors.js';
import { ensureDir, FileShapeError, isUnwritable, readBoundedFile, writeFileAtomic } from '../core/fs-atomic.js';
import { checksum, gitBlobSha, shortHash } from './git-blob.js';
import { withLock } from '../core/lock.js';
import { buildIndex, endpointKey, endpointRaw, HTTP_METHODS, INDEX_FORMAT, type EndpointRaw, type SpecDetail, type SpecIndex, type SpecSummary } from './index.js';
import { parseSpecText, readSpecFile } from './parse.js';
import {
  describeSource,
  downloadSpec,
  fetchGithubListing,
  listLocal,
  type SpecSource,
  type VersionEntry,
} from './source.js';
import { isObject, type Obj } from '../core/values.js';
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
}

// Files the store writes carry a one-line header with their body's length and checksum: a truncated
// or damaged file fails the check instead of parsing into something wrong.
function sealed(kind: string, key: string, body: string): string {
  const bytes = Buffer.from(body);
  const header = { kind, key, format: INDEX_FORMAT, length: bytes.length, checksum: checksum(bytes) };
  return `${JSON.stringify(header)}\n${body}`;
}

/** A store file's header and body bytes, when the header names `kind`/`key` and the body checks out. */
/** Larger than any index or memo of a Clerk spec; a bigger store file is damage, not data. */
const MAX_STORE_FILE_BYTES = 256 * 1024 * 1024;

function readSealed(path: string, kind: string, key: string): { header: Record<string, unknown>; body: Buffer } | null {
  let file: Buffer;
  try {
    file = readBoundedFile(path, MAX_STORE_FILE_BYTES);
  } catch (error) {
    // A directory or a device where a store file belongs: damage, removed so the file can be rebuilt.
    if (error instanceof FileShapeError) rmSync(path, { recursive: true, force: true });
    return null;
  }
  const newline = file.indexOf(10);
  if (newline < 0) return null;
  const body = file.subarray(newline + 1);
  try {
    const header = JSON.parse(file.toString('utf8', 0, newline)) as Record<string, unknown>;
    if (header.kind !== kind || header.key !== key || header.format !== INDEX_FORMAT) return null;
    if (header.length !== body.length || header.checksum !== checksum(body)) return null;
    return { header, body };
  } catch {
    return null;
  }
}

function unseal<T>(path: string, kind: string, key: string): T | null {
  const sealedFile = readSealed(path, kind, key);
  if (!sealedFile) return null;
  try {
    return JSON.parse(sealedFile.body.toString('utf8')) as T;
  } catch {
    return null;
  }
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

/** The parts of a spec that the index is built from. */
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

type Span = [offset: number, length: number];

interface DetailLayout {
  endpoints: Record<string, { method: string; path: string; operation: Span; pathParameters: Span | null }>;
  components: Record<string, Record<string, Span>>;
}

// The detail file is a header (checksum and a table of byte spans) and a body of small JSON texts, one
// per operation and per component. A command that shows one endpoint parses that endpoint and the
// components it reaches, not the whole spec: a fraction of a millisecond instead of ~15 ms.
function encodeDetail(kept: CompactSpec, sha: string): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const put = (value: unknown): Span => {
    const bytes = Buffer.from(JSON.stringify(value ?? null));
    parts.push(bytes);
    const span: Span = [offset, bytes.length];
    offset += bytes.length;
    return span;
  };
  const layout: DetailLayout = { endpoints: {}, components: {} };
  for (const [path, item] of Object.entries(isObject(kept.paths) ? kept.paths : {})) {
    if (!isObject(item)) continue;
    let pathParameters: Span | null | undefined;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      if (pathParameters === undefined) pathParameters = item.parameters === undefined ? null : put(item.parameters);
      layout.endpoints[endpointKey(method, path)] = { method, path, operation: put(operation), pathParameters };
    }
  }
  for (const [kind, group] of Object.entries(isObject(kept.components) ? kept.components : {})) {
    if (!isObject(group)) continue;
    const spans: Record<string, Span> = {};
    for (const [name, value] of Object.entries(group)) spans[name] = put(value);
    layout.components[kind] = spans;
  }
  const body = Buffer.concat(parts);
  const header = { kind: 'detail', key: sha, format: INDEX_FORMAT, length: body.length, checksum: checksum(body), layout };
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]);
}

/** A read-only record whose values are made from their entries (parsed from spans) on first read. */
function lazyRecord<E, T>(entries: Record<string, E>, load: (entry: E) => T): Record<string, T> {
  const cache = new Map<string, T>();
  const has = (name: string | symbol): name is string => typeof name === 'string' && Object.hasOwn(entries, name);
  const get = (name: string): T => {
    let value = cache.get(name);
    if (value === undefined) {
      value = load(entries[name] as E);
      cache.set(name, value);
    }
    return value;
  };
  return new Proxy({} as Record<string, T>, {
    get: (_target, name) => (has(name) ? get(name) : undefined),
    has: (_target, name) => has(name),
    ownKeys: () => Object.keys(entries),
    getOwnPropertyDescriptor: (_target, name) => (has(name) ? { value: get(name), enumerable: true, configurable: true, writable: false } : undefined),
    set: () => false,
    deleteProperty: () => false,
  });
}

function openDetail(path: string, sha: string, version: string): SpecDetail | null {
  const sealedFile = readSealed(path, 'detail', sha);
  if (!sealedFile) return null;
  const { header, body } = sealedFile;
  const layout = header.layout as DetailLayout;
  if (!isObject(layout) || !isObject(layout.endpoints) || !isObject(layout.components)) return null;
  const parse = ([offset, length]: Span): unknown => JSON.parse(body.toString('utf8', offset, offset + length));
  const components: Record<string, Record<string, unknown>> = {};
  for (const [kind, spans] of Object.entries(layout.components)) components[kind] = lazyRecord(spans, parse);
  const endpoints = lazyRecord(layout.endpoints, (entry): EndpointRaw =>
    endpointRaw(entry.method, entry.path, parse(entry.operation) as Obj, entry.pathParameters ? parse(entry.pathParameters) : undefined, components),
  );
  return { format: INDEX_FORMAT, version, sha, endpoints, components };
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
    const existing = ready();
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
    return openDetail(this.detailPath(entry.sha), entry.sha, entry.version) ?? (await this.build(entry)).detail;
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
