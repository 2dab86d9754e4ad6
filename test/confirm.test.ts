import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IO } from '../lib/core/io.js';
import { canPrompt, isConfirmed, terminalPrompter } from '../lib/guard/confirm.js';

function io(chunks: string[], tty: boolean): IO & { err: string[] } {
  const err: string[] = [];
  return {
    stdin: Object.assign((async function* () { for (const c of chunks) yield c; })(), { isTTY: tty }),
    stdout: { write: () => true, isTTY: tty },
    stderr: { write: (s: string) => err.push(s), isTTY: tty },
    env: {},
    cwd: '/',
    err,
  };
}

describe('confirmation prompt', () => {
  test('only a terminal on stdin and stderr can be asked', () => {
    assert.equal(canPrompt(io([], true)), true);
    assert.equal(canPrompt(io([], false)), false);
  });

  test('reads one line, across chunks; EOF is no answer', async () => {
    const fake = io(['user_', '123\r\nmore'], true);
    assert.equal(await terminalPrompter(fake)('Type it: '), 'user_123');
    assert.deepEqual(fake.err, ['Type it: ']);
    assert.equal(await terminalPrompter(io([], true))('? '), null);
  });

  test('the DELETE answer must be the id exactly; others accept y/yes', () => {
    assert.equal(isConfirmed('user_123', 'user_123'), true);
    assert.equal(isConfirmed(' user_123 ', 'user_123'), true);
    assert.equal(isConfirmed('yes', 'user_123'), false);
    assert.equal(isConfirmed('user_12', 'user_123'), false);
    assert.equal(isConfirmed('Y', 'yes'), true);
    assert.equal(isConfirmed('no', 'yes'), false);
    assert.equal(isConfirmed(null, 'yes'), false);
  });
});
