// Where a key-custody broker gets the secret key: the first line a command prints (a password
// manager: `op read …`, `security find-generic-password -w …`, `secret-tool lookup …`, `pass show …`),
// or the person typing it at the broker's terminal with echo off. Never its environment, argv or a
// .env file: any process of the same user can read those.
import { spawn } from 'node:child_process';
import { PolicyError, UsageError } from '../core/errors.js';
import type { IO } from '../core/io.js';
import { describeSecretKey, KEY_VARIABLE, type SecretKey } from '../guard/key.js';

/** The first line of `sh -c COMMAND`'s stdout; its stderr and stdin are the broker's (a manager may ask the person). */
export async function keyFromCommand(command: string, env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<SecretKey> {
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && name !== KEY_VARIABLE) childEnv[name] = value;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: ['inherit', 'pipe', 'inherit'], env: childEnv });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new UsageError(`--key-command could not be run: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new UsageError(`--key-command failed (${signal ?? `exit ${code}`}); no key, nothing served`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
  return checked(output.split(/\r?\n/)[0] ?? '', '--key-command');
}

/** The key typed at the broker's own terminal, with echo off. */
export async function keyFromTerminal(io: IO, input: NodeJS.ReadStream): Promise<SecretKey> {
  if (!input.isTTY || io.stderr.isTTY !== true) {
    throw new UsageError('no terminal to ask for the secret key on', { hints: ['Give --key-command CMD (e.g. --key-command "op read op://Private/Clerk/secret-key"), or run bapi-guard serve in your own terminal.'] });
  }
  // Echo off before the prompt shows: a key typed the moment the prompt appears is never echoed.
  input.setRawMode(true);
  io.stderr.write('Clerk secret key (typing is not shown): ');
  input.resume();
  try {
    const typed = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return finish(() => resolve(text));
          if (char === '\u0003' || char === '\u0004') return finish(() => reject(new UsageError('no key typed; nothing served')));
          if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
          else if (char >= ' ') text += char;
        }
      };
      const finish = (then: () => void) => {
        input.off('data', onData);
        then();
      };
      input.on('data', onData);
    });
    return checked(typed, 'the key typed');
  } finally {
    input.setRawMode(false);
    input.pause();
    io.stderr.write('\n');
  }
}

function checked(raw: string, from: string): SecretKey {
  const key = describeSecretKey(raw.trim(), from);
  if (!key.info.wellFormed || key.value === null) {
    throw new PolicyError(`${from} did not give a Clerk secret key (${key.info.problem ?? 'not sk_test_… or sk_live_…'}); nothing served`);
  }
  return key;
}
