// Clerk's webhooks spec (`webhooks/YYYY-MM-DD.yml` in clerk/openapi-specs): its versions and its
// document, from the same sources as the Backend API's (CLERK_SPECS_SOURCE, GitHub, or the snapshot
// shipped with the toolkit when neither answers), kept in the store under webhooks/: the listing for
// an hour, each version's document (its `x-webhooks` and `components`) as JSON by its blob sha, so a
// warm run parses no YAML.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, SpecError, UnavailableError } from '../core/errors.js';
import { makeDirs, writeFileAtomic } from '../core/fs-atomic.js';
import type { IO } from '../core/io.js';
import { isObject } from '../core/values.js';
import { gitBlobSha } from './git-blob.js';
import { readSpecFile } from './parse.js';
import { snapshotBytes, snapshotEntries } from './snapshot.js';
import { describeSource, downloadSpec, fetchGithubListing, listLocal, sourceFromEnv, type VersionEntry } from './source.js';
import { defaultStoreDir, LISTING_MAX_AGE_MS } from './store.js';

export const WEBHOOKS_DIR = 'webhooks';

export interface WebhooksDocument {
  version: string;
  versions: string[];
  latest: string;
  sha: string;
  /** Where it came from: a directory, GitHub's listing URL, or "snapshot". */
  source: string;
  /** `x-webhooks`: event type → { post: { description, requestBody: … } }. */
  webhooks: Record<string, unknown>;
  components: Record<string, unknown>;
}

interface CachedListing {
  source: string;
  fetchedAt: number;
  entries: VersionEntry[];
}

export interface WebhooksOptions {
  /** --webhooks-version: a version of webhooks/ (default: the latest). */
  version?: string;
  refresh?: boolean;
}

/** The selected webhooks version's document. */
export async function loadWebhooks(options: WebhooksOptions, io: IO): Promise<WebhooksDocument> {
  const selected = await selectWebhooks(options, io);
  return { ...selected.document, ...(await readDocument(selected)) };
}

/**
 * What `summarize` makes of the selected version's document (the event list a warm `events` prints),
 * kept beside the document by its sha and `name`: a warm run reads a few KB instead of the whole
 * document. `valid` checks a kept summary's shape; one that fails it is made again.
 */
export async function loadWebhooksSummary<S>(options: WebhooksOptions, io: IO, name: string, summarize: (document: WebhooksDocument) => S, valid: (value: unknown) => value is S): Promise<{ version: string; summary: S }> {
  const selected = await selectWebhooks(options, io);
  const file = join(selected.dir, `${selected.entry.sha}.${name}.json`);
  const kept = readJson<unknown>(file);
  if (kept !== null && valid(kept)) return { version: selected.entry.version, summary: kept };
  const summary = summarize({ ...selected.document, ...(await readDocument(selected)) });
  store(selected.dir, file, summary);
  return { version: selected.entry.version, summary };
}

interface SelectedWebhooks {
  dir: string;
  entry: VersionEntry;
  source: ReturnType<typeof sourceFromEnv>;
  /** The document's description, without its contents. */
  document: Omit<WebhooksDocument, 'webhooks' | 'components'>;
}

/** The listing (kept an hour; a local source is listed every run), and the version asked for in it. */
async function selectWebhooks(options: WebhooksOptions, io: IO): Promise<SelectedWebhooks> {
  const source = sourceFromEnv(io.env, io.cwd);
  const dir = join(defaultStoreDir(io.env), WEBHOOKS_DIR);
  const described = describeSource(source);
  const listingFile = join(dir, 'listing.json');
  const cached = readJson<CachedListing>(listingFile);
  const fresh = cached && cached.source === described && Date.now() - cached.fetchedAt < LISTING_MAX_AGE_MS && !options.refresh && source.kind !== 'local';
  let entries: VersionEntry[];
  let from = described;
  if (fresh) entries = cached.entries;
  else {
    try {
      entries = source.kind === 'local' ? listLocal(source, cached?.entries ?? [], WEBHOOKS_DIR) : await githubEntries(source);
      // A local source is listed every run (a stat per file); the listing is written only when it changed.
      if (source.kind !== 'local' || !cached || JSON.stringify(cached.entries) !== JSON.stringify(entries)) store(dir, listingFile, { source: described, fetchedAt: Date.now(), entries });
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      // Out of reach: what was listed before, else the snapshot shipped with the toolkit.
      if (cached && cached.source === described) entries = cached.entries;
      else {
        entries = snapshotEntries('webhooks');
        from = 'snapshot';
        if (entries.length === 0) throw error;
      }
    }
  }
  if (entries.length === 0) throw new UnavailableError(`${described} lists no webhooks/ spec versions`);
  const versions = entries.map((e) => e.version);
  const latest = versions.at(-1) as string;
  const entry = options.version ? entries.find((e) => e.version === options.version) : entries.at(-1);
  if (!entry) throw new NotFoundError(`no webhooks spec version ${options.version}`, { hints: [`Available: ${versions.join(', ')}.`] });
  return { dir, entry, source, document: { version: entry.version, versions, latest, sha: entry.sha, source: from } };
}

/** The version's `x-webhooks` and `components`: kept as JSON by its sha, else read (and checked against the sha), parsed and kept. */
async function readDocument({ dir, entry, source }: SelectedWebhooks): Promise<{ webhooks: Record<string, unknown>; components: Record<string, unknown> }> {
  const documentFile = join(dir, `${entry.sha}.json`);
  const kept = readJson<{ webhooks: Record<string, unknown>; components: Record<string, unknown> }>(documentFile);
  if (kept) return { webhooks: kept.webhooks, components: kept.components };
  const bytes = entry.snapshot ? snapshotBytes(entry) : source.kind === 'local' ? readSpecFile(entry.location) : await downloadSpec(source as { apiUrl: string; token?: string }, entry);
  if (gitBlobSha(bytes) !== entry.sha) throw new UnavailableError(`webhooks/${entry.name} does not match its listed sha; run again with --refresh`);
  const parsed = await parseWebhooks(bytes.toString('utf8'), `webhooks/${entry.name}`);
  store(dir, documentFile, parsed);
  return parsed;
}

async function githubEntries(source: { apiUrl: string; token?: string; timeoutMs?: number }): Promise<VersionEntry[]> {
  const listing = await fetchGithubListing(source, null, WEBHOOKS_DIR);
  return listing.notModified ? [] : listing.entries;
}

/** The parts of a webhooks spec the toolkit reads: `x-webhooks` and `components`. */
export async function parseWebhooks(text: string, label: string): Promise<{ webhooks: Record<string, unknown>; components: Record<string, unknown> }> {
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = text.trimStart().startsWith('{') ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new SpecError(`${label} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isObject(value) || !isObject(value['x-webhooks'])) throw new SpecError(`${label} is not a webhooks spec: it has no x-webhooks`);
  return { webhooks: value['x-webhooks'], components: isObject(value.components) ? value.components : {} };
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Kept when the store can be written; a read-only store only costs the next run a parse. */
function store(dir: string, path: string, value: unknown): void {
  try {
    makeDirs(dir, 0o755);
    writeFileAtomic(path, JSON.stringify(value));
  } catch {
    // Not kept.
  }
}
