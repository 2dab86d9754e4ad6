// Assertions and environments that the end-to-end tests of every command share.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './run-cli.js';

export function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
}

/** An environment in which importing `yaml` fails: proof that a warm command reads only the index. */
export function withoutYaml(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const dir = tempDir('bapi-noyaml-');
  writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) {
  if (specifier === 'yaml' || specifier.startsWith('yaml/')) throw new Error('yaml imported on the warm path');
  return next(specifier, context);
}\n`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  return { ...env, NODE_OPTIONS: `--import=${join(dir, 'register.mjs')}` };
}
