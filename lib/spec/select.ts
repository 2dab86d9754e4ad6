// Stage spec: where specs come from, the store, the index, choosing a version. It may import core.
//
// Spec selection, shared by every command that reads a spec: the flags, the version to use, and the
// summary/detail of that version from the store (or from --spec FILE|- / a spec piped on stdin).
import { basename, resolve } from 'node:path';
import type { IO } from '../core/io.js';
import type { ParsedFlags } from '../core/args.js';
import { NotFoundError, SpecError, UsageError } from '../core/errors.js';
import { readSpecFile } from './parse.js';
import type { SpecDetail, SpecSummary } from './index.js';
import { describeSource, sourceFromEnv, versionFromFileName, type VersionEntry } from './source.js';
import { snapshotEntries } from './snapshot.js';
import { defaultStoreDir, SpecStore } from './store.js';

export const SPEC_FLAG_SPEC = {
  string: ['api-version', 'spec'],
  boolean: ['offline', 'refresh', 'include-platform'],
};

/** Help text lines for the spec flags, shared by every command's usage. */
export const SPEC_FLAGS_HELP = `  --api-version DATE   spec version to use, or latest (default: CLERK_API_VERSION, else latest)
  --spec FILE|-        use this OpenAPI file (YAML or JSON), or stdin, instead of the store
  --offline            never touch the network; use the store as it is
  --refresh            revalidate the list of versions now (normally at most once an hour)
  --include-platform   include Clerk's platform endpoints`;

export const SPEC_ENV_HELP = `  CLERK_API_VERSION    spec version to use when --api-version is absent
  CLERK_SPECS_SOURCE   a local checkout of clerk/openapi-specs to read specs from instead of GitHub
  CLERK_SPECS_DIR      where specs and their indexes are kept (default: the user cache directory)
  GITHUB_API_URL       GitHub API base URL (default https://api.github.com)
  GITHUB_TOKEN         GitHub token, lifts GitHub's anonymous rate limit
  CLERK_SPECS_TIMEOUT  seconds to wait for GitHub's list of versions (default 8)`;

export interface SpecOptions {
  apiVersion?: string;
  spec?: string;
  offline: boolean;
  refresh: boolean;
  includePlatform: boolean;
}

export interface SelectedSpec {
  version: string;
  versions: string[];
  latest: string;
  /** Where the spec came from: GitHub's listing URL, a local directory, a file, or "stdin". */
  source: string;
  /** True when --api-version / CLERK_API_VERSION chose the version. */
  pinned: boolean;
  includePlatform: boolean;
  summary: SpecSummary;
  loadDetail(): Promise<SpecDetail>;
  /** A value derived from this version's index, computed once and then read from the store. */
  memo<T>(name: string, compute: () => Promise<T>, keep?: (value: T) => boolean): Promise<T>;
  /** The spec file's git blob sha (the store's key, and what the guard checks against Clerk's published shas). */
  sha: string;
  /** Internal: how to reach other versions of the same source (for --diff). */
  readonly store: SpecStore | null;
  readonly entries: VersionEntry[];
}

const VERSION = /^\d{4}-\d{2}-\d{2}$/;

/** `2025-04-10` or `2025-04-10.yml` → `2025-04-10`; anything else is a usage error. */
export function normalizeVersion(raw: string): string {
  const value = raw.trim().replace(/\.ya?ml$/, '');
  if (!VERSION.test(value)) throw new UsageError(`not a spec version: ${raw} (expected a date such as 2025-11-10)`);
  return value;
}

export function specOptionsFrom(flags: ParsedFlags, env: IO['env']): SpecOptions {
  const rawVersion = (flags['api-version'] as string | undefined) ?? env.CLERK_API_VERSION;
  const options: SpecOptions = {
    offline: flags.offline === true,
    refresh: flags.refresh === true,
    includePlatform: flags['include-platform'] === true,
  };
  // `latest` is what no version means: the newest the source has.
  if (rawVersion !== undefined && rawVersion !== '' && rawVersion.trim().toLowerCase() !== 'latest') options.apiVersion = normalizeVersion(rawVersion);
  if (flags['api-version'] === '') throw new UsageError('--api-version needs a value');
  if (typeof flags.spec === 'string') {
    if (flags.spec === '') throw new UsageError('--spec needs a file name, or - for stdin');
    options.spec = flags.spec;
  }
  if (options.offline && options.refresh) throw new UsageError('--offline and --refresh contradict each other');
  return options;
}

export function openStore(options: SpecOptions, io: IO): SpecStore {
  // Asked only when there is progress to show: looking at stderr costs start-up time on the warm path.
  const progress = (message: string) => {
    if (io.stderr.isTTY) io.stderr.write(`${message}\n`);
  };
  return new SpecStore({
    dir: resolve(io.cwd, defaultStoreDir(io.env)),
    source: sourceFromEnv(io.env, io.cwd),
    offline: options.offline,
    refresh: options.refresh,
    warn: (message) => io.stderr.write(`${message}\n`),
    progress,
    snapshot: snapshotEntries,
  });
}

