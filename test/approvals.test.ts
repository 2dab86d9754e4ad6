// The state directory's approvals (approval-files) beyond the protocol every store keeps: private
// files, an HMAC that refuses an edited or forged file, one use per id however many copies of the
// file exist, a claim that one process of many wins; and the TTL settings.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { requestDigest } from '../lib/guard/approval-digest.js';
import { approvalStore } from '../lib/guard/approval-files.js';
import { approvalTtl, parseTtl } from '../lib/guard/approvals.js';
import { defaultStateDir } from '../lib/core/state-dir.js';
import { APPROVAL_KEY as key, approvalRequest as request } from './helpers/approval-fixtures.js';

function stateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'guard-approvals-')), 'state');
}

describe('approvals', () => {
  test('stored privately (dir 0700, files 0600), without the key or the body', () => {
    const dir = stateDir();
    const approval = approvalStore(dir).create(request({ body: { password: 'hunter2-secret' } }));
    assert.match(approval.id, /^apv_[0-9a-f]{24}$/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'approvals')).mode & 0o777, 0o700);
    const file = join(dir, 'approvals', `${approval.id}.json`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'approval-secret')).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(key) && !text.includes('hunter2-secret'));
    assert.equal(Date.parse(approval.expiresAt) - Date.parse(approval.createdAt), 300_000);
  });

  test('single use per id: a copied or restored approval file is refused', () => {
    const dir = stateDir();
    const approval = approvalStore(dir).create(request());
    const file = join(dir, 'approvals', `${approval.id}.json`);
    const text = readFileSync(file, 'utf8');
    assert.equal(approvalStore(dir).claim(request()).ok, true);
    writeFileSync(file, text, { mode: 0o600 });
    writeFileSync(join(dir, 'approvals', `copy.json`), text, { mode: 0o600 });
    const again = approvalStore(dir).claim(request());
    assert.equal(!again.ok && again.reason, 'consumed');
    assert.equal(approvalStore(dir).claim(request(), { id: approval.id }).ok, false);
  });

  test('an edited approval is refused (HMAC)', () => {
    const dir = stateDir();
    const approval = approvalStore(dir).create(request());
    const file = join(dir, 'approvals', `${approval.id}.json`);
    const edited = { ...JSON.parse(readFileSync(file, 'utf8')), expiresAt: '2999-01-01T00:00:00.000Z' };
    writeFileSync(file, JSON.stringify(edited));
    const result = approvalStore(dir).claim(request());
    assert.equal(!result.ok && result.reason, 'tampered');
    // Rewriting it for another request (digest and path) does not work either.
    const forged = approvalStore(dir).create(request());
    const forgedFile = join(dir, 'approvals', `${forged.id}.json`);
    const target = request({ path: '/users/user_9' });
    writeFileSync(forgedFile, JSON.stringify({ ...forged, path: '/users/user_9', digest: requestDigest(target) }));
    const attempt = approvalStore(dir).claim(target);
    assert.equal(!attempt.ok && attempt.reason, 'tampered');
    assert.ok(existsSync(join(dir, 'approval-secret')));
  });

  test('consumption is atomic: of many concurrent processes exactly one wins', async () => {
    const dir = stateDir();
    approvalStore(dir).create(request());
    const module = new URL('../lib/guard/approval-files.ts', import.meta.url).href;
    const script = `import { approvalStore } from ${JSON.stringify(module)};
      const request = JSON.parse(process.env.REQUEST);
      await new Promise((r) => setTimeout(r, Number(process.env.START_AT) - Date.now()));
      process.stdout.write(approvalStore(process.env.STATE).claim(request).ok ? 'won' : 'lost');`;
    const startAt = String(Date.now() + 1500);
    const runs = Array.from({ length: 8 }, () =>
      execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, STATE: dir, REQUEST: JSON.stringify(request()), START_AT: startAt },
        reject: false,
      }),
    );
    const outputs = (await Promise.all(runs)).map((r) => String(r.stdout));
    assert.deepEqual(outputs.filter((o) => o !== 'won' && o !== 'lost'), [], 'every process ran');
    assert.equal(outputs.filter((o) => o === 'won').length, 1);
  });

  test('TTL: flag, then CLERK_BAPI_APPROVAL_TTL, then 5 minutes; bounded', () => {
    assert.equal(approvalTtl(undefined, {}), 300);
    assert.equal(approvalTtl(undefined, { CLERK_BAPI_APPROVAL_TTL: '90' }), 90);
    assert.equal(approvalTtl('2m', { CLERK_BAPI_APPROVAL_TTL: '90' }), 120);
    assert.equal(parseTtl('1h'), 3600);
    assert.throws(() => parseTtl('2h'), /out of range/);
    assert.throws(() => parseTtl('soon'), /not a duration/);
    assert.throws(() => approvalTtl(undefined, { CLERK_BAPI_APPROVAL_TTL: '0' }), /CLERK_BAPI_APPROVAL_TTL/);
  });

  test('state directory: CLERK_BAPI_STATE_DIR, else XDG_STATE_HOME, else ~/.local/state', () => {
    assert.equal(defaultStateDir({ CLERK_BAPI_STATE_DIR: '/x/y', XDG_STATE_HOME: '/s' }), '/x/y');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/s', HOME: '/h' }), '/s/clerk-bapi');
    assert.equal(defaultStateDir({ HOME: '/h' }), '/h/.local/state/clerk-bapi');
  });
});
