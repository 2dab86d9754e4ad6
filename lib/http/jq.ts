// `--jq FILTER`: a native `jq` from PATH when there is one (fast), else jq-wasm (always there).
// Either way the filter runs over a stream of JSON texts (one response, or one item per page when
// paginating), and the secret key never comes near it: the child gets a minimal environment and the
// data on stdin; jq-wasm sees only its own emulated environment.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ToolkitError, UsageError } from '../core/errors.js';
import { childProcess, nodeModule } from '../core/builtins.js';

export const JQ_VARIABLE = 'CLERK_BAPI_JQ';

export interface JqOptions {
  /** jq's own output: strings raw (like `gh api --jq`), other values compact unless pretty. */
  pretty: boolean;
  env: Record<string, string | undefined>;
}

export interface JqStream {
  /** Feeds JSON text (one or more values) to the filter; output goes to the sink as it comes. */
  write(json: string): Promise<void>;
  /** Ends the input and waits for the last output; throws when jq reported an error. */
  end(): Promise<void>;
  readonly engine: 'native' | 'wasm';
}

/** The filter failed at run time (its input did not fit it): exit 1, like other runtime failures. */
export class JqError extends ToolkitError {
  override readonly code: string = 'jq_failed';
}

/**
 * The native jq to use: `CLERK_BAPI_JQ` (a path, or `wasm` to force the fallback), else `jq` on PATH.
 */
export function findNativeJq(env: Record<string, string | undefined>): string | null {
  const chosen = env[JQ_VARIABLE];
  if (chosen === 'wasm' || chosen === 'builtin') return null;
  const candidates = chosen ? [chosen] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'jq'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function jqFlags(pretty: boolean): string[] {
  return pretty ? ['-r'] : ['-r', '-c'];
}

// The child sees nothing of ours but what jq needs: a filter could read `$ENV`.
function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ']) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Opens a jq stream over `filter`, writing jq's output to `sink`. */
export async function openJq(filter: string, sink: (text: string) => void, options: JqOptions): Promise<JqStream> {
  if (filter.trim() === '') throw new UsageError('--jq needs a filter');
  const native = findNativeJq(options.env);
  if (native !== null) return openNative(native, filter, sink, options);
  return openWasm(filter, sink, options);
}

/** Runs `filter` over one JSON text and returns jq's output. */
export async function runJq(filter: string, json: string, options: JqOptions): Promise<string> {
  const parts: string[] = [];
  const stream = await openJq(filter, (text) => parts.push(text), options);
  await stream.write(json);
  await stream.end();
  return parts.join('');
}

function openNative(path: string, filter: string, sink: (text: string) => void, options: JqOptions): JqStream {
  const child = childProcess().spawn(path, [...jqFlags(options.pretty), filter], { env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text: string) => sink(text));
  child.stderr.on('data', (text: string) => stderr.push(text));
  // jq quitting early (a compile error) closes its stdin under us; the exit status tells the story.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  let failed = false;
  exited.then((code) => (failed = code !== 0), () => (failed = true));
  return {
    engine: 'native',
    async write(json: string) {
      if (failed || child.stdin.destroyed) return;
      if (!child.stdin.write(json.endsWith('\n') ? json : `${json}\n`)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            child.stdin.off('drain', done);
            child.off('close', done);
            resolve();
          };
          child.stdin.on('drain', done);
          child.on('close', done);
        });
      }
    },
    async end() {
      child.stdin.end();
      let code: number;
      try {
        code = await exited;
      } catch (error) {
        throw new JqError(`could not run ${path}: ${(error as Error).message}`, { hints: [`Set ${JQ_VARIABLE}=wasm to use the built-in jq.`] });
      }
      if (code !== 0) throw jqFailure(code, stderr.join(''));
    },
  };
}

// jq's exit status 3 is a compile error (the filter is wrong: exit 2); the rest are about the input.
function jqFailure(status: number, stderr: string): ToolkitError {
  const message = stderr.trim().split('\n').filter(Boolean).join('; ') || `jq exited with status ${status}`;
  return status === 3 || /compile error/.test(message) ? new UsageError(`--jq: ${message}`) : new JqError(`--jq: ${message}`);
}

// --- jq-wasm -------------------------------------------------------------------------------------

