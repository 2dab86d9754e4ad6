// Asking a person at a terminal to confirm. Only a terminal on both ends counts: stdin to read the
// answer and stderr to show the question; anything else (a script, CI, an agent) needs --yes.
import type { IO } from '../core/io.js';

/**
 * Writes `question` and reads one line; null when the input ends first. `close`, when there is one,
 * lets go of the input once nothing more will be asked.
 */
export type Prompter = ((question: string) => Promise<string | null>) & { close?: () => Promise<void> };

export function canPrompt(io: IO): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}

/**
 * A prompter over the command's own streams: the question on stderr, one line from stdin. One
 * reader for every question (ending a stream's iterator destroys the stream: a second question, after
 * a typo, read from a closed stdin); `close` ends it, so a terminal's stdin does not keep the process.
 */
export function terminalPrompter(io: IO): Prompter {
  let iterator: AsyncIterator<Buffer | string> | null = null;
  let buffered = '';
  let ended = false;
  const ask = async (question: string): Promise<string | null> => {
    io.stderr.write(question);
    iterator ??= io.stdin[Symbol.asyncIterator]();
    for (;;) {
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        const line = buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        return line;
      }
      if (ended) {
        const rest = buffered;
        buffered = '';
        return rest === '' ? null : rest;
      }
      const { value, done } = await iterator.next();
      if (done) ended = true;
      else buffered += typeof value === 'string' ? value : value.toString('utf8');
    }
  };
  return Object.assign(ask, {
    close: async () => {
      await iterator?.return?.();
      iterator = null;
    },
  });
}

/** True when `answer` confirms: exactly `expected` (trimmed), or y/yes when `expected` is "yes". */
export function isConfirmed(answer: string | null, expected: string): boolean {
  if (answer === null) return false;
  const given = answer.trim();
  if (expected === 'yes') return /^(y|yes)$/i.test(given);
  return given === expected;
}
