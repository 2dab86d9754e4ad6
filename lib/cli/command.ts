// Stage cli: the commands' own plumbing: flags, --help, completion, text records, exit codes. It
// may import core, spec, endpoint, request, guard, http, custody, mcp.
//
// A command's life: --help and --version, errors mapped to exit codes (a user error is one line and
// its hints, never a stack trace), and main run only when the file is the entry point.
import { closeSync, openSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorDocument, EXIT, ToolkitError } from '../core/errors.js';
import { fdKind, processIO, writeLine, type IO } from '../core/io.js';
import { packageVersion } from '../core/version.js';

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

/**
 * Prints a user error as `command: message` plus hints, never a stack trace, and returns its exit
 * code; with --json, the error as data on stdout too (`{"error": {code, message, hints, exit_code}}`).
 */
export function reportError(command: string, error: unknown, io: IO, json = false): number {
  if (json && !isBrokenPipe(error)) writeLine(io.stdout, JSON.stringify({ error: errorDocument(error) }));
  if (error instanceof ToolkitError) {
    if (error.reported) return error.exitCode;
    writeLine(io.stderr, `${command}: ${error.message}`);
    for (const hint of error.hints) writeLine(io.stderr, `  ${hint}`);
    return error.exitCode;
  }
  const err = error as NodeJS.ErrnoException;
  if (isBrokenPipe(error)) return EXIT.ok;
  const message = err instanceof Error ? err.message : String(error);
  writeLine(io.stderr, `${command}: internal error: ${message}`);
  if (io.env.CLERK_BAPI_DEBUG && err instanceof Error && err.stack) writeLine(io.stderr, err.stack);
  else writeLine(io.stderr, '  Set CLERK_BAPI_DEBUG=1 to see the stack trace, and please report it.');
  return EXIT.runtime;
}

function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EPIPE';
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

/**
 * Node writes back, at exit, the terminal modes that fds 0 and 2 had when it started
 * (nodejs/node#35536). In `extract-tag-endpoints | fzf` that undoes fzf's raw mode and leaves the
 * terminal broken: keys echo, the list does not filter. The toolkit never changes those modes, so a
 * command whose output goes to a pipe points its terminal fds at /dev/null just before it exits, where
 * that write does nothing, and leaves the terminal as it is.
 */
function leaveTerminalAsItIs(): void {
  if (process.platform === 'win32') return;
  process.once('exit', () => {
    try {
      // fstat, not node:tty's isatty: loading node:tty (and node:net with it) cost every command ~3 ms.
      if (fdKind(1) === 'tty') return;
      for (const [fd, flags] of [[0, 'r'], [2, 'w']] as const) {
        if (fdKind(fd) !== 'tty') continue;
        closeSync(fd);
        // The lowest free descriptor is the one just closed: /dev/null takes its place (dup2 without dup2).
        const opened = openSync('/dev/null', flags);
        if (opened !== fd) closeSync(opened);
      }
    } catch {
      // Leaving is all that is left to do.
    }
  });
}

/** Runs a command's main as the process: sets the exit code, never calls process.exit(). */
export function runMain(command: string, moduleUrl: string, main: Main): void {
  if (!isEntryPoint(moduleUrl)) return;
  leaveTerminalAsItIs();
  const io = processIO();
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = reportError(command, error, io, process.argv.includes('--json'));
    },
  );
}
