// The package's own data files under specs/ (curated destruction lists, rate limits, the SDK map, the
// shas of Clerk's published specs), found from lib/ (tsx), dist/ or a lazy bundle's folder.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** specs/NAME in this package, or null when the package does not ship it. */
export function packageDataPath(name: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'specs', name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

/** specs/NAME parsed as JSON, or null when the package does not ship it. */
export function readPackageData<T>(name: string): T | null {
  const path = packageDataPath(name);
  return path === null ? null : (JSON.parse(readFileSync(path, 'utf8')) as T);
}