interface WasmRun {
  status: number;
  stdout: string;
  stderr: string;
}

interface WasmJq {
  run(input: string, filter: string, flags: string[]): Promise<WasmRun>;
}

let wasm: Promise<WasmJq> | undefined;

/**
 * jq-wasm 1.0.1 feeds stdin by `slice(1)` per byte and grows stdout by a copy per byte, so its time
 * grows with the square of the size (1 MB ≈ 40 s). We load its module with those two spots made
 * linear (a view instead of a copy; a doubling buffer) and with a `run` that also returns jq's exit
 * status and stderr. Another version of the file falls back to the package as shipped.
 */
export function patchJqWasmSource(source: string): string | null {
  const replacements: Array<[RegExp, string]> = [
    [/let stdoutBuffer = new Uint8Array\(0\);/, 'let stdoutBuffer = new Uint8Array(0); let stdoutLength = 0;'],
    [/stdinBuffer = stdinBuffer\.slice\(1\);/, 'stdinBuffer = stdinBuffer.subarray(1);'],
    [
      /const tmp = new Uint8Array\(stdoutBuffer\.length \+ 1\);\s*tmp\.set\(stdoutBuffer, 0\);\s*tmp\[tmp\.length - 1\] = charCode;\s*stdoutBuffer = tmp;/,
      'if (stdoutLength === stdoutBuffer.length) { const tmp = new Uint8Array(Math.max(65536, stdoutBuffer.length * 2)); tmp.set(stdoutBuffer, 0); stdoutBuffer = tmp; } stdoutBuffer[stdoutLength++] = charCode;',
    ],
    [
      /raw\(jsonString, query, flags = \[\]\) \{/,
      'run(input, query, flags) { stdinBuffer = toByteArray(input); stdoutBuffer = new Uint8Array(0); stdoutLength = 0; stderrBuffer = new Uint8Array(0); const status = Module.callMain([...flags, query, "/dev/stdin"]); return { status: typeof status === "number" ? status : 0, stdout: fromByteArray(stdoutBuffer.subarray(0, stdoutLength)), stderr: fromByteArray(stderrBuffer) }; }, raw(jsonString, query, flags = []) {',
    ],
  ];
  let patched = source;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(patched)) return null;
    patched = patched.replace(pattern, replacement);
  }
  return patched;
}

type SyncRun = (input: string, filter: string, flags: string[]) => WasmRun;
type ShippedRaw = (data: string, filter: string, flags: string[]) => Promise<string>;

async function loadWasm(env: Record<string, string | undefined>): Promise<WasmJq> {
  const require = nodeModule().createRequire(import.meta.url);
  const file = require.resolve('jq-wasm/dist/build/jq.js');
  const patched = env[JQ_VARIABLE] === 'wasm-shipped' ? null : patchJqWasmSource(readFileSync(file, 'utf8'));
  if (patched !== null) {
    const module = { exports: {} as unknown };
    // The same CommonJS wrapper Node would use, around the patched text of the package's own file.
    new Function('module', 'exports', 'require', '__filename', '__dirname', patched)(module, module.exports, require, file, dirname(file));
    const factory = module.exports as (options?: object) => Promise<{ run: SyncRun }>;
    const instance = await factory();
    return { run: async (input, filter, flags) => instance.run(input, filter, flags) };
  }
  const shipped = require('jq-wasm') as { raw: ShippedRaw };
  return {
    async run(input, filter, flags) {
      try {
        return { status: 0, stdout: await shipped.raw(input, filter, flags), stderr: '' };
      } catch (error) {
        const message = String((error as Error).message ?? error);
        return { status: /compile error/.test(message) ? 3 : 5, stdout: '', stderr: message };
      }
    },
  };
}

function openWasm(filter: string, sink: (text: string) => void, options: JqOptions): JqStream {
  const flags = ['-M', ...jqFlags(options.pretty)];
  wasm ??= loadWasm(options.env);
  return {
    engine: 'wasm',
    async write(json: string) {
      const result = await (await wasm!).run(json, filter, flags);
      if (result.stdout !== '') sink(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
      if (result.status !== 0) throw jqFailure(result.status, result.stderr);
    },
    async end() {
      // Each write ran to completion.
    },
  };
}
