// A key-custody broker (bapi-guard serve) run as the person runs it: in a pseudo-terminal (script(1)),
// with the key from a "password manager" (a command that prints it from a file outside every
// directory the toolkit writes), and a person who reads its screen and types answers.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { cleanEnv, scriptPath, tempDir } from './run-cli.js';
import { PROJECT_DIR } from './spec-fixtures.js';

export interface Broker {
  socket: string;
  /** Everything its terminal showed so far. */
  screen(): string;
  /** Resolves once the screen (after `from`) matches `pattern`. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<void>;
  /** The person types a line at its terminal. */
  type(line: string): void;
  pid: number;
  stop(): Promise<void>;
}

/** A directory only this test's "person" reads: the vault the key command reads from. */
export function vault(key: string): string {
  const dir = tempDir('bapi-vault-');
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'clerk-key'), `${key}\n`, { mode: 0o600 });
  return join(dir, 'clerk-key');
}

/** `typed`: no --key-command; the person types the key when the broker asks for it. */
export async function startBroker(options: { key: string; env: Record<string, string | undefined>; scopes?: string; socket?: string; typed?: boolean }): Promise<Broker> {
  const socketDir = tempDir('bapi-broker-');
  const socket = options.socket ?? join(socketDir, 'run', 'broker.sock');
  mkdirSync(join(socketDir, 'run'), { recursive: true, mode: 0o700 });
  const source = options.typed ? [] : ['--key-command', `cat '${vault(options.key)}'`];
  const args = ['serve', ...source, '--socket', socket, ...(options.scopes !== undefined ? ['--scopes', options.scopes] : [])];
  const quoted = [process.execPath, scriptPath('bapi-guard'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child: ResultPromise = execa('script', ['-qec', quoted, '/dev/null'], { env: cleanEnv(options.env), extendEnv: false, reject: false, cwd: PROJECT_DIR });
  let seen = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (const listener of listeners) listener();
  });
  const broker: Broker = {
    socket,
    pid: child.pid as number,
    screen: () => seen,
    waitFor(pattern, from = 0, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(seen.slice(from))) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`the broker's screen never showed ${pattern}:\n${seen}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    type(line) {
      child.stdin!.write(`${line}\n`);
    },
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
  if (options.typed) {
    await broker.waitFor(/typing is not shown\): $/);
    broker.type(options.key);
  }
  await broker.waitFor(/listening on/);
  return broker;
}