function pickEntry(entries: VersionEntry[], wanted: string | undefined, source: string): VersionEntry {
  if (entries.length === 0) {
    throw new NotFoundError(`no spec versions found at ${source}`, { hints: ['Expected files named YYYY-MM-DD.yml under bapi/.'] });
  }
  if (wanted === undefined) return entries[entries.length - 1] as VersionEntry;
  const entry = entries.find((e) => e.version === wanted);
  if (!entry) {
    throw new NotFoundError(`unknown spec version ${wanted}`, {
      hints: [`Available: ${entries.map((e) => e.version).join(', ')}`],
    });
  }
  return entry;
}

async function fromText(text: string, label: string, fileName: string | null, options: SpecOptions, io: IO): Promise<SelectedSpec> {
  const version = options.apiVersion ?? (fileName ? versionFromFileName(basename(fileName)) : null) ?? 'local';
  const store = openStore({ ...options, offline: true }, io);
  const { sha, summary, loadDetail } = await store.indexText(text, version, label);
  return {
    version,
    versions: [version],
    latest: version,
    source: label,
    pinned: options.apiVersion !== undefined,
    includePlatform: options.includePlatform,
    summary,
    loadDetail,
    memo: (name, compute, keep) => store.memo(sha, name, compute, keep),
    sha,
    store: null,
    entries: [],
  };
}

/** The version of the store that `options` select, before any of its index is read. */
export interface StoreSelection {
  store: SpecStore;
  entries: VersionEntry[];
  entry: VersionEntry;
  /** Where the list of versions came from: the source's name, or `snapshot` (the one shipped with the toolkit). */
  source: string;
}

/** Picks the version from the store's listing; null when the spec comes from --spec or stdin. */
export async function selectVersion(options: SpecOptions, io: IO, stdinSpec?: string | null): Promise<StoreSelection | null> {
  if (options.spec !== undefined || (stdinSpec !== undefined && stdinSpec !== null)) return null;
  const store = openStore(options, io);
  const listing = await store.listing();
  return { store, entries: listing.entries, entry: pickEntry(listing.entries, options.apiVersion, describeSource(store.source)), source: listing.source };
}

/**
 * The spec a command works on. `stdinSpec` is the text of a spec piped on stdin, used when the
 * command reads its spec from stdin (`--spec -`, or a pipe into `extract-tags`). A `selection` from
 * selectVersion is continued rather than made again.
 */
export async function selectSpec(options: SpecOptions, io: IO, stdinSpec?: string | null, selection?: StoreSelection | null): Promise<SelectedSpec> {
  if (options.spec !== undefined && options.spec !== '-') {
    let text: string;
    const file = resolve(io.cwd, options.spec);
    try {
      text = readSpecFile(file, `--spec ${options.spec}`).toString('utf8');
    } catch (error) {
      if (error instanceof SpecError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
      throw new UsageError(`cannot read --spec ${options.spec}: ${why}`);
    }
    return fromText(text, file, file, options, io);
  }
  if (options.spec === '-' || (stdinSpec !== undefined && stdinSpec !== null)) {
    if (stdinSpec === undefined || stdinSpec === null) throw new UsageError('--spec - was given but stdin is empty');
    return fromText(stdinSpec, 'stdin', null, options, io);
  }
  const { store, entries, entry, source } = selection ?? ((await selectVersion(options, io)) as StoreSelection);
  const summary = await store.summary(entry);
  return {
    version: entry.version,
    versions: entries.map((e) => e.version),
    latest: (entries[entries.length - 1] as VersionEntry).version,
    source,
    pinned: options.apiVersion !== undefined,
    includePlatform: options.includePlatform,
    summary,
    loadDetail: () => store.detail(entry),
    memo: (name, compute, keep) => store.memo(entry.sha, name, compute, keep),
    sha: entry.sha,
    store,
    entries,
  };
}

/** A --diff value: `latest` (the newest the source has), or a version date. */
export function normalizeDiffVersion(raw: string): string {
  return raw.trim().toLowerCase() === 'latest' ? 'latest' : normalizeVersion(raw);
}

/** Another version of the same source as `selected` (for comparisons such as --diff); `latest` is the newest. */
export async function selectOtherVersion(selected: SelectedSpec, rawVersion: string, _io?: IO): Promise<SelectedSpec> {
  const version = rawVersion.trim().toLowerCase() === 'latest' ? selected.latest : normalizeVersion(rawVersion);
  if (!selected.store) {
    throw new UsageError(`cannot compare with version ${version}: the spec came from ${selected.source}, not from the store`);
  }
  const entry = pickEntry(selected.entries, version, selected.source);
  const store = selected.store;
  return {
    ...selected,
    version,
    pinned: true,
    summary: await store.summary(entry),
    loadDetail: () => store.detail(entry),
    memo: (name, compute, keep) => store.memo(entry.sha, name, compute, keep),
    sha: entry.sha,
  };
}
