// Asking a person at a terminal to confirm. Only a terminal on both ends counts: stdin to read the
// answer and stderr to show the question; anything else (a script, CI, an agent) needs --yes.
import type { IO } from '../core/io.js';

/** Writes `question` and reads one line; null when the input ends first. */
export type Prompter = (question: string) => Promise<string | null>;

export function canPrompt(io: IO): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}

/** A prompter over the command's own streams: the question on stderr, one line from stdin. */
export function terminalPrompter(io: IO): Prompter {
  return async (question) => {
    io.stderr.write(question);
    const iterator = io.stdin[Symbol.asyncIterator]();
    let text = '';
    try {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) return text === '' ? null : text;
        text += typeof value === 'string' ? value : value.toString('utf8');
        const newline = text.indexOf('\n');
        if (newline >= 0) return text.slice(0, newline).replace(/\r$/, '');
      }
    } finally {
      await iterator.return?.();
    }
  };
}

/** True when `answer` confirms: exactly `expected` (trimmed), or y/yes when `expected` is "yes". */
export function isConfirmed(answer: string | null, expected: string): boolean {
  if (answer === null) return false;
  const given = answer.trim();
  if (expected === 'yes') return /^(y|yes)$/i.test(given);
  return given === expected;
}
