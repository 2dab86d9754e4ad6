// `make bench`: the toolkit's costs measured side by side in one run (rounds alternate, medians and
// ratios reported), so the machine's noise hits every contender alike. Not a test: nothing fails on
// time. Prints a table and writes .bench/results.json.
//
//   node --import tsx test/bench/bench.ts [--rounds N] [--users N] [--quick] [--baseline REV] [--only custody|webhooks|mcp]
//
// --baseline REV builds that git revision in a temporary worktree and runs its warm commands beside
// this build's, alternating, so a change's cost is a ratio measured in one run.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import minimist from 'minimist';
import { PROJECT_DIR, SHARED_BAPI_DIR, SHARED_SPECS_DIR } from '../helpers/spec-fixtures.js';

const args = minimist(process.argv.slice(2), { string: ['rounds', 'users', 'baseline', 'only'], boolean: ['quick'] });
const quick = args.quick === true;
const ROUNDS = Number(args.rounds ?? (quick ? 5 : 15));
const USERS = Number(args.users ?? (quick ? 20_000 : 100_000));
const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const script = (name: string) => join(PROJECT_DIR, 'dist', 'scripts', `${name}.js`);
const which = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim() || null;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const JQ = which('jq');
const CURL = which('curl');

interface Run {
  ms: number;
  rssKb: number | null;
  exitCode: number | null;
  stdoutBytes: number;
}

/** Runs a command to completion, draining stdout; with /usr/bin/time when memory is asked for. */
function run(argv: string[], env: NodeJS.ProcessEnv, options: { memory?: boolean; shell?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    let command = argv;
    if (options.shell) command = ['bash', '-c', argv.join(' ')];
    if (options.memory && TIME) command = [TIME, '-f', '%M', ...command];
    const start = process.hrtime.bigint();
    const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdoutBytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const rss = options.memory && TIME ? Number(stderr.trim().split('\n').at(-1)) : NaN;
      if (code !== 0) process.stderr.write(`bench: ${argv.join(' ')} exited ${code}: ${stderr.slice(-400)}\n`);
      resolve({ ms, rssKb: Number.isFinite(rss) ? rss : null, exitCode: code, stdoutBytes });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Contender {
  name: string;
  argv: () => string[];
  env?: () => NodeJS.ProcessEnv;
  shell?: boolean;
  memory?: boolean;
  /** Runs before each measured run, not timed (e.g. emptying a store). */
  prepare?: () => void;
}

interface Result {
  name: string;
  medianMs: number;
  minMs: number;
  peakRssMb: number | null;
  runs: number;
}

/** Rounds alternate the contenders' order so drift in the machine's load spreads evenly. */
async function measure(contenders: Contender[], rounds: number): Promise<Result[]> {
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const rss = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...contenders].reverse() : contenders;
    for (const contender of order) {
      contender.prepare?.();
      const result = await run(contender.argv(), contender.env?.() ?? baseEnv, {
        ...(contender.memory ? { memory: true } : {}),
        ...(contender.shell ? { shell: true } : {}),
      });
      times.get(contender.name)!.push(result.ms);
      if (result.rssKb !== null) rss.get(contender.name)!.push(result.rssKb);
    }
  }
  return contenders.map((c) => {
    const t = times.get(c.name)!;
    const r = rss.get(c.name)!;
    return { name: c.name, medianMs: median(t), minMs: Math.min(...t), peakRssMb: r.length ? Math.max(...r) / 1024 : null, runs: t.length };
  });
}

const work = mkdtempSync(join(tmpdir(), 'bapi-bench-'));
const warmStore = join(work, 'store-warm');
const baseEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: work,
  CLERK_SPECS_SOURCE: process.env.CLERK_SPECS_SOURCE ?? SHARED_SPECS_DIR,
  CLERK_SPECS_DIR: warmStore,
  CLERK_BAPI_STATE_DIR: join(work, 'state'),
  CLERK_SECRET_KEY: KEY,
};

