// How the commands meet their file descriptors: stdout and stderr written straight to a pipe or
// file (stderr's controls escaped there too), a closed pipe (`| head`) ending quietly, and for stderr
// a closed pipe only dropping the words; stdin read from a pipe, a file or nothing at all.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';

const env = cleanEnv({ CLERK_SPECS_DIR: SHARED_STORE });

async function sh(script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('bash', ['-c', script], { env, extendEnv: false, reject: false, stdin: 'ignore' });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('standard streams', () => {
  const all = `node ${scriptPath('extract-tag-endpoints')}`;

  it('a reader that stops early (| head -1) ends the command quietly with exit 0', async () => {
    // More than a pipe's 64 KiB buffer, so the write really meets the closed pipe.
    const big = `node ${scriptPath('extract-endpoint-detail')} POST /users --json`;
    const size = await sh(`${big} | wc -c`);
    assert.ok(Number(size.stdout) > 64 * 1024, `output of ${size.stdout} bytes`);
    const result = await sh(`${big} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`);
    assert.equal(result.stdout.split('\n').filter(Boolean).length, 1);
    assert.match(result.stderr, /^status=0$/m);
    assert.doesNotMatch(result.stderr, /EPIPE|Error/);
  });

  it('writes the same bytes to a pipe, a file and /dev/null', async () => {
    const dir = tempDir();
    const piped = await sh(`${all} | cat`);
    const file = join(dir, 'out.tsv');
    const redirected = await sh(`${all} > ${file}`);
    assert.equal(redirected.exitCode, 0, redirected.stderr);
    assert.equal(readFileSync(file, 'utf8'), piped.stdout + '\n');
    assert.ok(piped.stdout.split('\n').length > 200);
    const devnull = await sh(`${all} > /dev/null`);
    assert.equal(devnull.exitCode, 0, devnull.stderr);
  });

  it("stderr: controls escaped in a pipe and a file; a closed stderr pipe leaves the exit code as it was", async () => {
    const dir = tempDir();
    // An option carrying a terminal title sequence: the usage error repeats it.
    const bad = `${all} "--x$(printf '\\033]0;pwned\\007')"`;
    const piped = await sh(`${bad} 2>&1 | cat`);
    const file = join(dir, 'err.txt');
    const redirected = await sh(`${bad} 2> ${file}; echo "status=$?"`);
    for (const text of [piped.stdout, readFileSync(file, 'utf8')]) {
      assert.match(text, /unknown option: --x/);
      assert.doesNotMatch(text, /[\u001b\u0007]/, 'a control character reached stderr');
    }
    assert.match(redirected.stdout, /^status=2$/m);
    // A closed stderr: the usage error cannot be said, the exit code still is.
    const closed = await sh(`${bad} 2>&-; echo "status=$?"; ${bad} 2> >(exec 0<&-); echo "status=$?"`);
    assert.deepEqual(closed.stdout.match(/status=\d+/g), ['status=2', 'status=2']);
  });

  it('reads stdin from a pipe and from a file, and treats /dev/null as no input', async () => {
    const dir = tempDir();
    const record = join(dir, 'record.txt');
    const detail = `node ${scriptPath('extract-endpoint-detail')} --json`;
    const fromPipe = await sh(`printf 'GET\\t/users/count\\n' | ${detail}`);
    assert.equal(JSON.parse(fromPipe.stdout).operationId, 'GetUsersCount');
    await sh(`printf '{"method":"post","path":"/users"}' > ${record}`);
    const fromFile = await sh(`${detail} < ${record}`);
    assert.equal(JSON.parse(fromFile.stdout).operationId, 'CreateUser');
    const none = await sh(`${detail} < /dev/null`);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /missing METHOD PATH/);
  });
});

describe('the terminal', () => {
  // As `extract-tag-endpoints | fzf` does: the command starts with the terminal on stderr, fzf then
  // puts the terminal in raw mode, and the command ends while fzf still runs.
  it('is left as a program after it in the pipeline set it: node does not write back the modes it saw at start', { skip: !existsSync('/usr/bin/script') && 'needs script(1)' }, async () => {
    const file = join(tempDir('bapi-tty-'), 'pipeline.sh');
    writeFileSync(
      file,
      [
        'stty sane',
        `(sleep 0.6; printf 'GET\\t/users\\n') | node ${scriptPath('extract-endpoint-detail')} > /dev/null &`,
        'sleep 0.3',
        'stty raw -echo',
        'wait',
        "stty -a | tr ' ' '\\n' | grep -E '^-?(echo|icanon)$' | tr '\\n' ' '",
        'stty sane',
      ].join('\n'),
    );
    const result = await execa('script', ['-qec', `bash ${file}`, '/dev/null'], { env, extendEnv: false, reject: false, stdin: 'ignore' });
    assert.match(String(result.stdout), /-icanon -echo/, String(result.stdout));
  });
});

