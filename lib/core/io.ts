// Stage core: what every stage uses (errors, values, files, locks, the state directory, flags,
// streams); it imports nothing of lib/ outside core.
//
// The streams and environment every command works with (passed in, so tests can fake them), stdin
// read whole and bounded, colour only on a terminal, and what a terminal is allowed to be shown.
import { fstatSync, readSync, statSync, writeSync } from 'node:fs';
import { UsageError } from './errors.js';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** A terminal's width in characters (undefined when unknown or not a terminal). */
  columns?: number | undefined;
  /** For 'drain' after a write returned false. */
  once?(event: 'drain', listener: () => void): unknown;
}

export interface InStream extends AsyncIterable<Buffer | string> {
  isTTY?: boolean;
  /** A pipe or a file (not a terminal, not /dev/null): something may have been meant to come through it. */
  isData?: boolean;
  /** The first bytes of stdin when it is a regular file, read without consuming them; null otherwise. */
  peekFile?(bytes: number): string | null;
}

export interface IO {
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIO(): IO {
  return { stdin: lazyStdin(), stdout: lazyStdout(), stderr: lazyStderr(), env: ownEnvironment(process.env), cwd: process.cwd() };
}

/**
 * The environment as a prototype-less copy: a variable is set only when it is really set. Reading
 * process.env falls back to Object.prototype, so a polluted prototype could otherwise grant scopes.
 */
export function ownEnvironment(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const own: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  for (const name of Object.keys(env)) own[name] = env[name];
  return own;
}

export type FdKind = 'none' | 'tty' | 'data';

/** What a standard fd is: a terminal, /dev/null or closed ('none'), or a pipe, file or socket. */
export function fdKind(fd: number): FdKind {
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice()) return 'data';
    if (stat.rdev === statSync('/dev/null').rdev) return 'none';
    return 'tty';
  } catch {
    return 'none';
  }
}

function onStdoutError(error: NodeJS.ErrnoException): void {
  // A closed pipe (`| head`) is not an error of ours.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
}

function onStderrError(error: NodeJS.ErrnoException): void {
  // Nobody reads what is said: the command goes on, its exit code says how it went.
  if (error.code !== 'EPIPE') throw error;
}

// process.stdout and process.stderr each build a stream (1-3 ms of start-up, as much as a listing
// command's own work). Output to a pipe or file is written straight to the fd; a terminal, or a pipe
// that would block, falls back to the stream. A closed stdout pipe surfaces as EPIPE, which ends the
// run quietly; on stderr it only drops the words. stderr is for people: its controls are always
// escaped; stdout's only on a terminal (a pipe gets the bytes as they are).
function lazyStdout(): OutStream {
  return lazyOutput(1, () => process.stdout, onStdoutError, false);
}

function lazyStderr(): OutStream {
  return lazyOutput(2, () => process.stderr, onStderrError, true);
}