async function startFake(users: number, extra: string[] = []): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_DIR, 'test', 'fake-clerk.ts'), '--users', String(users), '--metadata', '--key', KEY, ...extra], {
    cwd: PROJECT_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`fake Clerk exited ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** REV built in a temporary git worktree (sharing this checkout's node_modules). */
function buildBaseline(rev: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bapi-baseline-'));
  const git = (...argv: string[]) => {
    const result = spawnSync('git', argv, { cwd: PROJECT_DIR, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${argv.join(' ')}: ${result.stderr}`);
  };
  git('worktree', 'add', '--detach', dir, rev);
  symlinkSync(join(PROJECT_DIR, 'node_modules'), join(dir, 'node_modules'));
  const built = spawnSync('make', ['build'], { cwd: dir, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`make build of ${rev}: ${built.stderr}`);
  return { dir, remove: () => git('worktree', 'remove', '--force', dir) };
}

function row(result: Result, base: Result | null, note = ''): string {
  const ratio = base ? (result.medianMs / base.medianMs).toFixed(2) : '';
  const rss = result.peakRssMb === null ? '' : result.peakRssMb.toFixed(0);
  return `| ${result.name} | ${result.medianMs.toFixed(1)} | ${ratio} | ${rss} | ${note} |`;
}

/** `--paginate` over USERS users with 100 ms per page, beside a sequential cursor loop over the same pages. */
async function latencyWalk(say: (line: string) => void, report: Record<string, unknown>): Promise<void> {
  const fake = await startFake(USERS, ['--latency', '100']);
  try {
    // The fake has no rate limit: the budget is out of the way, as for the other client figures.
    const env = { ...baseEnv, CLERK_API_URL: fake.url, CLERK_BAPI_RATE_LIMIT: '1000000/1s' };
    // The strictest sequential loop: one process, keep-alive, each page's body written as it comes.
    const loop = join(work, 'cursor-loop.mjs');
    writeFileSync(
      loop,
      `const base = ${JSON.stringify(`${fake.url}/v1/users?limit=500`)};\nlet after = null;\nfor (;;) {\n  const res = await fetch(after ? base + '&starting_after=' + after : base, { headers: { authorization: 'Bearer ' + process.env.CLERK_SECRET_KEY } });\n  const page = await res.json();\n  for (const user of page) process.stdout.write(JSON.stringify(user) + '\\n');\n  if (page.length < 500) break;\n  after = page[page.length - 1].id;\n}\n`,
    );
    const walk = (concurrency: number) => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=500', '--paginate', '--concurrency', String(concurrency)];
    // Identical lines: the walk with ranges against one cursor, hashed once outside the timing.
    const hash = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { env, maxBuffer: 1 << 30 }).stdout as Buffer;
    const [one, four] = [hash(walk(1)), hash(walk(4))];
    const identical = one.length > 0 && one.equals(four);
    const lines = one.toString('utf8').split('\n').length - 1;
    const runs = await measure(
      [
        { name: `sequential cursor loop (node fetch), ${USERS} users, 100 ms per page`, argv: () => ['node', loop], env: () => env },
        { name: 'bapi-curl --paginate --concurrency 1 (one cursor)', argv: () => walk(1), env: () => env, memory: true },
        { name: 'bapi-curl --paginate (default: 4 cursors over time ranges)', argv: () => walk(4), env: () => env, memory: true },
        { name: 'bapi-curl --paginate --concurrency 8', argv: () => walk(8), env: () => env, memory: true },
      ],
      Math.max(2, Math.ceil(ROUNDS / 5)),
    );
    say(`| --paginate, 100 ms latency per page | median ms | ratio to the sequential loop (target ≤ 0.35) | peak RSS MB (target ≤ 150) | note |`);
    say('| --- | --- | --- | --- | --- |');
    for (const result of runs) say(row(result, runs[0]!, result.name.includes('default') ? `${lines} lines, identical to one cursor's: ${identical ? 'yes' : 'NO'}` : ''));
    report.latencyWalk = { runs, lines, identical };
    say('');
  } finally {
    fake.stop();
  }
}