// The README's two-stage fzf pipeline, typed at a real terminal (tmux): it hung and left the terminal
// raw while node wrote back, at exit, the modes it saw at start.
const hasProgram = (name: string) => ['/usr/bin', '/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, name)));
describe('fzf in tmux', { skip: !(hasProgram('tmux') && hasProgram('fzf')) && 'needs tmux and fzf' }, () => {
  it("extract-tags | fzf | extract-tag-endpoints - | fzf --sync | extract-endpoint-detail: picks, prints, and leaves the terminal sane", async () => {
    const dir = tempDir('bapi-tmux-');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const command of ['extract-tags', 'extract-tag-endpoints', 'extract-endpoint-detail']) symlinkSync(scriptPath(command), join(bin, command));
    symlinkSync(process.execPath, join(bin, 'node'));
    const out = join(dir, 'out.txt');
    const modes = join(dir, 'stty.txt');
    const script = join(dir, 'pipeline.sh');
    writeFileSync(
      script,
      [
        `extract-tags | fzf --delimiter '\t' --nth 1 | extract-tag-endpoints - |`,
        `  fzf --sync --delimiter '\t' --nth 1,2 | extract-endpoint-detail > ${out}`,
        `stty -a | tr ' ;' '\n\n' | grep -E '^-?(echo|icanon|isig)$' | tr '\n' ' ' > ${modes}`,
      ].join('\n'),
    );
    const socket = join(dir, 'tmux.sock');
    const tmuxEnv = { ...env, PATH: `${bin}:/usr/bin:/bin`, TERM: 'xterm-256color', HOME: dir };
    const tmux = (...args: string[]) => execa('tmux', ['-S', socket, '-f', '/dev/null', ...args], { env: tmuxEnv, extendEnv: false, reject: false, stdin: 'ignore' });
    const screen = async () => String((await tmux('capture-pane', '-p', '-t', 't')).stdout);
    const waitFor = async (what: RegExp | (() => boolean), label: string) => {
      for (let i = 0; i < 150; i++) {
        if (typeof what === 'function' ? what() : what.test(await screen())) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail(`${label} did not come within 15 s; the screen:\n${await screen()}`);
    };
    try {
      await tmux('new-session', '-d', '-s', 't', '-x', '160', '-y', '40', `bash --norc --noprofile ${script}; sleep 30`);
      // fzf shows its count (e.g. 55/55) once the list is in.
      await waitFor(/\d+\/\d+/, 'the tag list');
      await tmux('send-keys', '-t', 't', '-l', "^Users$");
      await waitFor(/ 1\/\d+/, 'the filtered tag list');
      await tmux('send-keys', '-t', 't', 'Enter');
      await waitFor(/GET\s+\/users\/count/, "the tag's endpoints");
      await tmux('send-keys', '-t', 't', '-l', "'/users/count$");
      await waitFor(/ 1\/\d+/, 'the filtered endpoints');
      await tmux('send-keys', '-t', 't', 'Enter');
      await waitFor(() => existsSync(modes) && readFileSync(modes, 'utf8') !== '', 'the end of the pipeline');
      assert.match(readFileSync(out, 'utf8'), /GET \/users\/count/);
      assert.equal(readFileSync(modes, 'utf8').trim(), 'isig icanon echo', 'the terminal is cooked again, not raw');
    } finally {
      await tmux('kill-server');
    }
  });
});

describe('errors from another copy of the error module', () => {
  it('are still recognised by kind: the lazily loaded batch bundle carries its own copy', async () => {
    const here = await import('../lib/core/errors.js');
    const there = (await import(`../lib/core/errors.js?copy=${Date.now()}`)) as typeof here;
    assert.notEqual(there.ToolkitError, here.ToolkitError, 'two copies of the classes');
    const missing = new there.NotFoundError('no such tag');
    assert.ok(missing instanceof here.ToolkitError);
    assert.ok(missing instanceof here.UsageError);
    assert.ok(missing instanceof here.NotFoundError);
    assert.ok(!(missing instanceof here.PolicyError));
    assert.ok(!(new there.ToolkitError('plain') instanceof here.UsageError));
    assert.ok(!(new Error('not ours') instanceof here.ToolkitError));
    assert.equal(missing.exitCode, 2);
  });
});