function lazyOutput(fd: 1 | 2, open: () => NodeJS.WriteStream, onError: (error: NodeJS.ErrnoException) => void, forPeople: boolean): OutStream {
  let kind: FdKind | undefined;
  let stream: NodeJS.WriteStream | undefined;
  const fallback = (): NodeJS.WriteStream => {
    if (!stream) {
      stream = open();
      stream.on('error', onError);
    }
    return stream;
  };
  const terminal = (): boolean => {
    kind ??= fdKind(fd);
    return kind === 'tty' && open().isTTY === true;
  };
  return {
    get isTTY() {
      return terminal();
    },
    get columns() {
      return terminal() ? open().columns : undefined;
    },
    once(event: 'drain', listener: () => void) {
      return fallback().once(event, listener);
    },
    write(text: string): boolean {
      kind ??= fdKind(fd);
      // A terminal shows what a server sent; it must not act on it.
      const chunk = forPeople || kind === 'tty' ? escapeForTerminal(text) : text;
      if (kind === 'tty' || stream) return fallback().write(chunk);
      const bytes = Buffer.from(chunk);
      let offset = 0;
      try {
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Writes also happen in callbacks (jq's output), where a throw would be uncaught: end here.
        if (code === 'EPIPE') {
          onError(error as NodeJS.ErrnoException);
          return true;
        }
        if (code !== 'EAGAIN') throw error;
        return fallback().write(bytes.subarray(offset));
      }
      return true;
    },
  };
}

// process.stdin builds a stream (milliseconds of start-up) even for `</dev/null`. Commands that only
// may read stdin get this instead: a pipe or file is read straight from fd 0; a terminal, or a pipe
// that cannot be read that way, falls back to process.stdin.
function lazyStdin(): InStream {
  let kind: FdKind | undefined;
  const classify = (): FdKind => {
    if (kind === undefined) {
      const raw = fdKind(0);
      kind = raw === 'tty' && !process.stdin.isTTY ? 'data' : raw;
    }
    return kind;
  };
  return {
    get isTTY() {
      return classify() === 'tty';
    },
    get isData() {
      return classify() === 'data';
    },
    peekFile(bytes: number): string | null {
      try {
        if (classify() !== 'data' || !fstatSync(0).isFile()) return null;
        const buffer = Buffer.alloc(bytes);
        // A positioned read: the file offset does not move, so a later read still gets everything.
        return buffer.toString('utf8', 0, readSync(0, buffer, 0, bytes, 0));
      } catch {
        return null;
      }
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Buffer | string> {
      const mode = classify();
      if (mode === 'none') return;
      if (mode === 'data') {
        // In chunks, so that a reader can stop an endless input (`</dev/zero`).
        // A non-blocking pipe says EAGAIN when it has nothing yet: the rest comes through process.stdin.
        const buffer = Buffer.allocUnsafe(1 << 20);
        try {
          for (;;) {
            const read = readSync(0, buffer, 0, buffer.length, null);
            if (read === 0) return;
            yield Buffer.from(buffer.subarray(0, read));
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        }
      }
      yield* process.stdin;
    },
  };
}

export const MAX_STDIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads stdin when it is a pipe or a file. A terminal, or an empty stdin (`</dev/null`), counts as
 * no input, so a command run from a script with a closed stdin behaves as from a terminal.
 */
export async function readStdin(io: IO): Promise<string | null> {
  if (io.stdin.isTTY) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    // A request, a spec or a record is far smaller; `</dev/zero` must not fill the memory.
    if (size > MAX_STDIN_BYTES) throw new UsageError(`stdin holds more than ${MAX_STDIN_BYTES / 1024 / 1024} MB; give a file instead`);
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? null : text;
}

export interface Colors {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

/** ANSI colours for a stream: only on a TTY and never with NO_COLOR set. */
/** True when `text` starts like an OpenAPI document (YAML or JSON). */
export function looksLikeSpec(text: string): boolean {
  return /^\s*(?:#[^\n]*\n\s*)*(?:openapi|swagger)\s*:|^\s*\{[^]*?"(?:openapi|swagger)"\s*:/.test(text);
}

/**
 * When stdin holds a spec that this command will not read (its endpoint or tag came as arguments):
 * the line that says so, so a piped spec is never ignored without a word. Only a file on stdin can be
 * looked at without consuming it; a pipe is left alone (it may be a loop's input).
 */
export function unreadSpecNotice(io: IO, command: string, version: string): string | null {
  const head = io.stdin.peekFile?.(512) ?? null;
  if (head === null || !looksLikeSpec(head)) return null;
  return `${command}: stdin holds an OpenAPI spec, but it is not read: this answer is from spec ${version}. Add --spec - to use the spec on stdin.`;
}

/** Whether output to `stream` gets colour: only on a TTY, never with NO_COLOR or TERM=dumb. */
export function colorEnabled(stream: OutStream, env: IO['env']): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export function colorsFor(stream: OutStream, env: IO['env']): Colors {
  const on = colorEnabled(stream, env);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), cyan: wrap(36, 39) };
}

// Text that reaches a person's terminal: what a server, a spec or a body key says is shown, never
// obeyed. A metadata key holding `ESC[40A ESC[J` must not erase the report above a confirmation
// prompt, and a right-to-left override must not reorder a path. The toolkit's own colours (a small
// fixed set of SGR codes) and the progress line's leading carriage return are the only controls
// that pass.

// C0 controls but tab and newline, DEL, C1 controls, and Unicode's bidirectional overrides/isolates.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// The SGR codes `colorsFor` writes: bold, dim, their reset, red, green, yellow, cyan, default colour.
const OWN_COLOUR = /^\u001b\[(?:1|2|22|31|32|33|36|39)m/;
// The --paginate progress line: `\r` + text, and `\r` + spaces + `\r` to erase it.
const PROGRESS = /^\r[^\u0000-\u001f\u007f-\u009f]*\r?$/;

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** True when `text` holds a control character (tab and newline aside) or a bidirectional override. */
export function hasUnsafeText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text);
}

/** `text` with every control character shown as an escape (`\x1b`), so a terminal displays it instead of acting on it. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** Like escapeControls, but the toolkit's own colour codes (those colorsFor writes) and progress line pass. For a stream's chunks. */
export function escapeForTerminal(chunk: string): string {
  if (PROGRESS.test(chunk)) return chunk;
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(chunk)) return chunk;
  // One pass over the unsafe characters only (a character at a time cost a 3 KB chunk 4 ms).
  return chunk.replace(UNSAFE, (char: string, offset: number) => (char === '\u001b' && OWN_COLOUR.test(chunk.slice(offset, offset + 5)) ? char : escapeOne(char)));
}

export function writeLine(stream: OutStream, line = ''): void {
  stream.write(`${line}\n`);
}

/** A status line drawn in place on a terminal (a walk's progress): what a notice needs of it. */
export interface StatusLine {
  /** Drawn now. */
  showing(): boolean;
  /** Shows `text` in the line, until the next redraw replaces it. */
  note(text: string): void;
}

const statusLines = new WeakMap<OutStream, StatusLine>();

/** Registers (or, with null, forgets) the status line drawn on `stream`. */
export function setStatusLine(stream: OutStream, line: StatusLine | null): void {
  if (line === null) statusLines.delete(stream);
  else statusLines.set(stream, line);
}

/**
 * A passing notice for a person (a rate-limit wait, a retry): inside the status line while one is
 * drawn on this terminal, where a line of its own would share the status line's; else a line.
 */
export function notice(stream: OutStream, text: string): void {
  const status = statusLines.get(stream);
  if (status?.showing()) status.note(text);
  else writeLine(stream, text);
}

/** How wide text for a terminal may be: its width (COLUMNS, then 80, when it does not say); Infinity when not a terminal. */
export function terminalWidth(stream: OutStream, env: Record<string, string | undefined>): number {
  if (stream.isTTY !== true) return Infinity;
  if (stream.columns !== undefined && stream.columns > 0) return stream.columns;
  const fromEnv = Number(env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}
