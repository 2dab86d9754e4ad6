// The person's side of a key-custody broker: its own terminal. Each request that needs consent is
// shown there in turn (the guard's whole report, escaped), and the person types the resource id (a
// DELETE) or yes; anything else, or no answer before the pending approval expires, refuses it. The
// answer is read from the broker's terminal only: no client, file or flag can give it.
import { colorsFor, escapeForTerminal, type IO } from '../core/io.js';
import type { Approval, ApprovalStore } from '../guard/approvals.js';
import { isConfirmed } from '../guard/confirm.js';
import { whoIs } from '../guard/who.js';

export interface DeskOptions {
  io: IO;
  /** The broker's terminal input: lines typed there answer the question asked. */
  input: NodeJS.ReadableStream;
  keyFingerprint: string;
  /** How long a granted approval stays usable (seconds). */
  ttlSeconds: number;
  /** Reads what a DELETE removes, to say who it is (undefined when it cannot be read). */
  describe?: (approval: Approval) => Promise<unknown>;
}

export interface Desk {
  /** Puts a pending approval before the person (after the ones already waiting). */
  ask(approval: Approval): void;
  /** The store, once created with the desk's onPending (the store and the desk need each other). */
  attach(store: ApprovalStore): void;
  close(): void;
}

/** A queue of questions for the person at the broker's terminal, asked one at a time. */
export function personDesk(options: DeskOptions): Desk {
  const { io } = options;
  const colors = colorsFor(io.stderr, io.env);
  const queue: Approval[] = [];
  let store: ApprovalStore | null = null;
  let busy = false;
  /** The question on screen, to show again under a notice. */
  let prompt: string | null = null;
  let waiting: ((line: string | null) => void) | null = null;
  let buffered = '';
  const onData = (chunk: Buffer | string) => {
    buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (waiting) {
        const answer = waiting;
        waiting = null;
        answer(line);
      } else if (line.trim() !== '') {
        io.stderr.write('(no request is waiting for an answer: that line was ignored)\n');
      }
    }
  };
  options.input.on('data', onData);

  const answerWithin = (ms: number) =>
    new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        waiting = null;
        resolve(null);
      }, Math.max(0, ms));
      waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });

  const askOne = async (approval: Approval) => {
    const current = store?.get(approval.id)?.approval;
    if (!store || !current || current.status !== 'pending' || Date.parse(current.expiresAt) <= Date.now()) return;
    // The ones in line after it wait for this answer (Enter refuses it at once).
    const more = queue.length > 0 ? `; ${queue.length} more waiting after it` : '';
    io.stderr.write(`\n${colors.bold(`── ${new Date().toISOString().slice(11, 19)}  a client asks: ${approval.method} ${escapeForTerminal(approval.path)}`)} (${approval.id}${more})\n`);
    io.stderr.write(escapeForTerminal(approval.report));
    if (approval.method === 'DELETE' && options.describe) {
      const who = whoIs(await options.describe(approval));
      if (who !== null) io.stderr.write(`\nThis deletes ${colors.bold(escapeForTerminal(who))} (${escapeForTerminal(approval.path)}).\n`);
    }
    const expected = approval.expected;
    prompt = expected === 'yes' ? `Send it? Type yes to confirm, anything else refuses it: ` : `Type ${colors.bold(escapeForTerminal(expected))} to confirm, anything else refuses it: `;
    io.stderr.write(prompt);
    const answer = await answerWithin(Date.parse(current.expiresAt) - Date.now());
    prompt = null;
    if (answer === null) io.stderr.write('\n');
    const granted = isConfirmed(answer, expected);
    const result = store.decide(approval.id, granted ? 'grant' : 'deny', { keyFingerprint: options.keyFingerprint, ttlSeconds: options.ttlSeconds });
    if (!result.ok) io.stderr.write(`Not recorded: ${result.message}\n`);
    else io.stderr.write(granted ? `Approved ${approval.id}: the client sends it once.\n` : `${answer === null ? 'No answer in time' : 'Refused'}: ${approval.id} is denied; nothing is sent.\n`);
  };

  const drain = async () => {
    if (busy) return;
    busy = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) await askOne(next);
    } finally {
      busy = false;
    }
  };

  return {
    ask(approval) {
      queue.push(approval);
      // A question is open: the person learns that another waits behind it (Enter refuses the open one).
      if (prompt !== null) io.stderr.write(`\n(${queue.length} more waiting after this one)\n${prompt}`);
      void drain();
    },
    attach(given) {
      store = given;
    },
    close() {
      options.input.off('data', onData);
      waiting?.(null);
    },
  };
}
