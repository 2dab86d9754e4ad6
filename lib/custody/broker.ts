// Stage custody: key custody. It may import core, spec, endpoint, request, guard, http.
//
// `bapi-guard serve`: a broker the person starts in their own terminal. It holds the secret key (from
// a password manager's command, or typed with echo off), listens on a private Unix socket, and runs
// each request a client sends through the same pipeline as bapi-curl (prepare → judge → authorize →
// send), with its own spec store, its own scopes, approvals in its memory and consent only from the
// person at its terminal. Clients (bapi-curl, bapi-guard, bapi-mcp) need no key: they send the
// prepared request and print what comes back. So an agent has neither the key nor the last word.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, lstatSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crypto } from '../core/builtins.js';
import { errorDocument, ToolkitError, UsageError } from '../core/errors.js';
import { writeLine, type IO } from '../core/io.js';
import { ensurePrivateDir } from '../core/state-dir.js';
import { packageVersion } from '../core/version.js';
import { hmacOf } from '../guard/approval-digest.js';
import { memoryApprovalStore } from '../guard/approval-memory.js';
import { pendingTtl, type ApprovalStore } from '../guard/approvals.js';
import type { Consent } from '../guard/consent.js';
import { KEY_VARIABLE, type SecretKey } from '../guard/key.js';
import { SCOPES_VARIABLE } from '../guard/scopes.js';
import { apiOrigin } from '../guard/run-guard.js';
import { createHttpClient } from '../http/client.js';
import type { Custody, ExecuteDeps } from '../http/execute.js';
import { readWithKey } from '../http/read-current.js';
import { buildRequestUrl, resolveBaseUrl } from '../request/url.js';
import { selectSpec } from '../spec/select.js';
import { personDesk } from './desk.js';
import { handle } from './handle.js';
import { keyFromCommand, keyFromTerminal } from './key-source.js';
import { defaultSocketPath, encodeFrame, frameReader, type BrokerFrame, type BrokerStatus } from './protocol.js';

export interface ServeOptions {
  socket?: string;
  keyCommand?: string;
  /** --scopes; else CLERK_BAPI_SCOPES as the broker started. A client's scopes count for nothing. */
  scopes?: string;
  /** How long an approval the person granted stays usable (seconds). */
  ttlSeconds: number;
}

export interface ServeDeps {
  /** The broker's own terminal and environment. */
  io: IO;
  /** The terminal's input: where the key may be typed, and every answer is. */
  input: NodeJS.ReadStream;
  /** Stops serving (the command's Ctrl-C). */
  signal: AbortSignal;
  /** Told where it listens, once it does (tests). */
  onReady?: (socket: string) => void;
}

/** What every request a broker runs shares: its key, store, consent, environment and spec source. */
export interface BrokerContext {
  key: SecretKey;
  store: ApprovalStore;
  consent: Consent;
  seal: (record: unknown) => string;
  env: Record<string, string | undefined>;
  cwd: string;
  status: BrokerStatus;
  ttlSeconds: number;
  /** The executor's dependencies for one client's streams. */
  deps(io: IO, signal: AbortSignal): ExecuteDeps;
}

/** Serves until `deps.signal` aborts; returns the exit code. */
export async function serve(options: ServeOptions, deps: ServeDeps): Promise<number> {
  const { io } = deps;
  const env: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string | undefined>, io.env);
  if (env[KEY_VARIABLE] !== undefined) {
    writeLine(io.stderr, `bapi-guard serve: ${KEY_VARIABLE} is set in this environment and is not used: any process of yours can read a process's environment. The key comes from --key-command or from you, typed here.`);
    delete env[KEY_VARIABLE];
  }
  if (options.scopes !== undefined) env[SCOPES_VARIABLE] = options.scopes;
  const socketPath = options.socket ?? defaultSocketPath(env, io.cwd);
  privateSocketDir(dirname(socketPath), options.socket !== undefined);
  await refuseLiveSocket(socketPath);
  const key = options.keyCommand !== undefined ? await keyFromCommand(options.keyCommand, env) : await keyFromTerminal(io, deps.input);
  const where = `the terminal running bapi-guard serve (pid ${process.pid})`;
  const desk = personDesk({ io, input: deps.input, keyFingerprint: key.info.fingerprint as string, ttlSeconds: options.ttlSeconds, describe: (approval) => readWithKey(key.value as string, approval.version, buildRequestUrl(resolveBaseUrl(env.CLERK_API_URL), approval.path, []), 5_000) });
  const store = memoryApprovalStore({ person: { where, by: 'broker-terminal' }, onPending: (approval) => desk.ask(approval) });
  desk.attach(store);
  const context = brokerContext(key, store, env, io.cwd, options);
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    void connection(socket, context, io);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  const scopes = env[SCOPES_VARIABLE] ?? '';
  writeLine(io.stderr, `bapi-guard serve: holding the key ${key.info.masked} (from ${key.info.source}); scopes: ${scopes.trim() === '' ? 'none (every write needs your consent here)' : scopes}`);
  writeLine(io.stderr, `bapi-guard serve: listening on ${socketPath}`);
  writeLine(io.stderr, `  Clients find it there${options.socket !== undefined ? ` with: export CLERK_BAPI_BROKER=${socketPath}` : ''}; requests that need your consent are shown here. Ctrl-C stops serving.`);
  deps.onReady?.(socketPath);
  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) resolve();
    else deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // A client still waiting is told nothing more: its request was not sent (the abort stops it first).
  for (const client of clients) client.destroy();
  await stop(server, socketPath);
  desk.close();
  writeLine(io.stderr, 'bapi-guard serve: stopped; the key and every approval are gone with it.');
  return 0;
}

