// Help and feedback: every command's --help (sections, examples, flags true to the parser), colour
// only on a terminal without NO_COLOR, and --paginate's progress line only when stderr is a terminal.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { notice, type IO } from '../lib/core/io.js';
import { COMMANDS, COMMAND_FLAGS, HIDDEN_FLAGS, type CommandName } from '../lib/cli/flags.js';
import { groupDigits, progressLine } from '../lib/http/paginate.js';
import { cleanEnv, runCli, scriptPath, tempDir } from './helpers/run-cli.js';
import { PROJECT_DIR } from './helpers/spec-fixtures.js';
import { randomBytes } from 'node:crypto';

const ESC = /\u001b/;
const KEY = `sk_test_${randomBytes(20).toString('hex')}`;
const SECTIONS = ['Usage:', 'Options:', 'Environment:', 'Exit codes:', 'Examples:'];
/** Commands that colour their output on a terminal, and the stream they colour. */
const COLOURING: Partial<Record<CommandName, 'stdout' | 'stderr'>> = {
  'api-specs-context': 'stdout',
  'extract-endpoint-detail': 'stdout',
  'bapi-guard': 'stderr',
};

/** The lines of a help section: from its heading to the next blank line (or the end). */
function section(help: string, heading: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => line === heading || line.startsWith(`${heading} `));
  assert.ok(start >= 0, `no ${heading} section`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.trim() === '');
  return end < 0 ? rest : rest.slice(0, end);
}

/** Every flag the parser accepts, as written on a command line (`--json`, `-d`), hidden ones aside. */
function acceptedFlags(command: CommandName): Set<string> {
  const spec = COMMAND_FLAGS[command];
  const hidden = new Set(HIDDEN_FLAGS[command] ?? []);
  const names = [...(spec.string ?? []), ...(spec.boolean ?? []), ...(spec.repeatable ?? [])].filter((name) => !hidden.has(name));
  return new Set([...names.map((name) => `--${name}`), ...Object.keys(spec.alias ?? {}).map((short) => `-${short}`)]);
}

/** Flags on a line of an Options section (`  -d, --data JSON  …` → -d, --data), descriptions aside. */
function optionLineFlags(line: string): string[] {
  const match = /^ {2}(-[\w-]+(?:, --[\w-]+)?)/.exec(line);
  return match ? match[1]!.split(', ') : [];
}

