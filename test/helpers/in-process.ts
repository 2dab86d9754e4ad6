// A command run in this process: its main with streams kept in memory, and a failure turned into
// its exit code and message as runMain would print it. For what needs no process of its own (no
// terminal, no signal, no exit code of a real process), this is ~40× cheaper than a spawn.
import type { IO } from '../../lib/core/io.js';
import { reportError } from '../../lib/cli/command.js';

export interface MemoryIO extends IO {
  out: string[];
  err: string[];
}

export function memoryIO(env: Record<string, string | undefined>, cwd: string, stdin: string | null = null): MemoryIO {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdin: Object.assign(
      (async function* () {
        if (stdin !== null) yield stdin;
      })(),
      { isTTY: false },
    ),
    stdout: { write: (s: string) => out.push(s), isTTY: false },
    stderr: { write: (s: string) => err.push(s), isTTY: false },
    env,
    cwd,
    out,
    err,
  };
}

/** Runs `main` with `args`; the exit code and what it wrote, as the command would have. */
export async function runInProcess(command: string, main: (argv: string[], io: IO) => Promise<number>, args: string[], options: { env: Record<string, string | undefined>; cwd: string; stdin?: string }): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const io = memoryIO(options.env, options.cwd, options.stdin ?? null);
  let exitCode: number;
  try {
    exitCode = await main(args, io);
  } catch (error) {
    exitCode = reportError(command, error, io, args.includes('--json'));
  }
  return { exitCode, stdout: io.out.join(''), stderr: io.err.join('') };
}
