// The shell integration end to end: the completion script loaded in a real bash (and zsh when it is
// installed), the helpers of lib/shell/bapi.sh, and bapi-write against the fake Clerk.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { COMMAND_FLAGS, COMMANDS } from '../lib/cli/flags.js';
import { analyzeLine, pathCandidates } from '../lib/cli/completion.js';
import { shellFilePath } from '../lib/cli/completion-shell.js';
import { startFakeClerk, FAKE_CLERK_KEY, type FakeClerk } from './fake-clerk.js';
import { noStackTrace, withoutYaml } from './helpers/cli-assert.js';
import { cleanEnv, runCli, scriptPath, SHARED_STORE, tempDir } from './helpers/run-cli.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';

const specsDir = SHARED_STORE;
const binDir = tempDir('bapi-shell-bin-');
const SHELL_FILE = shellFilePath();

// The six commands under their own names, as an installed package puts them on PATH.
for (const command of COMMANDS) symlinkSync(scriptPath(command), join(binDir, command));
const nodeDir = tempDir('bapi-shell-node-');
symlinkSync(process.execPath, join(nodeDir, 'node'));

/** PATH with the commands and node, and (unless `bare`) the system directories, never fzf unless given. */
function pathWith(extra: string[] = [], bare = false): string {
  return [...extra, binDir, nodeDir, ...(bare ? [] : ['/usr/bin', '/bin'])].join(delimiter);
}

function shellEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return cleanEnv({ CLERK_SPECS_DIR: specsDir, HOME: tempDir('bapi-shell-home-'), PATH: pathWith(), ...extra });
}