/** For each call of a toolkit command in a shell example line, the command and the flags given to it. */
function exampleCalls(line: string): Array<{ command: CommandName; flags: string[] }> {
  // "$(cmd …)" runs cmd: keep it; other quoted text is one argument whose content is not a command.
  const unquoted = line.replace(/\s#\s.*$/, '').replace(/"\$\(([^"]*)\)"/g, '$($1)').replace(/'[^']*'|"[^"]*"/g, 'ARG');
  const calls: Array<{ command: CommandName; flags: string[] }> = [];
  for (const segment of unquoted.split(/\|\||&&|\||;|\$\(|`/)) {
    const words = segment.trim().split(/\s+/).filter((word) => !/^[A-Z_]+=/.test(word));
    const command = words[0] as CommandName;
    if (!COMMANDS.includes(command)) continue;
    const flags = words.slice(1).filter((word) => /^--?[A-Za-z]/.test(word)).map((word) => word.split('=')[0]!.replace(/\)+$/, ''));
    calls.push({ command, flags });
  }
  return calls;
}

interface FakeStream {
  write(chunk: string): boolean;
  isTTY: boolean;
  text(): string;
}

function fakeStream(isTTY: boolean): FakeStream {
  const chunks: string[] = [];
  return { write: (chunk) => (chunks.push(chunk), true), isTTY, text: () => chunks.join('') };
}

/** Runs a command's main in this process with terminal (or not) streams. */
async function runInProcess(
  command: CommandName,
  argv: string[],
  options: { tty: boolean; env: Record<string, string | undefined> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = (await import(`../scripts/${command}.js`)) as { main: (argv: string[], io: IO) => Promise<number> };
  const stdout = fakeStream(options.tty);
  const stderr = fakeStream(options.tty);
  const stdin = Object.assign((async function* () {})(), { isTTY: options.tty });
  const code = await main(argv, { stdin, stdout, stderr, env: options.env, cwd: tempDir('bapi-help-cwd-') });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A real pseudo-terminal for stdout and stderr, through util-linux `script` (Linux only). */
const ptyAvailable = (() => {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function inPty(commandLine: string, env: Record<string, string | undefined>): Promise<string> {
  const result = await execa('script', ['-qec', commandLine, '/dev/null'], { env, extendEnv: false, reject: false, stdin: 'ignore', stripFinalNewline: false });
  assert.equal(result.exitCode, 0, `${commandLine}\n${String(result.stdout)}${String(result.stderr)}`);
  return String(result.stdout);
}

describe('--help of every command', () => {
  const helps = new Map<CommandName, string>();
  before(async () => {
    await Promise.all(
      COMMANDS.map(async (command) => {
        const result = await runCli(command, ['--help']);
        assert.equal(result.exitCode, 0, `${command}: ${result.stderr}`);
        assert.equal(result.stderr, '', `${command} --help writes to stdout only`);
        helps.set(command, result.stdout);
      }),
    );
  });

  for (const command of COMMANDS) {
    it(`${command}: usage, options, environment, exit codes and 3–6 examples, in that order`, () => {
      const help = helps.get(command)!;
      assert.ok(help.startsWith(`Usage: ${command}`), help.split('\n')[0]);
      const positions = SECTIONS.map((heading) => help.search(new RegExp(`^${heading}`, 'm')));
      for (const [i, heading] of SECTIONS.entries()) assert.ok(positions[i]! >= 0, `${command}: no ${heading}`);
      assert.deepEqual([...positions].sort((a, b) => a - b), positions, `${command}: sections in the order ${SECTIONS.join(' ')}`);
      const examples = section(help, 'Examples:');
      assert.ok(examples.length >= 3 && examples.length <= 6, `${command}: ${examples.length} examples`);
      for (const example of examples) {
        assert.match(example, /^ {2}\S/, `${command}: example indented by two spaces: ${example}`);
        assert.ok(exampleCalls(example).some((call) => call.command === command), `${command}: example does not run ${command}: ${example}`);
      }
      const exitCodes = section(help, 'Exit codes:').join(' ');
      for (const code of ['0', '1', '2', '5']) assert.match(exitCodes, new RegExp(`(^|\\s)${code} `), `${command}: exit code ${code} explained`);
      assert.ok(section(help, 'Environment:').some((line) => /^ {2}CLERK_SPECS_DIR /.test(line)), `${command}: CLERK_SPECS_DIR listed`);
      if (COLOURING[command]) assert.ok(section(help, 'Environment:').some((line) => /^ {2}NO_COLOR /.test(line)), `${command}: NO_COLOR listed`);
      assert.doesNotMatch(help, ESC);
    });

    it(`${command}: Options lists exactly the flags the parser accepts`, () => {
      const listed = new Set(section(helps.get(command)!, 'Options:').flatMap(optionLineFlags));
      const accepted = acceptedFlags(command);
      assert.deepEqual([...accepted].filter((flag) => !listed.has(flag)).sort(), [], `${command}: accepted but not in --help`);
      assert.deepEqual([...listed].filter((flag) => !accepted.has(flag)).sort(), [], `${command}: in --help but not accepted`);
    });

    it(`${command}: examples use only real flags of the commands they call`, () => {
      for (const example of section(helps.get(command)!, 'Examples:')) {
        for (const call of exampleCalls(example)) {
          const accepted = acceptedFlags(call.command);
          for (const flag of call.flags) assert.ok(accepted.has(flag), `${command} example: ${call.command} has no ${flag}: ${example}`);
        }
      }
    });
  }

  it('the example checker finds what it checks', () => {
    assert.deepEqual(exampleCalls(`CLERK_BAPI_SCOPES=write bapi-guard DELETE /users/u --yes && bapi-curl DELETE /users/u -q 'a=|b'`), [
      { command: 'bapi-guard', flags: ['--yes'] },
      { command: 'bapi-curl', flags: ['-q'] },
    ]);
    assert.deepEqual(exampleCalls(`extract-tags | fzf | extract-tag-endpoints - --json=x`), [
      { command: 'extract-tags', flags: [] },
      { command: 'extract-tag-endpoints', flags: ['--json'] },
    ]);
    assert.deepEqual(exampleCalls(`eval "$(api-specs-context --shell)" && echo "$CLERK_API_VERSION"`), [{ command: 'api-specs-context', flags: ['--shell'] }]);
    assert.deepEqual(exampleCalls(`eval "$(api-specs-context --shell-init bash)"   # zsh: --nope`), [{ command: 'api-specs-context', flags: ['--shell-init'] }]);
    assert.deepEqual(optionLineFlags('  -d, --data JSON|@file|-  the body'), ['-d', '--data']);
    assert.deepEqual(optionLineFlags('                           continued --description'), []);
  });
});

describe('colour', () => {
  let env: Record<string, string | undefined>;
  before(() => {
    env = cleanEnv({
      CLERK_SPECS_DIR: tempDir('bapi-help-store-'),
      CLERK_BAPI_STATE_DIR: tempDir('bapi-help-state-'),
      CLERK_SECRET_KEY: KEY,
      CLERK_BAPI_SCOPES: 'write,delete',
      TERM: 'xterm-256color',
    });
  });

  /** One ordinary run of each command, the kind that colours on a terminal. */
  const RUNS: Record<CommandName, string[]> = {
    'api-specs-context': [],
    'extract-tags': [],
    'extract-tag-endpoints': ['Users'],
    'extract-endpoint-detail': ['DELETE', '/users/{user_id}'],
    'bapi-guard': ['DELETE', '/users/user_123', '--yes'],
    'bapi-curl': ['GET', '/users', '--dry-run', '--api-version', '2025-11-10'],
    'bapi-mcp': ['--help'],
    'bapi-webhooks': ['show', 'user.created'],
  };

  it('no lib or script writes escape codes of its own: colour comes from colorsFor only', () => {
    const offenders: string[] = [];
    for (const dir of ['lib', 'scripts']) {
      for (const entry of readdirSync(join(PROJECT_DIR, dir), { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
        const file = join(entry.parentPath, entry.name);
        if (file === join(PROJECT_DIR, 'lib', 'core', 'io.ts')) continue;
        if (/\\u001b|\\x1b|\\033|\\e\[|\u001b/i.test(readFileSync(file, 'utf8'))) offenders.push(file);
      }
    }
    assert.deepEqual(offenders, []);
  });

  for (const command of COMMANDS) {
    it(`${command}: no escape codes when piped, in its output and in its errors`, async () => {
      const ok = await runCli(command, RUNS[command], { env });
      assert.equal(ok.exitCode, 0, ok.stderr);
      assert.doesNotMatch(ok.stdout + ok.stderr, ESC);
      const bad = await runCli(command, ['--no-such-flag'], { env });
      assert.equal(bad.exitCode, 2, bad.stderr);
      assert.doesNotMatch(bad.stdout + bad.stderr, ESC);
    });

    it(`${command}: on a terminal, no escape codes with NO_COLOR or TERM=dumb${COLOURING[command] ? ', colour otherwise' : ''}`, async () => {
      for (const extra of [{ NO_COLOR: '1' }, { NO_COLOR: '' }, { TERM: 'dumb' }]) {
        const result = await runInProcess(command, RUNS[command], { tty: true, env: { ...env, ...extra } });
        assert.equal(result.code, 0, result.stderr);
        assert.doesNotMatch(result.stdout + result.stderr, ESC, `${command} with ${JSON.stringify(extra)}`);
      }
      const stream = COLOURING[command];
      if (stream) {
        const coloured = await runInProcess(command, RUNS[command], { tty: true, env });
        assert.equal(coloured.code, 0, coloured.stderr);
        assert.match(coloured[stream], ESC, `${command} colours its ${stream} on a terminal`);
      }
    });
  }

  it('a real terminal gets colour, and none with NO_COLOR', { skip: !ptyAvailable && 'needs util-linux script' }, async () => {
    const line = `${shellQuote(process.execPath)} ${shellQuote(scriptPath('api-specs-context'))}`;
    assert.match(await inPty(line, env), /\u001b\[1mLATEST VERSION:/);
    assert.doesNotMatch(await inPty(line, { ...env, NO_COLOR: '1' }), ESC);
  });
});

describe('the --paginate progress line', () => {
  it('groups digits by thousands', () => {
    assert.deepEqual([0, 999, 1000, 12000, 1234567].map(groupDigits), ['0', '999', '1 000', '12 000', '1 234 567']);
  });

  it('is drawn in place on a terminal at most once an interval, and erased without escape codes', () => {
    let now = 0;
    const stderr = fakeStream(true);
    const progress = progressLine(stderr, { now: () => now, intervalMs: 100 });
    progress.update(500, null);
    assert.equal(stderr.text(), '', 'nothing before the first interval');
    now = 100;
    progress.update(1000, null);
    now = 150;
    progress.update(1500, null);
    now = 200;
    progress.update(12000, 30000);
    progress.clear();
    progress.clear();
    const line = ' fetched 12 000 of 30 000 items…';
    assert.equal(stderr.text(), `\r fetched 1 000 items…\r${line}\r${' '.repeat(line.length)}\r`);
    assert.doesNotMatch(stderr.text(), ESC);
  });

  it('never appears when stderr is not a terminal', () => {
    let now = 0;
    const stderr = fakeStream(false);
    const stdout = fakeStream(true);
    const progress = progressLine(stderr, { now: () => now });
    const out = progress.around(stdout);
    for (let i = 1; i <= 50; i++) {
      now += 1000;
      progress.update(i * 100, null);
      out.write('{}\n');
    }
    progress.clear();
    assert.equal(stderr.text(), '');
    assert.equal(out, stdout, 'output untouched');
  });

  it('is erased before output to the same terminal, and not redrawn in the middle of an output line', () => {
    let now = 0;
    const stderr = fakeStream(true);
    const stdout = fakeStream(true);
    const progress = progressLine(stderr, { now: () => now, intervalMs: 10 });
    const out = progress.around(stdout);
    now = 10;
    progress.update(100, null);
    out.write('{"id":1}');
    now = 20;
    progress.update(200, null);
    assert.equal(stderr.text(), `\r fetched 100 items…\r${' '.repeat(' fetched 100 items…'.length)}\r`, 'erased, not redrawn mid-line');
    out.write('\n');
    now = 30;
    progress.update(300, null);
    assert.match(stderr.text(), /\r fetched 300 items…$/);
    assert.equal(stdout.text(), '{"id":1}\n');
    assert.equal(progressLine(stderr).around(fakeStream(false)).isTTY, false, 'a file or a pipe as stdout is not wrapped');
  });

  it('holds a rate-limit wait or a retry while drawn (they shared its line); once ended, a notice is a line of its own', () => {
    let now = 0;
    const stderr = fakeStream(true);
    const progress = progressLine(stderr, { now: () => now, intervalMs: 10 });
    notice(stderr, 'bapi-curl: waiting 0.5s for the rate limit');
    assert.equal(stderr.text(), 'bapi-curl: waiting 0.5s for the rate limit\n', 'not drawn yet: a line');
    now = 10;
    progress.update(6000, 20000);
    notice(stderr, 'bapi-curl: waiting 0.7s for the rate limit');
    assert.ok(stderr.text().endsWith('\r fetched 6 000 of 20 000 items… (waiting 0.7s for the rate limit)'), JSON.stringify(stderr.text()));
    now = 20;
    progress.update(6500, 20000);
    assert.ok(stderr.text().endsWith(`\r fetched 6 500 of 20 000 items…${' '.repeat(' (waiting 0.7s for the rate limit)'.length)}`), 'the next redraw replaces it');
    progress.end();
    notice(stderr, 'bapi-curl: rate limited (429); retrying in 1.0s (1/3)');
    assert.ok(stderr.text().endsWith(' \rbapi-curl: rate limited (429); retrying in 1.0s (1/3)\n'), JSON.stringify(stderr.text()));
    assert.equal(stderr.text().split('\n').length, 3, 'two notices, each a line; the status line erased');
  });

  describe('bapi-curl --paginate on a terminal', { skip: !ptyAvailable && 'needs util-linux script' }, () => {
    const TOTAL = 6000;
    let server: Server;
    let env: Record<string, string | undefined>;
    before(async () => {
      // A slow list: every page takes 40 ms, so the walk lasts long enough for the line to be drawn.
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname === '/v1/users/count') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ object: 'total_count', total_count: TOTAL }));
          return;
        }
        const limit = Number(url.searchParams.get('limit'));
        // GET /users pages by Clerk's cursor (starting_after: the last id seen), or by offset.
        const after = url.searchParams.get('starting_after');
        const offset = after !== null ? Number(after.replace('user_', '')) + 1 : Number(url.searchParams.get('offset'));
        const page = Array.from({ length: Math.max(0, Math.min(limit, TOTAL - offset)) }, (_, i) => ({ id: `user_${offset + i}` }));
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(page));
        }, 40);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      env = cleanEnv({
        CLERK_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        CLERK_SECRET_KEY: KEY,
        CLERK_SPECS_DIR: tempDir('bapi-help-store-'),
        CLERK_BAPI_STATE_DIR: tempDir('bapi-help-state-'),
        CLERK_BAPI_JQ: 'wasm',
      });
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const curl = (args: string) => `${shellQuote(process.execPath)} ${shellQuote(scriptPath('bapi-curl'))} GET /users --paginate ${args}`;
    const ids = Array.from({ length: TOTAL }, (_, i) => `user_${i}`);

    it('shows the count on stderr while stdout goes to a file, then erases it', async () => {
      const file = join(tempDir('bapi-help-out-'), 'users.ndjson');
      const screen = await inPty(`${curl('')} > ${shellQuote(file)}`, env);
      assert.match(screen, /\r fetched \d{1,3}(?: \d{3})* items…/);
      assert.match(screen, /\r +\rbapi-curl: 6 000 items in \d+ pages, \d+\.\d s\r?\n$/, 'erased at the end, then one line says what was done');
      assert.doesNotMatch(screen, ESC);
      assert.deepEqual(readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id), ids);
    });

    it('leaves output to the same terminal intact', async () => {
      const screen = await inPty(curl(`--jq .id`), env);
      const text = screen.replace(/\r fetched [^\r\n]*/g, '').replace(/\r +\r/g, '').replace(/\r\n/g, '\n').replace(/^bapi-curl: 6 000 items in .*\n/m, '');
      assert.deepEqual(text.trimEnd().split('\n'), ids);
    });

    it('with one cursor (--concurrency 1), has the total from the count endpoint', async () => {
      const file = join(tempDir('bapi-help-out-'), 'users.ndjson');
      const screen = await inPty(`${curl('--concurrency 1')} > ${shellQuote(file)}`, env);
      assert.match(screen, /\r fetched \d{1,3}(?: \d{3})* of 6 000 items…/);
      assert.match(screen, /bapi-curl: 6 000 items in \d+ pages/);
    });

    it('is absent when stderr is not a terminal', async () => {
      const result = await runCli('bapi-curl', ['GET', '/users', '--paginate', '--jq', '.id'], { env });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout.trimEnd().split('\n').length, TOTAL);
      assert.doesNotMatch(result.stderr, /fetched/);
    });
  });
});
