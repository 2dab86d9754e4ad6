// --paginate with more than one cursor in flight (GET /users cut into created_at ranges) prints
// exactly what one cursor prints: the same users, once each, in the same order. And paginated=true
// where an endpoint takes it, and --dry-run --paginate showing the first page's real query.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { cleanEnv, type CliResult, runCli, SHARED_STORE, tempDir } from './helpers/run-cli.js';

const KEY = `sk_live_${randomBytes(24).toString('hex')}`;
const specsDir = SHARED_STORE;
const stateDir = tempDir('split-state-');
let fake: FakeClerk;

async function curl(args: string[]): Promise<CliResult> {
  return runCli('bapi-curl', args, { env: cleanEnv({ CLERK_API_URL: fake.url, CLERK_SECRET_KEY: KEY, CLERK_SPECS_DIR: specsDir, CLERK_BAPI_STATE_DIR: stateDir, CLERK_BAPI_SCOPES: 'write', CLERK_BAPI_RETRY_DELAY_MS: '10', CLERK_BAPI_MAX_RETRIES: '0' }) });
}

before(async () => {
  fake = await startFakeClerk({ key: KEY, users: 2500 });
  // Users created in the same millisecond: ties in created_at must not be split or repeated.
  for (let i = 0; i < 30; i++) {
    const created = await curl(['POST', '/users', '-f', `email_address[]=tie${i}@example.com`, '--yes']);
    assert.equal(created.exitCode, 0, created.stderr);
  }
  fake.seedInvitations(1234);
});

after(async () => {
  await fake.close();
});

describe('--paginate over time ranges', () => {
  for (const [label, extra] of [
    ['newest first (the default order)', [] as string[]],
    ['oldest first', ['-q', 'order_by=+created_at']],
    ['with a created_at_after filter of its own', ['-q', `created_at_after=${Date.now() - 1000 * 60_000}`, '-q', 'limit=100']],
    ['with a small page', ['-q', 'limit=37']],
  ] as const) {
    it(`prints exactly what one cursor prints: ${label}`, async () => {
      const one = await curl(['GET', '/users', '--paginate', '--concurrency', '1', '--jq', '.id', ...extra]);
      assert.equal(one.exitCode, 0, one.stderr);
      const ranged = fake.received('GET', '/v1/users').length;
      const many = await curl(['GET', '/users', '--paginate', '--concurrency', '6', '--jq', '.id', ...extra]);
      assert.equal(many.exitCode, 0, many.stderr);
      const requests = fake.received('GET', '/v1/users').slice(ranged);
      assert.ok(requests.some((r) => r.query.has('created_at_before')), 'the walk was cut into ranges');
      assert.equal(fake.received('GET', '/v1/users/count').length > 0, true);
      const ids = many.stdout.trim().split('\n');
      assert.equal(new Set(ids).size, ids.length, 'each user once');
      assert.equal(many.stdout, one.stdout);
    });
  }

  it('by default, several cursors only when the API is not near: a first page within 40 ms keeps one', async () => {
    const { splitWalk } = await import('../lib/http/split-walk.js');
    // 1 000 users of a list, newest first, served at once; the clock says how long the first page took.
    const users = Array.from({ length: 1000 }, (_, i) => ({ id: `user_${String(999 - i).padStart(4, '0')}`, created_at: 1_000_000 + (999 - i) * 1000 }));
    const answer = (value: unknown) => ({ status: 200, statusText: 'OK', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)), url: 'x', attempts: 1 });
    const list = (query: Array<[string, string]>) => {
      const get = (name: string) => query.find(([n]) => n === name)?.[1];
      let rows = get('order_by') === '+created_at' ? [...users].reverse() : users;
      const after = get('created_at_after');
      const before = get('created_at_before');
      if (after) rows = rows.filter((u) => u.created_at > Number(after));
      if (before) rows = rows.filter((u) => u.created_at < Number(before));
      const cursor = get('starting_after');
      if (cursor) rows = rows.slice(rows.findIndex((u) => u.id === cursor) + 1);
      return answer(rows.slice(0, Number(get('limit'))));
    };
    for (const firstPageMs of [10, 100]) {
      let counts = 0;
      let calls = 0;
      const out: string[] = [];
      const result = await splitWalk({
        query: [],
        limit: 100,
        concurrency: 4,
        adaptive: true,
        // Started at 0, answered at firstPageMs.
        now: () => (calls++ === 0 ? 0 : firstPageMs),
        fetchList: async (query) => list(query),
        fetchCount: async () => (counts++, answer({ object: 'total_count', total_count: users.length })),
        onItems: async (items) => void out.push(...items),
      });
      assert.equal(result.items, 1000);
      assert.deepEqual(out.map((t) => (JSON.parse(t) as { id: string }).id), users.map((u) => u.id));
      assert.equal(counts, firstPageMs < 40 ? 0 : 1, `first page in ${firstPageMs} ms: ${firstPageMs < 40 ? 'one cursor, no count' : 'counted and cut into ranges'}`);
    }
  });

  it('--max-items stops at the same item as one cursor', async () => {
    const one = await curl(['GET', '/users', '--paginate', '--concurrency', '1', '--max-items', '1234', '-q', 'limit=100']);
    const many = await curl(['GET', '/users', '--paginate', '--concurrency', '8', '--max-items', '1234', '-q', 'limit=100']);
    assert.equal(many.stdout.trim().split('\n').length, 1234);
    assert.equal(many.stdout, one.stdout);
  });

  it('an error in a later range prints what came before it, in order, and exits 1', async () => {
    const one = await curl(['GET', '/users', '--paginate', '--concurrency', '1', '--jq', '.id', '-q', 'limit=100']);
    // The first page, the probe and one more list request succeed; the next one fails.
    const path = /^\/v1\/users$/;
    fake.fault({ kind: 'slow', delayMs: 0, path, times: 3 });
    fake.fault({ kind: 'status', status: 500, path, times: 1 });
    const many = await curl(['GET', '/users', '--paginate', '--concurrency', '4', '--jq', '.id', '-q', 'limit=100']);
    assert.equal(many.exitCode, 1, many.stderr);
    assert.match(many.stderr, /HTTP 500/);
    assert.ok(one.stdout.startsWith(many.stdout), 'what was printed is the start of the sequential output');
  });
});