/** 600 writes as one --batch at a fake limited to 100 per second, and two batches at once on one key. */
async function batches(say: (line: string) => void, report: Record<string, unknown>): Promise<void> {
  const { startFakeClerk } = await import('../fake-clerk.js');
  const fake = await startFakeClerk({ key: KEY, users: 1200, rateLimit: { requests: 100, windowMs: 1000 } });
  fake.record = false;
  try {
    const env = { ...baseEnv, CLERK_API_URL: fake.url, CLERK_BAPI_RATE_LIMIT: '100/1s', CLERK_BAPI_SCOPES: 'write', CLERK_BAPI_STATE_DIR: join(work, 'state-batch') };
    const ids = Array.from({ length: 1200 }, (_, i) => `user_seed${String(i).padStart(7, '0')}`);
    const file = (name: string, from: number, count: number) => {
      const path = join(work, name);
      writeFileSync(path, ids.slice(from, from + count).map((id, i) => JSON.stringify({ method: 'PATCH', path: `/users/${id}/metadata`, body: { public_metadata: { bench: i } } })).join('\n') + '\n');
      return path;
    };
    const big = file('batch-600.ndjson', 0, 600);
    const halves = [file('batch-a.ndjson', 600, 300), file('batch-b.ndjson', 900, 300)];
    const approve = (path: string) => {
      // The previous run's last second of budget is spent: start each run on a fresh window.
      spawnSync('sleep', ['1.1']);
      const guard = spawnSync('node', [script('bapi-guard'), '--batch', path, '--yes'], { env, encoding: 'utf8' });
      if (guard.status !== 0) throw new Error(`bapi-guard --batch ${path}: ${guard.stderr}`);
    };
    const before = fake.tooManyRequests;
    const single = await measure([{ name: '--batch of 600 PATCH …/metadata, fake limited to 100 per 1 s', argv: () => ['node', script('bapi-curl'), '--batch', big, '--concurrency', '8'], env: () => env, prepare: () => approve(big) }], Math.max(2, Math.ceil(ROUNDS / 5)));
    const singleRejected = fake.tooManyRequests - before;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const both = fake.tooManyRequests;
    for (const half of halves) approve(half);
    const start = process.hrtime.bigint();
    const pair = await Promise.all(halves.map((half) => run(['node', script('bapi-curl'), '--batch', half, '--concurrency', '8'], env)));
    const pairMs = Number(process.hrtime.bigint() - start) / 1e6;
    const pairRejected = fake.tooManyRequests - both;
    say('| --batch at the rate limit | median ms | ratio to the limit\'s minimum, 5 s (target ≤ 1.15) | 429s (target 0) | |');
    say('| --- | --- | --- | --- | --- |');
    say(`| ${single[0]!.name} | ${single[0]!.medianMs.toFixed(0)} | ${(single[0]!.medianMs / 5000).toFixed(2)} | ${singleRejected} | |`);
    say(`| two --batch processes of 300 at once, one key, same fake | ${pairMs.toFixed(0)} | ${(pairMs / 5000).toFixed(2)} | ${pairRejected} | exits ${pair.map((p) => p.exitCode).join(', ')} |`);
    report.batches = { single, singleRejected, pairMs, pairRejected };
    say('');
  } finally {
    await fake.close();
  }
}