async function bash(script: string, env = shellEnv(), input?: string) {
  const result = await execa('bash', ['--norc', '--noprofile', '-c', script], {
    env,
    extendEnv: false,
    reject: false,
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function hasShell(name: string): Promise<boolean> {
  const result = await execa(name, ['-c', 'exit 0'], { reject: false, stdin: 'ignore' }).catch(() => null);
  return result !== null && result.exitCode === 0;
}

/** Completes `words` (the last one under the cursor) with the generated bash completion. */
async function bashComplete(words: string[]): Promise<string[]> {
  return (await bashCompleteAll([words]))[0] ?? [];
}

/** Several completions in one bash: one start of bash for the lot (each still asks api-specs-context). */
async function bashCompleteAll(lines: string[][]): Promise<string[][]> {
  const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const steps = lines.map((words) => `COMP_WORDS=(${words.map(quote).join(' ')}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}
_clerk_bapi_complete
printf '%s\\n' "\${COMPREPLY[@]}" '@@'`);
  const result = await bash(`eval "$(api-specs-context --completion bash)" || exit 9\n${steps.join('\n')}`);
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout.split('@@').slice(0, lines.length).map((part) => part.split('\n').filter((line) => line !== ''));
}

before(async () => {
  // A warm store, as after the first api-specs-context: completion only ever reads its index.
  const warm = await runCli('api-specs-context', [], { env: shellEnv() });
  assert.equal(warm.exitCode, 0, warm.stderr);
});

describe('api-specs-context --completion bash, in bash', () => {
  it('completes a flag from the command’s own flag definitions', async () => {
    assert.deepEqual(await bashComplete(['extract-tags', '--js']), ['--json']);
    const all = await bashComplete(['bapi-curl', '--']);
    for (const name of [...(COMMAND_FLAGS['bapi-curl'].string ?? []), ...(COMMAND_FLAGS['bapi-curl'].repeatable ?? []), ...(COMMAND_FLAGS['bapi-curl'].boolean ?? [])]) {
      assert.ok(all.includes(`--${name}`), `--${name} is offered`);
    }
  });

  it('does not offer a single-valued flag twice, nor the hidden plumbing', async () => {
    const offered = await bashComplete(['bapi-guard', '--json', '--']);
    assert.ok(!offered.includes('--json'));
    assert.ok(offered.includes('--query'));
    assert.ok(!(await bashComplete(['api-specs-context', '--'])).includes('--complete'));
    assert.deepEqual(await bashComplete(['api-specs-context', '--shell-init', '']), ['bash', 'zsh']);
  });

  it('completes a method, in any case', async () => {
    assert.deepEqual(await bashComplete(['bapi-curl', 'pa']), ['PATCH']);
    assert.deepEqual(await bashComplete(['extract-endpoint-detail', '']), ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
  });

  it('completes the methods of a path given first', async () => {
    assert.deepEqual(await bashComplete(['extract-endpoint-detail', '/users/user_123', '']), ['GET', 'PATCH', 'DELETE']);
    assert.deepEqual(await bashComplete(['extract-endpoint-detail', '/users/count', '']), ['GET']);
  });

  it('completes a tag, quoted for the shell', async () => {
    assert.deepEqual(await bashComplete(['extract-tag-endpoints', 'use']), ['Users']);
    assert.deepEqual(await bashComplete(['extract-tag-endpoints', 'Email']), ['Email\\ Addresses', 'Email\\ \\&\\ SMS\\ Templates']);
    // After bash inserted their common prefix (Email\ ), the next TAB still completes; so does a quoted word.
    assert.deepEqual(await bashComplete(['extract-tag-endpoints', 'Email\\ ']), ['Email\\ Addresses', 'Email\\ \\&\\ SMS\\ Templates']);
    assert.deepEqual(await bashComplete(['extract-tag-endpoints', 'Email\\ A']), ['Email\\ Addresses']);
    // Inside an open quote, readline inserts the value as it is: no backslashes.
    assert.deepEqual(await bashComplete(['extract-tag-endpoints', "'Email &"]), ['Email & SMS Templates']);
    assert.deepEqual(await bashComplete(['extract-tag-endpoints', '"Organization M']), ['Organization Memberships']);
  });

  it('completes a tag of several words typed unquoted, which the command joins into one', async () => {
    const got = await bashCompleteAll([
      ['extract-tag-endpoints', 'organization', 'm'],
      ['extract-tag-endpoints', 'Organization', ''],
      ['extract-tag-endpoints', 'email', '&'],
      ['extract-tag-endpoints', 'users', ''],
    ]);
    assert.deepEqual(got, [['Memberships'], ['Invitations', 'Memberships', 'Permissions', 'Roles', 'Domains'], ['\\&\\ SMS\\ Templates'], []]);
  });

  it('completes the query parameter names of the endpoint on the line after -q, --query or -q=', async () => {
    const [order, all, value, none] = await bashCompleteAll([
      ['bapi-curl', 'GET', '/users', '-q', 'ord'],
      ['bapi-curl', '/users', '--query', ''],
      ['bapi-curl', 'GET', '/users', '-q', 'order_by='],
      ['bapi-curl', '-q', 'lim'],
    ]);
    assert.deepEqual(order, ['order_by=']);
    for (const name of ['limit=', 'offset=', 'email_address=', 'order_by=']) assert.ok(all!.includes(name), `${name} in ${all!.join(' ')}`);
    assert.deepEqual(value, [], 'a value is not a name');
    assert.deepEqual(none, [], 'no endpoint on the line yet');
  });

  it('completes the shell helpers: bapi-write as bapi-curl, bapi-browse with its own flags', async () => {
    const got = await bashCompleteAll([
      ['bapi-write', 'pa'],
      ['bapi-write', 'DELETE', '/users/user_1/ba'],
      ['bapi-write', 'POST', '/users/user_1/ba'],
      ['bapi-browse', '--'],
      ['bapi-browse', 'use'],
    ]);
    assert.deepEqual(got, [['PATCH'], ['/users/user_1/backup_code'], ['/users/user_1/ban'], ['--api-version', '--include-platform', '--help'], ['Users']]);
    const registered = await bash(`eval "$(api-specs-context --completion bash)" && complete -p bapi-write bapi-browse`);
    assert.equal(registered.stdout, 'complete -F _clerk_bapi_complete bapi-write\ncomplete -F _clerk_bapi_complete bapi-browse');
  });

  it('completes a path from the index, keeping the ids already typed', async () => {
    const paths = await bashComplete(['bapi-curl', 'DELETE', '/users/user_123/']);
    assert.ok(paths.includes('/users/user_123/profile_image'), paths.join(' '));
    assert.ok(paths.every((p) => p.startsWith('/users/user_123/')));
    assert.deepEqual(await bashComplete(['bapi-guard', 'POST', '/users/user_1/ba']), ['/users/user_1/ban']);
    assert.ok((await bashComplete(['extract-endpoint-detail', 'GET', '/organiz'])).includes('/organizations/{organization_id}'));
  });

  it('completes from the version given on the line', async () => {
    const versions = sharedVersions();
    assert.deepEqual(await bashComplete(['extract-tags', '--api-version', '']), [...versions].reverse());
    // bash splits --api-version=DATE at "=".
    assert.deepEqual(await bashComplete(['extract-tags', '--api-version', '=', versions[0]!.slice(0, 7)]), [versions[0]!]);
  });

  it('answers from the index without loading YAML', async () => {
    const result = await runCli('api-specs-context', ['--complete', '--', 'extract-tag-endpoints', 'Us'], { env: withoutYaml(shellEnv()) });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, ':words\nUsers\t' + result.stdout.split('\t')[1]);
  });

  it('prints nothing, and no error, when there is no index to read', async () => {
    const env = cleanEnv({ CLERK_SPECS_SOURCE: join(tempDir(), 'missing'), CLERK_SPECS_DIR: tempDir() });
    const result = await runCli('api-specs-context', ['--complete', '--', 'bapi-curl', 'GET', '/u'], { env });
    assert.deepEqual([result.exitCode, result.stdout, result.stderr], [0, ':words\n', '']);
  });

  it('refuses an unknown shell with a usage error', async () => {
    const result = await runCli('api-specs-context', ['--completion', 'fish'], { env: shellEnv() });
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /unsupported shell/);
    noStackTrace(result.stderr);
  });
});

describe('completion internals', () => {
  it('reads the line as the commands parse it', () => {
    const line = analyzeLine(['bapi-curl', '-yd', '{}', '--api-version=2025-04-10', '--include-platform', 'POST', '/u']);
    assert.equal(line.apiVersion, '2025-04-10');
    assert.equal(line.includePlatform, true);
    assert.deepEqual(line.slot, { kind: 'positional', command: 'bapi-curl', index: 1, previous: ['POST'], prefix: '/u' });
    assert.equal(analyzeLine(['bapi-curl', '-H', '']).slot.kind, 'value');
    assert.equal(analyzeLine(['bapi-curl', '--', '-x']).slot.kind, 'positional');
  });

  it('offers a static segment and a parameter alike, and each path once', () => {
    const latest = sharedVersions().at(-1)!;
    const endpoints = sharedIndex(latest).summary.endpoints;
    const values = pathCandidates(endpoints, '/users/', null).map((c) => c.value);
    assert.ok(values.includes('/users/count') && values.includes('/users/{user_id}'));
    assert.equal(new Set(values).size, values.length);
  });
});

describe('lib/shell/bapi.sh', () => {
  it('eval "$(api-specs-context --shell-init bash)" defines the helpers and completion', async () => {
    const result = await bash(`eval "$(api-specs-context --shell-init bash)" || exit 9
type -t bapi-write; type -t bapi-browse; complete -p bapi-curl extract-tag-endpoints`);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^function\nfunction\ncomplete -F _clerk_bapi_complete bapi-curl\ncomplete -F _clerk_bapi_complete extract-tag-endpoints$/);
  });

  it('sourced directly, it loads completion itself', async () => {
    const result = await bash(`source '${SHELL_FILE}' && type -t bapi-write && complete -p extract-tags`);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /complete -F _clerk_bapi_complete extract-tags/);
  });

  it('bapi-write gives each command exactly the options it accepts', async () => {
    const guard = COMMAND_FLAGS['bapi-guard'];
    const curl = COMMAND_FLAGS['bapi-curl'];
    const valued = (spec: typeof guard, name: string) => [...(spec.string ?? []), ...(spec.repeatable ?? [])].includes(name);
    const names = new Set([guard, curl].flatMap((s) => [...(s.string ?? []), ...(s.repeatable ?? []), ...(s.boolean ?? [])]));
    const cases: Array<{ flag: string; args: string[] }> = [];
    for (const name of names) {
      if (name === 'help' || name === 'version' || name === 'raw-field' || name === 'field') continue;
      const args = valued(guard, name) || valued(curl, name) ? [`--${name}`, 'VALUE'] : [`--${name}`];
      cases.push({ flag: name, args });
      const short = Object.entries(curl.alias ?? guard.alias ?? {}).find(([, long]) => long === name)?.[0];
      if (short) cases.push({ flag: name, args: [`-${short}`, ...args.slice(1)] });
    }
    const script = cases.map((c) => `BAPI_WRITE_TRACE=1 bapi-write POST /users ${c.args.map((a) => `'${a}'`).join(' ')} || echo FAILED`).join('\n');
    const result = await bash(`source '${SHELL_FILE}'\n${script}`);
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, cases.length * 2, result.stdout + result.stderr);
    cases.forEach((c, i) => {
      const expected = (accepts: boolean) => (accepts ? ` [${c.args.join('] [')}]` : '');
      const accepts = (spec: typeof guard) => valued(spec, c.flag) || (spec.boolean ?? []).includes(c.flag);
      assert.equal(lines[2 * i], `guard: [POST] [/users]${expected(accepts(guard))}`, `guard for ${c.args[0]}`);
      assert.equal(lines[2 * i + 1], `curl: [POST] [/users]${expected(accepts(curl))}`, `curl for ${c.args[0]}`);
    });
    // -f/-F would build a body the guard never saw: refused.
    const fields = await bash(`source '${SHELL_FILE}'; bapi-write POST /users -f first_name=Ada`);
    assert.equal(fields.exitCode, 2);
    assert.match(fields.stderr, /give the body with -d/);
    // An option that takes a value, given none, is refused before either command runs.
    for (const flag of ['-d', '--jq', '--ttl', '-H']) {
      const missing = await bash(`source '${SHELL_FILE}'; BAPI_WRITE_TRACE=1 bapi-write POST /users ${flag}`);
      assert.equal(missing.exitCode, 2, flag);
      assert.equal(missing.stderr.trim(), `bapi-write: ${flag} needs a value`);
      assert.equal(missing.stdout, '');
    }
  });

  it('bapi-browse without fzf says so and fails', async () => {
    const result = await bash(`source '${SHELL_FILE}'; PATH='${pathWith([], true)}' bapi-browse`);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /fzf is not installed/);
    assert.equal(result.stdout, '');
  });

  it('bapi-browse walks tags → endpoints and prints a ready bapi-curl line (with a scripted fzf)', async () => {
    const fakeDir = tempDir('bapi-fake-fzf-');
    // Picks the first line matching FAKE_FZF_PICK_<n> on its n-th run, and logs its arguments.
    writeFileSync(
      join(fakeDir, 'fzf'),
      `#!/usr/bin/env bash
n=$(( $(cat "${fakeDir}/count" 2>/dev/null || echo 0) + 1 )); echo "$n" > "${fakeDir}/count"
printf '%s\\n' "$*" >> "${fakeDir}/args"
pick=FAKE_FZF_PICK_$n
grep -m1 -E -- "\${!pick}" || exit 130
`,
    );
    chmodSync(join(fakeDir, 'fzf'), 0o755);
    const env = shellEnv({ PATH: pathWith([fakeDir]), FAKE_FZF_PICK_1: '^Users\t', FAKE_FZF_PICK_2: '^DELETE\t/users/\\{user_id\\}\t' });
    const result = await bash(`source '${SHELL_FILE}'; bapi-browse`, env);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^bapi-curl DELETE '?\/users\/<user_id>'? --api-version \d{4}-\d{2}-\d{2}$/);
    const logged = (await execa('cat', [join(fakeDir, 'args')])).stdout;
    assert.match(logged, /--preview extract-endpoint-detail \{1\} \{2\}/);
    // Esc in fzf: nothing printed, non-zero.
    const cancelled = await bash(`source '${SHELL_FILE}'; bapi-browse Users`, { ...env, FAKE_FZF_PICK_3: '^NO SUCH LINE' });
    assert.notEqual(cancelled.exitCode, 0);
    assert.equal(cancelled.stdout, '');
  });
});

