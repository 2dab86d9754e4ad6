// The recipes of README.md and SKILL.md (the shell blocks that start with `# recipe: NAME`) run as
// written, in bash, with the built commands on PATH, against the fake Clerk; each is judged on what
// it left behind on the server and on disk. SKILL.md's run as an agent runs them: person mode, with
// the scopes the user set.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { cleanEnv, runAtTerminal, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';
import { PROJECT_DIR } from './helpers/spec-fixtures.js';

const KEY = `sk_test_${randomBytes(24).toString('hex')}`;
const specsDir = SHARED_STORE;
const bin = tempDir('recipes-bin-');
let fake: FakeClerk;

/** Every `# recipe: NAME` block of a document. */
function recipes(file: string): Map<string, string> {
  const text = readFileSync(join(PROJECT_DIR, file), 'utf8');
  const found = new Map<string, string>();
  for (const match of text.matchAll(/```sh\n# recipe: ([\w-]+)\n([\s\S]*?)```/g)) found.set(match[1] as string, match[2] as string);
  return found;
}

const ALL = new Map([...recipes('README.md'), ...recipes('SKILL.md')]);

function recipeEnv(dir: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return cleanEnv({ PATH: `${bin}:${process.env.PATH}`, CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: join(dir, '.state'), HOME: dir, NO_COLOR: '1', ...extra });
}

const AGENT = (scopes: string) => ({ CLERK_BAPI_AGENT: '1', CLERK_BAPI_SCOPES: scopes });

interface RecipeRun {
  dir: string;
  stateDir: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

async function bash(script: string, dir: string, extra: Record<string, string> = {}): Promise<RecipeRun> {
  const result = await execa('bash', ['-c', script], { env: recipeEnv(dir, extra), extendEnv: false, reject: false, cwd: dir, stdin: 'ignore' });
  const out = { dir, stateDir: join(dir, '.state'), stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? -1 };
  assert.ok(!out.stdout.includes(KEY) && !out.stderr.includes(KEY), 'the key never appears');
  return out;
}

async function runRecipe(name: string, files: Record<string, string> = {}, extra: Record<string, string> = {}): Promise<RecipeRun> {
  const script = ALL.get(name);
  assert.ok(script, `the docs have recipe ${name}`);
  const dir = tempDir(`recipe-${name}-`);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return bash(script, dir, extra);
}

async function createUser(email: string): Promise<string> {
  const response = await fetch(`${fake.url}/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ email_address: [email] }) });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 1200 });
  mkdirSync(bin, { recursive: true });
  for (const command of ['bapi-curl', 'bapi-guard']) {
    writeFileSync(join(bin, command), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(scriptPath(command))} "$@"\n`);
    chmodSync(join(bin, command), 0o755);
  }
});

after(async () => {
  await fake.close();
});

describe('recipes', () => {
  it('README and SKILL.md each have the four', () => {
    for (const name of ['export-users', 'metadata-from-csv', 'delete-test-users', 'invite-list']) {
      assert.ok(ALL.has(name), `README: ${name}`);
      assert.ok(ALL.has(`skill-${name}`), `SKILL.md: ${name}`);
    }
  });

  for (const prefix of ['', 'skill-']) {
    it(`${prefix}export-users: every user, once, as CSV`, async () => {
      const result = await runRecipe(`${prefix}export-users`, {}, prefix ? AGENT('') : {});
      assert.equal(result.exitCode, 0, result.stderr);
      const rows = readFileSync(join(result.dir, 'users.csv'), 'utf8').trim().split('\n');
      const header = prefix === '' ? 1 : 0;
      assert.equal(rows.length, fake.userCount() + header);
      if (header) assert.equal(rows[0], 'id,email,first_name,last_name,created_at');
      const ids = rows.slice(header).map((row) => JSON.parse(row.split(',')[0] as string) as string);
      assert.equal(new Set(ids).size, ids.length);
      assert.match(rows[header] as string, /^"user_\w+","[^"]+@example\.(com|test)",/);
    });

    it(`${prefix}metadata-from-csv: each listed user gets its plan, merged`, async () => {
      const ids = ['user_seed0000010', 'user_seed0000011', 'user_seed0000012'];
      const plans = prefix ? ['gold', 'silver', 'bronze'] : ['pro', 'team', 'free'];
      const csv = `user_id,plan\n${ids.map((id, i) => `${id},${plans[i]}`).join('\n')}\n`;
      const result = await runRecipe(`${prefix}metadata-from-csv`, { 'plans.csv': csv }, prefix ? AGENT('users:write') : {});
      assert.equal(result.exitCode, 0, result.stderr);
      ids.forEach((id, i) => assert.equal((fake.getUser(id)!.public_metadata as { plan: string }).plan, plans[i]));
      const rows = readFileSync(join(result.dir, 'results.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: number });
      assert.deepEqual(rows.map((r) => r.status), [200, 200, 200]);
    });

    it(`${prefix}delete-test-users: the selected users are deleted once each, after a backup; the others stay`, async () => {
      const doomed = [await createUser(`a-${prefix}x@example.test`), await createUser(`b-${prefix}x@example.test`)];
      const keep = await createUser(`keep-${prefix}x@example.com`);
      const agent = prefix ? AGENT('users:write,users:delete') : {};
      const result = await runRecipe(`${prefix}delete-test-users`, {}, agent);
      assert.match(result.stderr, /IRREVERSIBLE/);
      if (prefix) {
        // The agent's run stops for consent: nothing is deleted until a person approves the batch.
        assert.equal(result.exitCode, 4, result.stderr);
        for (const id of doomed) assert.ok(fake.getUser(id), `${id} is still there`);
        const id = /bapi-guard approve (apr_[0-9a-f]{24})/.exec(result.stderr)?.[1];
        assert.ok(id, result.stderr);
        const approved = await runAtTerminal('bapi-guard', ['approve', id], '2', /to approve the batch/, { env: recipeEnv(result.dir), cwd: result.dir });
        assert.equal(approved.exitCode, 0, approved.stdout);
        const ran = await bash('bapi-curl --batch delete.ndjson > deleted.ndjson', result.dir, agent);
        assert.equal(ran.exitCode, 0, ran.stderr);
      } else {
        assert.equal(result.exitCode, 0, result.stderr);
      }
      for (const id of doomed) assert.equal(fake.getUser(id), undefined, `${id} deleted`);
      for (const id of doomed) assert.equal(fake.received('DELETE', `/v1/users/${id}`).length, 1);
      assert.ok(fake.getUser(keep), 'a user the query did not select stays');
      assert.equal(readdirSync(join(result.stateDir, 'backups')).length, 2);
      assert.equal(readFileSync(join(result.dir, 'deleted.ndjson'), 'utf8').trim().split('\n').length, 2);
    });

    it(`${prefix}invite-list: one invitation per address`, async () => {
      const people = [`ada-${prefix}x@example.com`, `grace-${prefix}x@example.com`, '', `alan-${prefix}x@example.com`];
      const before = fake.received('POST', '/v1/invitations').length;
      const result = await runRecipe(`${prefix}invite-list`, { 'invitees.txt': `${people.join('\n')}\n` }, prefix ? AGENT('invitations:write') : {});
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(fake.received('POST', '/v1/invitations').length - before, 3);
      const out = prefix ? readFileSync(join(result.dir, 'invited.ndjson'), 'utf8') : result.stdout;
      assert.equal(out.trim().split('\n').length, 3);
      if (!prefix) assert.match(out, /^1\t200\tinv_/);
    });
  }
});