/** A key-custody broker (bapi-guard serve) in a pseudo-terminal, its key read from a file by --key-command. */
async function startBroker(env: NodeJS.ProcessEnv, name: string): Promise<{ socket: string; stop: () => Promise<void> }> {
  const dir = join(work, `broker-${name}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const vault = join(dir, 'key');
  writeFileSync(vault, `${KEY}\n`, { mode: 0o600 });
  const socket = join(dir, 'broker.sock');
  const command = [process.execPath, script('bapi-guard'), 'serve', '--key-command', `cat ${vault}`, '--socket', socket, '--scopes', 'write'].map((a) => `'${a}'`).join(' ');
  const brokerEnv = { ...env };
  delete brokerEnv.CLERK_SECRET_KEY;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: brokerEnv, stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`bapi-guard serve exited ${code}: ${out}`)));
  });
  return { socket, stop: async () => void (child.kill('SIGTERM'), await new Promise((resolve) => child.once('exit', resolve))) };
}

/** Key custody's costs: a warm GET through the broker beside the same GET sent directly, and a 300-write batch through it at Clerk's development limit. */
async function custody(say: (line: string) => void, report: Record<string, unknown>): Promise<void> {
  const { startFakeClerk } = await import('../fake-clerk.js');
  const fake = await startFakeClerk({ key: KEY, users: 400 });
  fake.record = false;
  const direct = { ...baseEnv, CLERK_API_URL: fake.url, CLERK_BAPI_RATE_LIMIT: '1000000/1s', CLERK_BAPI_STATE_DIR: join(work, 'state-custody') };
  const broker = await startBroker(direct, 'get');
  try {
    const client: NodeJS.ProcessEnv = { ...direct, CLERK_BAPI_BROKER: broker.socket };
    delete client.CLERK_SECRET_KEY;
    await run(['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=10'], client);
    const gets = await measure(
      [
        { name: 'bapi-curl GET /users?limit=10, the key in its environment', argv: () => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=10'], env: () => direct },
        { name: 'bapi-curl GET /users?limit=10 through the broker, no key', argv: () => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=10'], env: () => client },
      ],
      ROUNDS,
    );
    say('| key custody | median ms | ratio | |');
    say('| --- | --- | --- | --- |');
    say(`| ${gets[0]!.name} | ${gets[0]!.medianMs.toFixed(1)} | 1.00 | |`);
    say(`| ${gets[1]!.name} | ${gets[1]!.medianMs.toFixed(1)} | ${(gets[1]!.medianMs / gets[0]!.medianMs).toFixed(2)} × direct (target ≤ 1.15) | |`);
    report.custodyGet = gets;
  } finally {
    await broker.stop();
  }
  // 300 writes at Clerk's development limit, 100 per 10 s: the first 100 at once, then 100 per 10 s, so 20 s at least.
  fake.rateLimit = { requests: 100, windowMs: 10_000 };
  const limited = { ...direct, CLERK_BAPI_RATE_LIMIT: '100/10s', CLERK_BAPI_STATE_DIR: join(work, 'state-custody-batch') };
  const batchBroker = await startBroker(limited, 'batch');
  try {
    const file = join(work, 'custody-300.ndjson');
    writeFileSync(file, Array.from({ length: 300 }, (_, i) => JSON.stringify({ method: 'PATCH', path: `/users/user_seed${String(i).padStart(7, '0')}/metadata`, body: { public_metadata: { custody: i } } })).join('\n') + '\n');
    const client: NodeJS.ProcessEnv = { ...limited, CLERK_BAPI_BROKER: batchBroker.socket };
    delete client.CLERK_SECRET_KEY;
    const before = fake.tooManyRequests;
    const batch = await run(['node', script('bapi-curl'), '--batch', file, '--concurrency', '8'], client);
    const rejected = fake.tooManyRequests - before;
    say(`| --batch of 300 PATCH …/metadata through the broker, fake limited to 100 per 10 s (1 run) | ${batch.ms.toFixed(0)} | ${(batch.ms / 20_000).toFixed(2)} × the limit's 20 s minimum (target ≤ 1.15); ${rejected} × 429 (target 0) | exit ${batch.exitCode} |`);
    report.custodyBatch = { ms: batch.ms, rejected, exitCode: batch.exitCode };
    say('');
  } finally {
    await batchBroker.stop();
    await fake.close();
  }
}

/** bapi-webhooks warm: the event list, and one event triggered at a local app that answers at once, beside node's floor. */
async function webhooks(say: (line: string) => void, report: Record<string, unknown>): Promise<void> {
  const { createServer, request } = await import('node:http');
  // The app's answer time, which the target adds to the floor, two ways: as the app measures it (from
  // the request's first bytes to the answer handed to the kernel), and as any client sees it (a warm
  // client's POST of the same size on a new connection: connect, send, the whole answer).
  const answers: number[] = [];
  const app = createServer((req, res) => {
    const arrived = (req.socket as { arrivedAt?: bigint }).arrivedAt ?? process.hrtime.bigint();
    res.on('finish', () => answers.push(Number(process.hrtime.bigint() - arrived) / 1e6));
    req.resume().on('end', () => res.writeHead(204).end());
  });
  app.on('connection', (socket: import('node:net').Socket & { arrivedAt?: bigint }) => socket.once('data', () => (socket.arrivedAt = process.hrtime.bigint())));
  const clientPost = (target: string) =>
    new Promise<number>((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = request(target, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => res.resume().on('end', () => resolve(Number(process.hrtime.bigint() - start) / 1e6)));
      req.on('error', reject);
      req.end(JSON.stringify({ type: 'user.created', data: { padding: 'x'.repeat(1500) } }));
    });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(app.address() as { port: number }).port}/api/webhooks`;
  const env = { ...baseEnv, CLERK_WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.alloc(24, 7).toString('base64')}` };
  try {
    await run(['node', script('bapi-webhooks'), 'events'], env);
    const floor: Contender = { name: 'node -e 0 (floor)', argv: () => ['node', '-e', '0'] };
    const results = await measure(
      [
        floor,
        { name: 'bapi-webhooks events', argv: () => ['node', script('bapi-webhooks'), 'events'], env: () => env },
        { name: 'bapi-webhooks trigger user.created, to a local app answering 204 at once', argv: () => ['node', script('bapi-webhooks'), 'trigger', 'user.created', '--url', url], env: () => env },
      ],
      ROUNDS,
    );
    say('| bapi-webhooks (warm) | median ms | ratio to floor | peak RSS MB | target |');
    say('| --- | --- | --- | --- | --- |');
    say(row(results[0]!, results[0]!));
    say(row(results[1]!, results[0]!, '≤ 1.3'));
    const answer = median(answers);
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) seen.push(await clientPost(url));
    const client = median(seen.slice(10));
    say(row(results[2]!, results[0]!, `≤ 1.5 plus the app's answer`));
    const [floorMs, triggerMs] = [results[0]!.medianMs, results[2]!.medianMs];
    say('');
    say(`The app's answer: ${answer.toFixed(2)} ms as it measures it, ${client.toFixed(2)} ms as a warm client sees it on a new connection.`);
    say(`The trigger without it: (${triggerMs.toFixed(1)} − ${answer.toFixed(2)}) / ${floorMs.toFixed(1)} = ${((triggerMs - answer) / floorMs).toFixed(2)}, (${triggerMs.toFixed(1)} − ${client.toFixed(2)}) / ${floorMs.toFixed(1)} = ${((triggerMs - client) / floorMs).toFixed(2)} × the floor (target ≤ 1.5).`);
    report.webhooks = results;
    report.webhookAppAnswerMs = { app: answer, client };
    say('');
  } finally {
    app.close();
  }
}