describe('paginated=true and --dry-run --paginate', () => {
  it('adds paginated=true where the endpoint takes it and walks {data, total_count} pages to the end', async () => {
    const before = fake.received('GET', '/v1/invitations').length;
    const result = await curl(['GET', '/invitations', '--paginate', '-q', 'limit=100', '--jq', '.id']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 1234);
    const requests = fake.received('GET', '/v1/invitations').slice(before);
    assert.equal(requests.length, 13);
    assert.ok(requests.every((r) => r.query.get('paginated') === 'true'));
  });

  it('--dry-run --paginate prints the first page as it would be sent, and sends nothing', async () => {
    const before = fake.requests.length;
    const users = await curl(['GET', '/users', '--paginate', '--dry-run', '-q', 'limit=200']);
    assert.equal(users.exitCode, 0, users.stderr);
    assert.match(users.stdout, /^GET http:\/\/127\.0\.0\.1:\d+\/v1\/users\?limit=200\n/);
    assert.match(users.stderr, /starting_after=<the last item's id>/);
    const invitations = await curl(['GET', '/invitations', '--paginate', '--dry-run']);
    assert.match(invitations.stdout, /\/v1\/invitations\?paginated=true&limit=500&offset=0\n/);
    const byEmail = await curl(['GET', '/users', '--paginate', '--dry-run', '-q', 'order_by=email_address']);
    assert.match(byEmail.stdout, /order_by=email_address&limit=500&offset=0/);
    assert.match(byEmail.stderr, /paging by offset/);
    assert.equal(fake.requests.length, before);
  });
});
