import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** This package's version, from the nearest package.json above this module (source, dist/ or a bundle chunk). */
export function packageVersion(): string {
  if (cached) return cached;
  for (let up = '../'; up.length <= 15; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'clerk-bapi-toolkit' && pkg.version) return (cached = pkg.version);
    } catch {
      // not at this level
    }
  }
  return (cached = '0.0.0');
}

export const USER_AGENT_PRODUCT = 'clerk-bapi-toolkit';

export function userAgent(): string {
  return `${USER_AGENT_PRODUCT}/${packageVersion()} node/${process.versions.node}`;
}