function brokerContext(key: SecretKey, store: ApprovalStore, env: Record<string, string | undefined>, cwd: string, options: ServeOptions): BrokerContext {
  // Journals are sealed under a key derived from the secret key: no one without it forges one, and a restarted broker resumes it.
  const sealKey = Buffer.from(crypto().hkdfSync('sha256', key.value as string, 'clerk-bapi', 'batch journal seal', 32));
  const seal = (record: unknown) => hmacOf(sealKey, record);
  const consent: Consent = { mode: 'person', reasons: [`bapi-guard serve: only the person at its terminal consents`], agent: null, warnings: [] };
  const status: BrokerStatus = {
    pid: process.pid,
    version: packageVersion(),
    key: { masked: key.info.masked as string, kind: key.info.kind },
    scopes: env[SCOPES_VARIABLE] ?? null,
    origin: apiOrigin(env),
    pendingTtlSeconds: pendingTtl(env),
  };
  return {
    key,
    store,
    consent,
    seal,
    env,
    cwd,
    status,
    ttlSeconds: options.ttlSeconds,
    deps(io, signal) {
      const custody: Custody = { store, consent, seal, signal };
      return { io, createClient: createHttpClient, selectSpec, now: () => new Date(), key, custody };
    },
  };
}

/** One client: its request line, then the answer as frames; the connection's end aborts what was not sent yet. */
async function connection(socket: Socket, context: BrokerContext, io: IO): Promise<void> {
  const aborted = new AbortController();
  socket.on('error', () => aborted.abort());
  socket.on('close', () => aborted.abort());
  const send = (frame: BrokerFrame) => {
    if (!socket.destroyed) socket.write(encodeFrame(frame));
  };
  const request = await new Promise<unknown>((resolve) => {
    const read = frameReader(
      (value) => {
        socket.off('data', read);
        resolve(value);
      },
      (problem) => resolve({ problem }),
    );
    socket.on('data', read);
    socket.once('end', () => resolve(null));
  });
  if (request === null) return void socket.end();
  try {
    const code = await handle(request, socket, context, aborted.signal);
    send({ t: 'exit', code });
  } catch (error) {
    if (!(error instanceof ToolkitError)) writeLine(io.stderr, `bapi-guard serve: internal error on a request: ${error instanceof Error ? error.message : String(error)}`);
    send({ t: 'error', error: errorDocument(error), reported: error instanceof ToolkitError && error.reported });
  }
  socket.end();
}

/**
 * The socket's directory, entered by this user only. The default one is the toolkit's and is made
 * private; a --socket's existing directory is the person's, so it is checked, never changed (a
 * --socket in $HOME must not chmod $HOME).
 */
function privateSocketDir(dir: string, given: boolean): void {
  if (!given || !existsSync(dir)) {
    ensurePrivateDir(dir);
    return;
  }
  const stat = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  if (!stat.isDirectory() || (uid !== null && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new UsageError(`--socket: ${dir} is not a directory only you can enter (mode ${(stat.mode & 0o777).toString(8)}); the broker's socket must be in one`, {
      hints: [`Give a path in a new directory, e.g. --socket ${join(dir, 'clerk-bapi', 'broker.sock')} (created 0700), or leave --socket out.`],
    });
  }
}

/** A socket file left by a broker that is gone is removed; one a live broker listens on is refused. */
async function refuseLiveSocket(path: string): Promise<void> {
  let exists = false;
  try {
    exists = statSync(path).isSocket();
  } catch {
    return;
  }
  if (!exists) throw new UsageError(`${path} exists and is not a socket: choose another --socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new UsageError(`a broker already listens on ${path}`, { hints: ['Stop it first, or give this one another --socket.'] });
  rmSync(path, { force: true });
}

async function stop(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(path, { force: true });
}
