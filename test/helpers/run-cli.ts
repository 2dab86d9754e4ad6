// Runs a built executable as a user would (node dist/scripts/<command>.js) and captures what it says.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PROJECT_DIR, SHARED_SPECS_DIR } from './spec-fixtures.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = 'bapi-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * One spec store shared by every test that needs a working store and does not test the store
 * itself: the store is built for concurrent processes (one download, one parse, under its locks),
 * so the test files share its indexes instead of each building them again (~0.4 s a version).
 */
export const SHARED_STORE = join(tmpdir(), 'clerk-bapi-test-store');

/** The environment of a test run: nothing inherited that could reach the network or a real key. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // NODE_EXTRA_CA_CERTS too: these commands reach only the tests' loopback servers, and reading an
    // extra CA bundle costs every Node start ~40 ms of CPU here (the package test's npm keeps it).
    if (/^(CLERK_|GITHUB_|NO_COLOR|FORCE_COLOR|NODE_OPTIONS|NODE_EXTRA_CA_CERTS$)/.test(name)) continue;
    env[name] = value;
  }
  // The fake Clerk has no rate limit unless a test gives it one; the governor's budget is out of the
  // way likewise (the governor's own test sets CLERK_BAPI_RATE_LIMIT).
  return { ...env, CLERK_SPECS_SOURCE: SHARED_SPECS_DIR, CLERK_BAPI_RATE_LIMIT: '1000000/1s', ...extra };
}

export function scriptPath(command: string): string {
  return join(PROJECT_DIR, 'dist', 'scripts', `${command}.js`);
}

export async function runCli(
  command: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {},
): Promise<CliResult> {
  const result = await execa(process.execPath, [scriptPath(command), ...args], {
    env: options.env ?? cleanEnv(),
    extendEnv: false,
    reject: false,
    cwd: options.cwd ?? PROJECT_DIR,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    stripFinalNewline: false,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * Runs a built executable at a pseudo-terminal (script(1)) and types `answer` once `prompt` shows;
 * what the terminal showed is stdout.
 */
export async function runAtTerminal(
  command: string,
  args: string[],
  answer: string,
  prompt: RegExp,
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  const quoted = [process.execPath, scriptPath(command), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = execa('script', ['-qec', quoted, '/dev/null'], { env: options.env ?? cleanEnv(), extendEnv: false, reject: false, cwd: options.cwd ?? PROJECT_DIR });
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const before = prompt.test(seen);
    seen += chunk.toString();
    if (!before && prompt.test(seen)) child.stdin!.write(`${answer}\n`);
  });
  const result = await child;
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