describe('bapi-write against the fake Clerk', () => {
  let fake: FakeClerk;
  before(async () => {
    fake = await startFakeClerk();
  });
  after(async () => {
    await fake.close();
  });

  function writeEnv(extra: Record<string, string | undefined> = {}) {
    const tmp = tempDir('bapi-write-tmp-');
    return {
      tmp,
      env: shellEnv({
        CLERK_API_URL: fake.url,
        CLERK_SECRET_KEY: FAKE_CLERK_KEY,
        CLERK_BAPI_SCOPES: 'write',
        CLERK_BAPI_STATE_DIR: tempDir('bapi-write-state-'),
        TMPDIR: tmp,
        ...extra,
      }),
    };
  }

  it('sends exactly one write, after the guard allows it', async () => {
    const { env } = writeEnv();
    const before = fake.received('POST', '/v1/users').length;
    const result = await bash(`source '${SHELL_FILE}'; bapi-write POST /users -d '{"email_address":["ada@example.com"]}' --jq .id`, env);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(fake.received('POST', '/v1/users').length - before, 1);
    assert.match(result.stdout, /^"?user_/);
    assert.ok(!result.stdout.includes(FAKE_CLERK_KEY) && !result.stderr.includes(FAKE_CLERK_KEY));
  });

  it('reads a body on stdin once and gives it to both, leaving no temporary file', async () => {
    const { env, tmp } = writeEnv();
    const before = fake.received('POST', '/v1/users').length;
    const result = await bash(`source '${SHELL_FILE}'; bapi-write POST /users -d -`, env, '{"email_address":["grace@example.com"]}');
    assert.equal(result.exitCode, 0, result.stderr);
    const sent = fake.received('POST', '/v1/users').slice(before);
    assert.equal(sent.length, 1);
    assert.deepEqual(JSON.parse(sent[0]!.body).email_address, ['grace@example.com']);
    assert.deepEqual(readdirSync(tmp), []);
  });

  it('sends nothing when the guard refuses', async () => {
    const before = fake.requests.length;
    const noScopes = await bash(`source '${SHELL_FILE}'; bapi-write POST /users -d '{"email_address":["x@example.com"]}'`, writeEnv({ CLERK_BAPI_SCOPES: '' }).env);
    assert.equal(noScopes.exitCode, 3);
    assert.match(noScopes.stderr, /write operation/);
    const invalid = await bash(`source '${SHELL_FILE}'; bapi-write POST /users -d '{"email_address":[1]}'`, writeEnv().env);
    assert.equal(invalid.exitCode, 2);
    const unconfirmed = await bash(`source '${SHELL_FILE}'; bapi-write DELETE /users/user_123`, writeEnv({ CLERK_BAPI_SCOPES: 'write,delete' }).env);
    assert.equal(unconfirmed.exitCode, 4);
    assert.equal(fake.requests.length, before, 'no request reached the fake');
  });
});

describe('zsh', async () => {
  const zsh = await hasShell('zsh');
  it('eval "$(api-specs-context --shell-init zsh)" defines the helpers and registers completion', { skip: !zsh && 'zsh is not installed' }, async () => {
    const home = tempDir('bapi-zsh-home-');
    mkdirSync(dirname(join(home, '.zcompdump')), { recursive: true });
    const result = await execa(
      'zsh',
      ['-f', '-c', 'eval "$(api-specs-context --shell-init zsh)" || exit 9; whence -w bapi-write bapi-browse; print -r -- ${_comps[bapi-curl]}; BAPI_WRITE_TRACE=1 bapi-write POST /users --jq .id -d "{}"'],
      { env: shellEnv({ HOME: home, ZDOTDIR: home }), extendEnv: false, reject: false, stdin: 'ignore' },
    );
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.equal(
      String(result.stdout),
      'bapi-write: function\nbapi-browse: function\n_clerk_bapi_complete\nguard: [POST] [/users] [-d] [{}]\ncurl: [POST] [/users] [--jq] [.id] [-d] [{}]',
    );
  });
});
