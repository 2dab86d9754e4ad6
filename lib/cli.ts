// What every command shares: its streams and environment (passed in, so tests can fake them),
// argument parsing that refuses unknown flags, stdin reading, colour, and mapping errors to exit codes.
import { fstatSync, readSync, realpathSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import minimist from 'minimist';
import { EXIT, ToolkitError, UsageError } from './errors.js';
import { packageVersion } from './version.js';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** For 'drain' after a write returned false. */
  once?(event: 'drain', listener: () => void): unknown;
}

export interface InStream extends AsyncIterable<Buffer | string> {
  isTTY?: boolean;
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

/** process.stderr, built only when something is written or asked of it. Everything on it is for people: controls are escaped. */
function lazyStderr(): OutStream {
  return {
    get isTTY() {
      return process.stderr.isTTY === true;
    },
    write: (chunk: string) => process.stderr.write(escapeForTerminal(chunk)),
  };
}

type FdKind = 'none' | 'tty' | 'data';

/** What a standard fd is: a terminal, /dev/null or closed ('none'), or a pipe, file or socket. */
function fdKind(fd: number): FdKind {
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

// process.stdout builds a stream (2-3 ms of start-up, as much as a listing command's own work). Output
// to a pipe or file is written straight to fd 1; a terminal, or a pipe that would block, falls back to
// process.stdout. A closed pipe surfaces as EPIPE, which reportError treats as a quiet end.
function lazyStdout(): OutStream {
  let kind: FdKind | undefined;
  let stream: NodeJS.WriteStream | undefined;
  const fallback = (): NodeJS.WriteStream => {
    if (!stream) {
      stream = process.stdout;
      stream.on('error', onStdoutError);
    }
    return stream;
  };
  return {
    get isTTY() {
      kind ??= fdKind(1);
      return kind === 'tty' && process.stdout.isTTY === true;
    },
    once(event: 'drain', listener: () => void) {
      return fallback().once(event, listener);
    },
    write(chunk: string): boolean {
      kind ??= fdKind(1);
      // A terminal shows what a server sent; it must not act on it. Pipes and files get the bytes as they are.
      if (kind === 'tty') return fallback().write(escapeForTerminal(chunk));
      if (stream) return fallback().write(chunk);
      const bytes = Buffer.from(chunk);
      let offset = 0;
      try {
        while (offset < bytes.length) offset += writeSync(1, bytes, offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Writes also happen in callbacks (jq's output), where a throw would be uncaught: end here.
        if (code === 'EPIPE') onStdoutError(error as NodeJS.ErrnoException);
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

export interface FlagSpec {
  string?: string[];
  boolean?: string[];
  alias?: Record<string, string>;
  /** String flags that may repeat; always returned as arrays. */
  repeatable?: string[];
}

export type ParsedFlags = minimist.ParsedArgs;

/** minimist with unknown flags refused and single-valued flags checked, so a typo never passes silently. */
export function parseFlags(argv: string[], spec: FlagSpec): ParsedFlags {
  const strings = [...(spec.string ?? []), ...(spec.repeatable ?? [])];
  const known = new Set<string>([...strings, ...(spec.boolean ?? [])]);
  for (const [short, long] of Object.entries(spec.alias ?? {})) {
    known.add(short);
    known.add(long);
  }
  const parsed = minimist(argv, {
    string: strings,
    boolean: spec.boolean ?? [],
    alias: spec.alias ?? {},
    '--': true,
    unknown: (arg) => {
      if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) {
        const name = arg.replace(/^-+/, '').split('=')[0] ?? arg;
        if (!known.has(name)) throw new UsageError(`unknown option: ${arg}`, { hints: ['Run with --help for usage.'] });
      }
      return true;
    },
  });
  for (const name of spec.repeatable ?? []) {
    const value = parsed[name];
    parsed[name] = value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
  for (const name of spec.string ?? []) {
    const value = parsed[name];
    if (Array.isArray(value)) throw new UsageError(`--${name} was given more than once`);
  }
  for (const name of spec.boolean ?? []) {
    if (Array.isArray(parsed[name])) parsed[name] = parsed[name].at(-1);
  }
  const rest = parsed['--'] ?? [];
  parsed._ = [...parsed._.map(String), ...rest];
  delete parsed['--'];
  return parsed;
}

/** A string flag's value, or undefined; `--flag` with no value is a usage error. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value: unknown = flags[name];
  if (value === undefined) return undefined;
  if (value === '' || typeof value !== 'string') throw new UsageError(`--${name} needs a value`);
  return value;
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

/** `text` with every control character shown as an escape (`\x1b`), so a terminal displays it instead of acting on it. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** Like escapeControls, but the toolkit's own colour codes (those colorsFor writes) and progress line pass. For a stream's chunks. */
export function escapeForTerminal(chunk: string): string {
  if (PROGRESS.test(chunk)) return chunk;
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(chunk)) return chunk;
  let out = '';
  for (let i = 0; i < chunk.length; i++) {
    const char = chunk[i] as string;
    if (char === '\u001b') {
      const own = OWN_COLOUR.exec(chunk.slice(i, i + 5));
      if (own) {
        out += own[0];
        i += own[0].length - 1;
        continue;
      }
    }
    out += escapeControls(char);
  }
  return out;
}

export function writeLine(stream: OutStream, line = ''): void {
  stream.write(`${line}\n`);
}

/** What parseArgs returns for --help and --version instead of options. */
export type MetaRequest = 'help' | 'version';

export function isMetaRequest(value: unknown): value is MetaRequest {
  return value === 'help' || value === 'version';
}

/** Answers --help (the usage text) or --version (the toolkit's version) on stdout; exit 0. */
export function answerMetaRequest(request: MetaRequest, usage: string, io: IO): number {
  io.stdout.write(request === 'help' ? usage : `${packageVersion()}\n`);
  return EXIT.ok;
}

/** Prints a user error as `command: message` plus hints, never a stack trace, and returns its exit code. */
export function reportError(command: string, error: unknown, io: IO): number {
  if (error instanceof ToolkitError) {
    writeLine(io.stderr, `${command}: ${error.message}`);
    for (const hint of error.hints) writeLine(io.stderr, `  ${hint}`);
    return error.exitCode;
  }
  const err = error as NodeJS.ErrnoException;
  if (err && err.code === 'EPIPE') return EXIT.ok;
  const message = err instanceof Error ? err.message : String(error);
  writeLine(io.stderr, `${command}: internal error: ${message}`);
  if (io.env.CLERK_BAPI_DEBUG && err instanceof Error && err.stack) writeLine(io.stderr, err.stack);
  else writeLine(io.stderr, '  Set CLERK_BAPI_DEBUG=1 to see the stack trace, and please report it.');
  return EXIT.runtime;
}

export type Main = (argv: string[], io: IO) => Promise<number>;

/** True when the module at `moduleUrl` is the process's entry point (also through a bin symlink). */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    const self = fileURLToPath(moduleUrl);
    return entry === self || realpathSync(entry) === realpathSync(self);
  } catch {
    return false;
  }
}

/** Runs a command's main as the process: sets the exit code, never calls process.exit(). */
export function runMain(command: string, moduleUrl: string, main: Main): void {
  if (!isEntryPoint(moduleUrl)) return;
  const io = processIO();
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = reportError(command, error, io);
    },
  );
}
