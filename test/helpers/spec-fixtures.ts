// Clerk's real specs from ../shared (never copied into this repository), parsed once per test process.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildIndex, type SpecIndex } from '../../lib/spec/index.js';

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_SPECS_DIR = resolve(PROJECT_DIR, '..', 'shared', 'clerk-openapi-specs');
export const SHARED_BAPI_DIR = join(SHARED_SPECS_DIR, 'bapi');

/** Versions present in ../shared, oldest first, e.g. ['2021-02-05', ..., '2025-11-10']. */
export function sharedVersions(): string[] {
  return readdirSync(SHARED_BAPI_DIR)
    .filter((name) => /^\d{4}-\d{2}-\d{2}\.yml$/.test(name))
    .map((name) => name.slice(0, -4))
    .sort();
}

const parsed = new Map<string, unknown>();
const indexes = new Map<string, SpecIndex>();

export function sharedSpecText(version: string): string {
  return readFileSync(join(SHARED_BAPI_DIR, `${version}.yml`), 'utf8');
}

/** The parsed YAML of one shared version (memoised). */
export function sharedSpec(version: string): Record<string, unknown> {
  let spec = parsed.get(version);
  if (spec === undefined) {
    spec = parse(sharedSpecText(version), { maxAliasCount: -1 });
    parsed.set(version, spec);
  }
  return spec as Record<string, unknown>;
}

/** The index of one shared version (memoised). */
export function sharedIndex(version: string): SpecIndex {
  let index = indexes.get(version);
  if (index === undefined) {
    index = buildIndex(sharedSpec(version), { version, sha: `test-${version}` });
    indexes.set(version, index);
  }
  return index;
}
