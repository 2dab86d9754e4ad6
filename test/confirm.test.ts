import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PassThrough } from 'node:stream';
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

  test('asks again on the same stdin (a typo), and lets go of it only when closed', async () => {
    const stdin = new PassThrough();
    const fake: IO = { stdin: Object.assign(stdin, { isTTY: true }), stdout: { write: () => true, isTTY: true }, stderr: { write: () => true, isTTY: true }, env: {}, cwd: '/' };
    const prompter = terminalPrompter(fake);
    stdin.write('user_4\nuser_');
    assert.equal(await prompter('Type it: '), 'user_4');
    const second = prompter('Type it again: ');
    stdin.write('42\n');
    assert.equal(await second, 'user_42', 'the second answer, from the same stream (ending its iterator destroyed it)');
    assert.equal(stdin.destroyed, false);
    await prompter.close?.();
    assert.equal(stdin.destroyed, true, 'closed: a terminal no longer keeps the process');
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