/** Lines of JSON-RPC, one message each, as a host writes them to bapi-mcp's stdin. */
function jsonLines(file: string, messages: unknown[]): string {
  writeFileSync(file, messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
  return file;
}

/**
 * bapi-mcp: start-up to its first tools/list answer in each era, and to its first tool answer, beside
 * node's floor (target ≤ 2); then, with the server up, a describe_endpoint call beside a warm
 * extract-endpoint-detail --json process (target ≤ 1.3).
 */
async function mcp(say: (line: string) => void, report: Record<string, unknown>): Promise<void> {
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } };
  const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const legacyList = jsonLines(join(work, 'mcp-list.jsonl'), [initialize, initialized, { jsonrpc: '2.0', id: 2, method: 'tools/list' }]);
  const modernList = jsonLines(join(work, 'mcp-modern.jsonl'), [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }]);
  const firstCall = jsonLines(join(work, 'mcp-call.jsonl'), [initialize, initialized, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search_endpoints', arguments: { tag: 'users', method: 'DELETE' } } }]);
  const served = (input: string) => () => [`node '${script('bapi-mcp')}' < '${input}' > /dev/null`];
  await run(['node', script('api-specs-context')], baseEnv);
  await run(served(firstCall)(), baseEnv, { shell: true });
  const floor: Contender = { name: 'node -e 0 (floor)', argv: () => ['node', '-e', '0'] };
  const startup = await measure(
    [
      floor,
      { name: 'bapi-mcp: initialize + tools/list (2025-11-25)', argv: served(legacyList), shell: true },
      { name: 'bapi-mcp: tools/list (2026-07-28, no handshake)', argv: served(modernList), shell: true },
      { name: 'bapi-mcp: initialize + first search_endpoints answer', argv: served(firstCall), shell: true },
      { name: 'extract-endpoint-detail --json POST /users', argv: () => ['node', script('extract-endpoint-detail'), '--json', 'POST', '/users'] },
    ],
    ROUNDS,
  );
  say('| MCP server (warm store) | median ms | ratio to floor | peak RSS MB | target |');
  say('| --- | --- | --- | --- | --- |');
  say(row(startup[0]!, startup[0]!));
  for (const result of startup.slice(1, 4)) say(row(result, startup[0]!, result.name.includes('tools/list') ? '≤ 2' : ''));
  say(row(startup[4]!, startup[0]!));

  // describe_endpoint round trips on one running server, after its first call.
  const child = spawn(process.execPath, [script('bapi-mcp')], { env: baseEnv, stdio: ['pipe', 'pipe', 'ignore'] });
  const waiting = new Map<number, () => void>();
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const id = (JSON.parse(buffered.slice(0, at)) as { id?: number }).id;
      buffered = buffered.slice(at + 1);
      if (typeof id === 'number') waiting.get(id)?.();
    }
  });
  let nextId = 1;
  const roundTrip = async (message: Record<string, unknown>): Promise<number> => {
    const id = nextId++;
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, ...message })}\n`);
    });
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const describe = { method: 'tools/call', params: { _meta: meta, name: 'describe_endpoint', arguments: { method: 'POST', path: '/users' } } };
  const firstDescribe = await roundTrip(describe);
  const calls: number[] = [];
  for (let i = 0; i < ROUNDS * 2; i++) calls.push(await roundTrip(describe));
  child.stdin.end();
  const inServer = median(calls);
  const detail = startup[4]!.medianMs;
  say('');
  say('| describe_endpoint POST /users, server up | median ms | ratio to extract-endpoint-detail --json (warm process) | target |');
  say('| --- | --- | --- | --- |');
  say(`| first call after start | ${firstDescribe.toFixed(1)} | ${(firstDescribe / detail).toFixed(2)} | |`);
  say(`| later calls (${calls.length}) | ${inServer.toFixed(1)} | ${(inServer / detail).toFixed(2)} | ≤ 1.3 |`);
  report.mcp = { startup, describe: { firstMs: firstDescribe, medianMs: inServer, detailMs: detail } };
  say('');
}

async function main(): Promise<void> {
  if (!existsSync(script('api-specs-context'))) throw new Error('build first: make build');
  if (args.only === 'custody' || args.only === 'webhooks' || args.only === 'mcp') {
    const lines: string[] = [];
    const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, rounds: ROUNDS };
    await (args.only === 'custody' ? custody : args.only === 'webhooks' ? webhooks : mcp)((line) => (lines.push(line), process.stdout.write(`${line}\n`)), report);
    return;
  }
  const lines: string[] = [];
  const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, rounds: ROUNDS, users: USERS };
  const say = (line: string) => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  say(`Bench: ${ROUNDS} rounds, node ${process.version}, ${USERS} fake users; times are medians in ms.`);
  say('');

  // Warm explorers against node's floor.
  await run(['node', script('api-specs-context')], baseEnv);
  const floor: Contender = { name: 'node -e 0 (floor)', argv: () => ['node', '-e', '0'] };
  const explorers: Contender[] = [
    { name: 'api-specs-context', argv: () => ['node', script('api-specs-context')] },
    { name: 'extract-tags', argv: () => ['node', script('extract-tags')] },
    { name: 'extract-tag-endpoints Users', argv: () => ['node', script('extract-tag-endpoints'), 'Users'] },
    { name: 'extract-endpoint-detail POST /users', argv: () => ['node', script('extract-endpoint-detail'), 'POST', '/users'] },
    // The version report of the whole API (target: warm ≤ 1 s).
    { name: 'extract-tag-endpoints --api-version 2025-04-10 --diff 2025-11-10', argv: () => ['node', script('extract-tag-endpoints'), '--api-version', '2025-04-10', '--diff', '2025-11-10'] },
  ];
  const warm = await measure([floor, ...explorers], ROUNDS);
  const base = warm[0]!;
  say('| warm explorer | median ms | ratio to floor (target ≤ 1.3) | peak RSS MB | |');
  say('| --- | --- | --- | --- | --- |');
  for (const result of warm) say(row(result, base));
  report.warm = warm;
  say('');

  if (typeof args.baseline === 'string' && args.baseline !== '') {
    const baseline = buildBaseline(args.baseline);
    try {
      const old = (name: string) => join(baseline.dir, 'dist', 'scripts', `${name}.js`);
      const fakeForBaseline = await startFake(1000);
      const curlEnv = { ...baseEnv, CLERK_API_URL: fakeForBaseline.url, CLERK_SPECS_DIR: join(work, 'store-baseline'), CLERK_BAPI_SCOPES: 'write' };
      await run(['node', old('api-specs-context')], curlEnv);
      await run(['node', script('api-specs-context')], curlEnv);
      const pairs: Array<[string, string[]]> = [
        ['api-specs-context', []],
        ['extract-tags', []],
        ['extract-tag-endpoints', ['Users']],
        ['extract-endpoint-detail', ['POST', '/users']],
        ['bapi-curl', ['GET', '/users', '-q', 'limit=10']],
        ['bapi-guard', ['PATCH', '/users/user_1/metadata', '-d', '{"public_metadata":{"plan":"pro"}}']],
      ];
      const contenders: Contender[] = pairs.flatMap(([name, argv]) => [
        { name: `${name} ${argv.join(' ')} (${args.baseline})`, argv: () => ['node', old(name), ...argv], env: () => curlEnv },
        { name: `${name} ${argv.join(' ')} (this build)`, argv: () => ['node', script(name), ...argv], env: () => curlEnv },
      ]);
      const compared = await measure([floor, ...contenders], ROUNDS);
      fakeForBaseline.stop();
      say(`| warm, this build beside ${args.baseline} | median ms | ratio to ${args.baseline} | ratio to floor | |`);
      say('| --- | --- | --- | --- | --- |');
      for (let i = 1; i < compared.length; i += 2) {
        const before = compared[i]!;
        const after = compared[i + 1]!;
        say(`| ${after.name.replace(' (this build)', '')} | ${before.medianMs.toFixed(1)} → ${after.medianMs.toFixed(1)} | ${(after.medianMs / before.medianMs).toFixed(2)} | ${(before.medianMs / compared[0]!.medianMs).toFixed(2)} → ${(after.medianMs / compared[0]!.medianMs).toFixed(2)} | |`);
      }
      report.baseline = { rev: args.baseline, results: compared };
      say('');
    } finally {
      baseline.remove();
    }
  }

  await mcp(say, report);

  // Cold: an empty store each run (index build of the latest spec), and --spec FILE.
  let cold = 0;
  const coldStore = () => join(work, `store-cold-${cold++}`);
  const latest = join(SHARED_BAPI_DIR, '2025-11-10.yml');
  let coldDir = coldStore();
  const coldRuns = await measure(
    [
      floor,
      { name: 'api-specs-context, empty store', argv: () => ['node', script('api-specs-context')], prepare: () => (coldDir = coldStore()), env: () => ({ ...baseEnv, CLERK_SPECS_DIR: coldDir }) },
      { name: 'extract-tags --spec FILE, empty store', argv: () => ['node', script('extract-tags'), '--spec', latest], prepare: () => (coldDir = coldStore()), env: () => ({ ...baseEnv, CLERK_SPECS_DIR: coldDir }) },
      { name: 'extract-tags --spec FILE, indexed', argv: () => ['node', script('extract-tags'), '--spec', latest] },
    ],
    Math.max(3, Math.ceil(ROUNDS / 2)),
  );
  say('| cold path | median ms | ratio to floor | peak RSS MB | target |');
  say('| --- | --- | --- | --- | --- |');
  for (const result of coldRuns) say(row(result, coldRuns[0]!, result.name.includes('empty') ? `index build ${(result.medianMs - coldRuns[0]!.medianMs).toFixed(0)} ms over the floor (≤ 500)` : ''));
  report.cold = coldRuns;
  say('');

  // bapi-curl against the fake Clerk.
  const fake = await startFake(USERS);
  try {
    // The fake has no rate limit and these measure the client itself: the governor's budget is set
    // out of the way (at Clerk's development limit, 100 per 10 s, the walks would wait for it).
    const env = { ...baseEnv, CLERK_API_URL: fake.url, CLERK_BAPI_RATE_LIMIT: '1000000/1s' };
    const headerFile = join(work, 'auth-header');
    writeFileSync(headerFile, `Authorization: Bearer ${KEY}\n`, { mode: 0o600 });
    const curlBase = CURL ? `${CURL} -sS -H @${headerFile}` : null;
    // ~1 MB: 500 users per page of a list response.
    const bigUrl = `${fake.url}/v1/users?limit=500`;
    const filter = '[.[] | {id, email: .email_addresses[0].email_address}] | length';
    const bigFile = join(work, 'users-500.json');
    const size = await new Promise<number>((resolve, reject) => {
      const child = spawn('node', [script('bapi-curl'), 'GET', '/users', '-q', 'limit=500'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('close', () => {
        const body = Buffer.concat(chunks);
        writeFileSync(bigFile, body);
        resolve(body.length);
      });
      child.on('error', reject);
    });
    const jqWasm = join(work, 'jq-wasm.mjs');
    writeFileSync(jqWasm, `import { readFileSync } from 'node:fs';\nimport { createRequire } from 'node:module';\nconst require = createRequire(${JSON.stringify(join(PROJECT_DIR, 'package.json'))});\nconst jq = await import(require.resolve('jq-wasm'));\nconst out = await (jq.raw ?? jq.default.raw)(readFileSync(process.argv[2], 'utf8'), process.argv[3]);\nprocess.stdout.write(typeof out === 'string' ? out : JSON.stringify(out));\n`);
    const noJq = { ...env, PATH: '/nonexistent' };
    const curlContenders: Contender[] = [
      floor,
      { name: 'bapi-curl GET /users?limit=10', argv: () => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=10'], env: () => env },
      ...(curlBase ? [{ name: 'curl GET /users?limit=10', argv: () => [`${curlBase} '${fake.url}/v1/users?limit=10' > /dev/null`], shell: true }] : []),
      { name: `bapi-curl --jq on ${(size / 1e6).toFixed(2)} MB`, argv: () => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=500', '--jq', filter], env: () => env },
      { name: `bapi-curl --jq on ${(size / 1e6).toFixed(2)} MB, no jq on PATH (jq-wasm)`, argv: () => [process.execPath, script('bapi-curl'), 'GET', '/users', '-q', 'limit=500', '--jq', filter], env: () => noJq },
      ...(curlBase && JQ ? [{ name: `curl | jq on ${(size / 1e6).toFixed(2)} MB`, argv: () => [`${curlBase} '${bigUrl}' | ${JQ} '${filter}'`], shell: true }] : []),
    ];
    const curlRuns = await measure(curlContenders, ROUNDS);
    // Plain jq-wasm as shipped is quadratic: one timed run only.
    const wasm = quick ? null : await run([process.execPath, jqWasm, bigFile, filter], baseEnv);
    say('| bapi-curl | median ms | ratio | peak RSS MB | note |');
    say('| --- | --- | --- | --- | --- |');
    const curlJq = curlRuns.find((r) => r.name.startsWith('curl | jq')) ?? null;
    for (const result of curlRuns) {
      const target = result.name.includes('jq-wasm') ? '' : ' (target ≤ 2.5)';
      const note = result.name.includes('--jq') && curlJq ? `${(result.medianMs / curlJq.medianMs).toFixed(2)} × curl | jq${target}` : '';
      say(row(result, curlRuns[0]!, note));
    }
    if (wasm) say(`| jq-wasm as shipped, same filter and data (1 run) | ${wasm.ms.toFixed(0)} | | | |`);
    report.curl = curlRuns;
    report.jqWasmAsShipped = wasm;
    say('');

    // Pagination: the whole user list, bapi-curl --paginate beside a shell loop of curl calls.
    const pageLoop = curlBase
      ? `offset=0; while :; do n=$(${curlBase} '${fake.url}/v1/users?limit=500&offset='$offset | ${JQ ?? 'cat'} ${JQ ? "'length'" : ''}); [ "$n" -lt 500 ] && break; offset=$((offset+500)); done`
      : null;
    const paginate: Contender[] = [
      { name: `bapi-curl --paginate ${USERS} users`, argv: () => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=500', '--paginate'], env: () => env, memory: true },
      { name: `bapi-curl --paginate ${Math.round(USERS / 10)} users (offset ${USERS - Math.round(USERS / 10)})`, argv: () => ['node', script('bapi-curl'), 'GET', '/users', '-q', 'limit=500', '-q', `offset=${USERS - Math.round(USERS / 10)}`, '--paginate'], env: () => env, memory: true },
      ...(pageLoop && JQ ? [{ name: `shell loop of curl calls, ${USERS} users`, argv: () => [pageLoop], shell: true }] : []),
    ];
    const pageRuns = await measure(paginate, Math.max(3, Math.ceil(ROUNDS / 5)));
    say('| pagination | median ms | ratio to the curl loop (target ≤ 1.1) | peak RSS MB (target ≤ 150, flat) | |');
    say('| --- | --- | --- | --- | --- |');
    const loop = pageRuns.find((r) => r.name.startsWith('shell loop')) ?? null;
    for (const result of pageRuns) say(row(result, loop));
    report.paginate = pageRuns;
    say('');
  } finally {
    fake.stop();
  }

  await latencyWalk(say, report);
  await batches(say, report);
  await custody(say, report);
  await webhooks(say, report);
  mkdirSync(join(PROJECT_DIR, '.bench'), { recursive: true });
  writeFileSync(join(PROJECT_DIR, '.bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(PROJECT_DIR, '.bench', 'results.md'), `${lines.join('\n')}\n`);
  say('');
  say('Written: .bench/results.json, .bench/results.md');
}

await main();
