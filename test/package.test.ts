// The package as a user gets it: `npm pack`, installed into an empty prefix (dependencies from the
// registry, no dev dependencies, nothing of this checkout on the module path), and each installed
// executable run from there. Built by `make test` first; npm install takes network time on a cold cache.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { startFakeGithub, type FakeGithub } from './helpers/fake-github.js';
import { tempDir, type CliResult } from './helpers/run-cli.js';
import { PROJECT_DIR, SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';
import { randomBytes } from 'node:crypto';

interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as PackageJson;
const COMMANDS = ['api-specs-context', 'extract-tags', 'extract-tag-endpoints', 'extract-endpoint-detail', 'bapi-guard', 'bapi-curl', 'bapi-mcp', 'bapi-webhooks'];
const VERSION = '2025-11-10';
const KEY = `sk_test_${randomBytes(20).toString('hex')}`;

/** npm with the user's configuration (registry, proxy, cache), quiet and without update checks. */
async function npm(args: string[], cwd: string): Promise<string> {
  const env: Record<string, string | undefined> = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  // Set when the tests run under `npm test`; they must not redirect this install.
  for (const name of ['npm_config_global', 'npm_config_prefix', 'npm_config_dry_run', 'npm_config_omit', 'npm_config_include']) delete env[name];
  const result = await execa('npm', args, { cwd, env, extendEnv: false, reject: false, stdin: 'ignore' });
  assert.equal(result.exitCode, 0, `npm ${args.join(' ')} failed:\n${String(result.stderr)}`);
  return String(result.stdout);
}

/** The lowest Node version an engines range starting `>=X.Y.Z` allows, as [X, Y, Z]. */
function lowerBound(range: string): number[] {
  const match = /^\s*>=?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range);
  assert.ok(match, `engines range I cannot read: ${range}`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function atLeast(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

describe('the npm package', { timeout: 240_000 }, () => {
  let dir: string;
  let packed: { filename: string; files: Array<{ path: string }> };
  let tarball: string;
  let prefix: string;
  let installed: string;
  let work: string;
  let github: FakeGithub;
  let clerk: Server;
  let clerkUrl: string;

  before(async () => {
    dir = tempDir('bapi-pack-');
    // --ignore-scripts: `make test` has built dist/ already; a rebuild here would race the other test files.
    const out = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], PROJECT_DIR);
    packed = (JSON.parse(out) as Array<typeof packed>)[0]!;
    tarball = join(dir, packed.filename);
    prefix = join(dir, 'prefix');
    await npm(['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
    installed = join(prefix, 'lib', 'node_modules', pkg.name);
    work = tempDir('bapi-pack-work-');
    github = await startFakeGithub();
    clerk = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/v1/users') && req.headers.authorization === `Bearer ${KEY}`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ id: 'user_1' }, { id: 'user_2' }]));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'resource_not_found', message: 'not found' }] }));
      }
    });
    await new Promise<void>((resolve) => clerk.listen(0, '127.0.0.1', resolve));
    clerkUrl = `http://127.0.0.1:${(clerk.address() as AddressInfo).port}`;
  });

  after(async () => {
    await github?.close();
    clerk?.closeAllConnections();
    await new Promise<void>((resolve) => (clerk ? clerk.close(() => resolve()) : resolve()));
    // The installed tree is a few megabytes; the rest of the suite's temp dirs are small.
    for (const path of [dir, work]) if (path) rmSync(path, { recursive: true, force: true });
  });

  /** Runs an installed executable by its bare name, from a directory outside this checkout. */
  async function installedCli(command: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
    const env: Record<string, string | undefined> = {
      PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter),
      HOME: work,
      XDG_CACHE_HOME: join(work, 'cache'),
      XDG_STATE_HOME: join(work, 'state'),
      CLERK_SPECS_SOURCE: SHARED_SPECS_DIR,
      CLERK_SPECS_DIR: join(work, 'store'),
      ...extra,
    };
    const result = await execa(command, args, { cwd: work, env, extendEnv: false, reject: false, stdin: 'ignore', stripFinalNewline: false });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  it('packs the built commands, the data read at run time, and nothing of the sources or tests', () => {
    const files = packed.files.map((file) => file.path).sort();
    for (const command of COMMANDS) assert.ok(files.includes(pkg.bin[command]!), `${pkg.bin[command]} is packed`);
    assert.ok(files.includes('specs/destroys.json'), 'specs/destroys.json (read by the guard) is packed');
    for (const file of ['specs/snapshot/snapshot.json', 'specs/snapshot/LICENSE', 'specs/published.json']) assert.ok(files.includes(file), `${file} is packed`);
    assert.ok(files.some((file) => /^dist\/snapshot\/index\/[0-9a-f]{40}\.v\d+\.summary\.json$/.test(file)), "the snapshot's prebuilt index is packed");
    assert.ok(files.includes('package.json') && files.includes('README.md') && files.includes('LICENSE'));
    // Files read at run time beside the bundles: whatever exists in the checkout must be packed.
    for (const file of ['lib/shell/bapi.sh', 'SKILL.md']) {
      if (existsSync(join(PROJECT_DIR, file))) assert.ok(files.includes(file), `${file} is packed`);
    }
    const strays = files.filter((file) => !/^(dist\/|specs\/|lib\/shell\/|package\.json$|README\.md$|LICENSE$|SKILL\.md$)/.test(file));
    assert.deepEqual(strays, [], 'only what runs or documents the package');
    assert.ok(!files.some((file) => file.endsWith('.ts')), 'no TypeScript sources');
    assert.ok(!files.some((file) => file.startsWith('node_modules/') || file.startsWith('test/')));
  });

  it('declares a bin for each of the seven commands, and a Node range its dependencies accept', () => {
    assert.deepEqual(Object.keys(pkg.bin).sort(), [...COMMANDS].sort());
    const ours = lowerBound(pkg.engines.node);
    for (const name of Object.keys(pkg.dependencies)) {
      const theirs = (JSON.parse(readFileSync(join(installed, 'node_modules', name, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node;
      if (theirs) assert.ok(atLeast(ours, lowerBound(theirs)), `engines.node ${pkg.engines.node} allows a Node that ${name} (${theirs}) does not`);
    }
  });

  it('installs its runtime dependencies only, and executable bins', () => {
    // A scoped package (@modelcontextprotocol/sdk) is a folder inside its scope's folder.
    for (const name of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(installed, 'node_modules', name, 'package.json')), `${name} installed`);
    for (const name of Object.keys(pkg.devDependencies)) {
      assert.ok(!existsSync(join(installed, 'node_modules', name)), `dev dependency ${name} is not installed`);
    }
    for (const command of COMMANDS) {
      const bin = join(prefix, 'bin', command);
      assert.ok(existsSync(bin), `${bin} exists`);
      assert.ok((statSync(bin).mode & 0o111) !== 0, `${bin} is executable`);
    }
  });

  it('every installed command prints the package version and its help', async () => {
    await Promise.all(
      COMMANDS.map(async (command) => {
        const version = await installedCli(command, ['--version']);
        assert.equal(version.exitCode, 0, `${command}: ${version.stderr}`);
        assert.equal(version.stdout, `${pkg.version}\n`, command);
        const help = await installedCli(command, ['--help']);
        assert.equal(help.exitCode, 0, `${command}: ${help.stderr}`);
        assert.match(help.stdout, new RegExp(`^Usage: ${command}`), command);
      }),
    );
  });

  it('extract-tags lists the tags of a version from a local specs checkout', async () => {
    const result = await installedCli('extract-tags', ['--api-version', VERSION]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^Users\t\d+\t/m);
  });

  it('api-specs-context downloads and indexes a spec from (a fake) GitHub: yaml from the install', async () => {
    const result = await installedCli('api-specs-context', ['--json', '--api-version', VERSION], {
      CLERK_SPECS_SOURCE: undefined,
      GITHUB_API_URL: github.url,
      CLERK_SPECS_DIR: join(work, 'github-store'),
    });
    assert.equal(result.exitCode, 0, result.stderr);
    const context = JSON.parse(result.stdout) as { selected: string; tags: Array<{ name: string }> };
    assert.equal(context.selected, VERSION);
    assert.ok(context.tags.some((tag) => tag.name === 'Users'));
    assert.ok(github.requests.some((request) => request.path === `/raw/bapi/${VERSION}.yml`), 'the spec was downloaded');
  });

  it('extract-tag-endpoints and extract-endpoint-detail answer from the installed package', async () => {
    const endpoints = await installedCli('extract-tag-endpoints', ['Users', '--api-version', VERSION]);
    assert.equal(endpoints.exitCode, 0, endpoints.stderr);
    assert.match(endpoints.stdout, /^GET\t\/users\tGetUserList\t/m);
    const detail = await installedCli('extract-endpoint-detail', ['DELETE', '/users/user_123', '--json', '--api-version', VERSION]);
    assert.equal(detail.exitCode, 0, detail.stderr);
    assert.equal((JSON.parse(detail.stdout) as { operationId: string }).operationId, 'DeleteUser');
  });

  it('with no network and nothing cached, answers from the snapshot it ships: api-specs-context, the explorers and the guard', async () => {
    const offline = { CLERK_SPECS_SOURCE: undefined, GITHUB_API_URL: 'http://127.0.0.1:9', CLERK_SPECS_DIR: join(work, 'snapshot-store') };
    const context = await installedCli('api-specs-context', ['--json'], offline);
    assert.equal(context.exitCode, 0, context.stderr);
    const parsed = JSON.parse(context.stdout) as { source: string; latest: string };
    assert.equal(parsed.source, 'snapshot');
    assert.match(context.stderr, /using the spec snapshot shipped with clerk-bapi-toolkit/);
    const tags = await installedCli('extract-tags', [], offline);
    assert.equal(tags.exitCode, 0, tags.stderr);
    assert.match(tags.stdout, /^Users\t\d+\t/m);
    assert.doesNotMatch(tags.stderr, /snapshot/, 'said once, not on every run');
    const guard = await installedCli('bapi-guard', ['DELETE', '/users/user_123', '--yes', '--json'], { ...offline, CLERK_SECRET_KEY: KEY, CLERK_BAPI_SCOPES: 'write,delete', CLERK_BAPI_STATE_DIR: join(work, 'snapshot-state') });
    assert.equal(guard.exitCode, 0, guard.stderr);
    assert.ok(!(JSON.parse(guard.stdout) as { warnings: string[] }).warnings.some((w) => /published/.test(w)), 'the snapshot is a published spec');
  });

  it('bapi-guard reads specs/destroys.json from the package', async () => {
    const result = await installedCli('bapi-guard', ['DELETE', '/users/user_123', '--yes', '--json', '--api-version', VERSION], {
      CLERK_SECRET_KEY: KEY,
      CLERK_BAPI_SCOPES: 'write,delete',
      CLERK_BAPI_STATE_DIR: join(work, 'guard-state'),
    });
    assert.equal(result.exitCode, 0, result.stderr);
    const verdict = JSON.parse(result.stdout) as { allowed: boolean; destroys: string[] };
    assert.equal(verdict.allowed, true);
    assert.ok(verdict.destroys.some((line) => /session/i.test(line)), 'the curated list for DELETE /users/{user_id}');
    assert.doesNotMatch(result.stderr, /derived from the spec/, 'not the fallback used when destroys.json is missing');
  });

  it('api-specs-context --shell-init finds the packed shell helpers', { skip: !existsSync(join(PROJECT_DIR, 'lib', 'shell', 'bapi.sh')) && 'no lib/shell/bapi.sh yet' }, async () => {
    const result = await installedCli('bash', ['-c', 'eval "$(api-specs-context --shell-init bash)" && type bapi-write bapi-browse >/dev/null && echo ok']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'ok\n');
  });

  it('bapi-curl sends a GET and filters it with the bundled jq-wasm', async () => {
    const result = await installedCli('bapi-curl', ['GET', '/users', '--api-version', VERSION, '--jq', '.[].id'], {
      CLERK_SECRET_KEY: KEY,
      CLERK_API_URL: clerkUrl,
      CLERK_BAPI_JQ: 'wasm',
      CLERK_BAPI_STATE_DIR: join(work, 'curl-state'),
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'user_1\nuser_2\n');
  });
});
