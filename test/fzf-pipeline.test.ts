// The documented two-stage fzf pipeline, driven in a real terminal (tmux): pick a tag, then an
// endpoint, and its detail comes out. Without --sync the second fzf fights the first for the
// terminal and the pipeline hangs; the README's line must be the one that works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../lib/cli/flags.js';
import { scriptPath, tempDir } from './helpers/run-cli.js';
import { PROJECT_DIR, SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skip = !has('tmux') || !has('fzf') ? 'needs tmux and fzf' : false;

function tmux(...args: string[]): string {
  return spawnSync('tmux', args, { encoding: 'utf8' }).stdout;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('the fzf browse pipeline in README', { skip }, () => {
  it('picks a tag, then an endpoint, and prints its detail', async () => {
    const line = readFileSync(join(PROJECT_DIR, 'README.md'), 'utf8').split('\n').find((l) => l.startsWith('extract-tags | fzf | extract-tag-endpoints - | fzf'));
    assert.ok(line, 'README has the two-stage pipeline');
    const dir = tempDir('fzf-');
    const bins = join(dir, 'bin');
    mkdirSync(bins);
    for (const command of COMMANDS) symlinkSync(scriptPath(command), join(bins, command));
    const out = join(dir, 'out.txt');
    const done = join(dir, 'done.txt');
    const session = `bapi-fzf-${process.pid}`;
    const env = `CLERK_SPECS_SOURCE='${SHARED_SPECS_DIR}' CLERK_SPECS_DIR='${join(dir, 'store')}' PATH='${bins}':"$PATH"`;
    tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', 'bash --norc --noprofile');
    try {
      tmux('send-keys', '-t', session, `export ${env}; ${line} > '${out}'; echo $? > '${done}'`, 'Enter');
      const screen = () => tmux('capture-pane', '-p', '-t', session);
      // Types a query into fzf and waits until its prompt shows it; a key that a busy machine let
      // fall before fzf read the terminal is typed again (C-u clears the query first).
      const type = async (query: string): Promise<boolean> => {
        for (let attempt = 0; attempt < 4; attempt++) {
          tmux('send-keys', '-t', session, 'C-u');
          tmux('send-keys', '-t', session, '-l', query);
          if (await until(() => screen().split('\n').some((l) => l.trim() === `> ${query}`), 3_000)) return true;
        }
        return false;
      };
      // fzf's match counter (`42/42`) once the whole list is in: only then is it reading keys.
      assert.ok(await until(() => /\b(\d{2,})\/\1\b/.test(screen()) && screen().includes('Users'), 30_000), 'the tag list shows');
      assert.ok(await type('Users'), `the query is typed:\n${screen()}`);
      tmux('send-keys', '-t', session, 'Enter');
      const listed = await until(() => tmux('capture-pane', '-p', '-t', session).includes('/users/count'), 30_000);
      assert.ok(listed, `the endpoints of Users show; the terminal shows:\n${tmux('capture-pane', '-p', '-t', session)}`);
      assert.ok(await type('users/count'), `the query is typed:\n${screen()}`);
      tmux('send-keys', '-t', session, 'Enter');
      assert.ok(await until(() => existsSync(done) && readFileSync(done, 'utf8').trim() !== '', 30_000), 'the pipeline ended');
      assert.equal(readFileSync(done, 'utf8').trim(), '0');
      assert.match(readFileSync(out, 'utf8'), /^GET \/users\/count {2}GetUsersCount/);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });
});
