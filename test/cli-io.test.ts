// How the commands meet their file descriptors: stdout written straight to a pipe or file, a closed
// pipe (`| head`) ending quietly, stdin read from a pipe, a file or nothing at all.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
