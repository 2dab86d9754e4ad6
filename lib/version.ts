import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** This package's version, read from package.json (found from source or from dist/). */
export function packageVersion(): string {
  if (cached) return cached;
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'clerk-bapi-toolkit' && pkg.version) return (cached = pkg.version);
    } catch {
      // try the next candidate
    }
  }
  return (cached = '0.0.0');
}

export const USER_AGENT_PRODUCT = 'clerk-bapi-toolkit';

export function userAgent(): string {
  return `${USER_AGENT_PRODUCT}/${packageVersion()} node/${process.versions.node}`;
}
