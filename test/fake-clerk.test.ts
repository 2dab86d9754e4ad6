// The fake Clerk stays honest: its answers validate against the spec's response schemas, and its
// state and faults behave as the executor's tests assume.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { validateValue } from '../lib/endpoint/validate.js';
import { startFakeClerk, type FakeClerk } from './fake-clerk.js';
import { sharedIndex } from './helpers/spec-fixtures.js';
import { randomBytes } from 'node:crypto';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

function call(fake: FakeClerk, method: string, path: string, body?: unknown, key: string | null = fake.key): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${fake.url}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

type Obj = Record<string, unknown>;
const index = sharedIndex('2025-11-10');
const components = index.detail.components as Record<string, unknown>;

/** The JSON schema of an endpoint's response, following a {$ref} into components.responses. */
function responseSchema(endpoint: string, status: string): unknown {
  const raw = index.detail.endpoints[endpoint]?.responses[status] as Obj | undefined;
  assert.ok(raw, `${endpoint} has a ${status} response in the spec`);
  let response: Obj = raw;
  if (typeof raw.$ref === 'string') {
    const name = raw.$ref.replace('#/components/responses/', '');
    response = (components.responses as Obj)[name] as Obj;
  }
  const content = response.content as Record<string, { schema: unknown }>;
  return content['application/json']!.schema;
}

function assertValid(endpoint: string, status: string, value: unknown): void {
  const problems = validateValue(value, responseSchema(endpoint, status), components as never);
  assert.deepEqual(problems, [], `${endpoint} ${status}: ${JSON.stringify(problems.slice(0, 5))}`);
}

describe('fake Clerk', () => {
  let fake: FakeClerk;
  before(async () => {
    fake = await startFakeClerk({ users: 25 });
  });
  after(() => fake.close());

  test('refuses a missing or wrong key with 401 in Clerk error shape', async () => {
    for (const key of [null, `sk_test_${randomBytes(20).toString('hex')}`]) {
      const answer = await call(fake, 'GET', '/v1/users', undefined, key);
      assert.equal(answer.status, 401);
      assertValid('GET /users', '401', answer.json);
      const body = answer.json as { errors: Array<{ code: string }>; clerk_trace_id: string };
      assert.equal(body.errors[0]!.code, 'authentication_invalid');
      assert.match(body.clerk_trace_id, /^[0-9a-f]{32}$/);
    }
  });

  test('user answers validate against the spec', async () => {
    const list = await call(fake, 'GET', '/v1/users?limit=3&order_by=-created_at');
    assert.equal(list.status, 200);
    assertValid('GET /users', '200', list.json);
    assert.equal((list.json as unknown[]).length, 3);

    const count = await call(fake, 'GET', '/v1/users/count');
    assertValid('GET /users/count', '200', count.json);
    assert.deepEqual(count.json, { object: 'total_count', total_count: 25 });

    const created = await call(fake, 'POST', '/v1/users', { email_address: ['ada@example.com'], first_name: 'Ada', public_metadata: { plan: 'pro' } });
    assert.equal(created.status, 200);
    assertValid('POST /users', '200', created.json);
    const id = (created.json as { id: string }).id;

    const got = await call(fake, 'GET', `/v1/users/${id}`);
    assertValid('GET /users/{user_id}', '200', got.json);

    const updated = await call(fake, 'PATCH', `/v1/users/${id}`, { last_name: 'Lovelace', public_metadata: { tier: 1 } });
    assertValid('PATCH /users/{user_id}', '200', updated.json);
    assert.deepEqual((updated.json as Obj).public_metadata, { tier: 1 }, 'PATCH /users/{id} replaces metadata');

    const merged = await call(fake, 'PATCH', `/v1/users/${id}/metadata`, { public_metadata: { plan: 'team', tier: null }, private_metadata: { a: { b: 1 } } });
    assertValid('PATCH /users/{user_id}/metadata', '200', merged.json);
    assert.deepEqual((merged.json as Obj).public_metadata, { plan: 'team' }, 'the metadata endpoint merges; null deletes');

    const taken = await call(fake, 'POST', '/v1/users', { email_address: ['ada@example.com'] });
    assert.equal(taken.status, 422);
    assertValid('POST /users', '422', taken.json);

    const deleted = await call(fake, 'DELETE', `/v1/users/${id}`);
    assertValid('DELETE /users/{user_id}', '200', deleted.json);
    assert.deepEqual(deleted.json, { object: 'user', id, deleted: true });

    const gone = await call(fake, 'GET', `/v1/users/${id}`);
    assert.equal(gone.status, 404);
    assertValid('GET /users/{user_id}', '404', gone.json);
  });

  test('organization and invitation answers validate against the spec', async () => {
    const inviter = (fake.getUser('user_seed0000001') as { id: string }).id;
    const org = await call(fake, 'POST', '/v1/organizations', { name: 'Acme Inc', created_by: inviter });
    assert.equal(org.status, 200);
    assertValid('POST /organizations', '200', org.json);
    const orgId = (org.json as { id: string }).id;

    const invitation = await call(fake, 'POST', `/v1/organizations/${orgId}/invitations`, { email_address: 'admin@acme.test', role: 'org:admin', inviter_user_id: inviter });
    assert.equal(invitation.status, 200);
    assertValid('POST /organizations/{organization_id}/invitations', '200', invitation.json);

    const invitations = await call(fake, 'GET', `/v1/organizations/${orgId}/invitations`);
    assertValid('GET /organizations/{organization_id}/invitations', '200', invitations.json);
    assert.equal((invitations.json as { total_count: number }).total_count, 1);

    const orgs = await call(fake, 'GET', '/v1/organizations');
    assertValid('GET /organizations', '200', orgs.json);
    const one = await call(fake, 'GET', `/v1/organizations/${orgId}`);
    assertValid('GET /organizations/{organization_id}', '200', one.json);
    const deleted = await call(fake, 'DELETE', `/v1/organizations/${orgId}`);
    assertValid('DELETE /organizations/{organization_id}', '200', deleted.json);
  });

  test('pages with limit and offset, newest first by default', async () => {
    const first = (await call(fake, 'GET', '/v1/users?limit=10&offset=0')).json as Array<{ id: string; created_at: number }>;
    const last = (await call(fake, 'GET', '/v1/users?limit=10&offset=20')).json as Array<{ id: string }>;
    assert.equal(first.length, 10);
    assert.equal(last.length, 5);
    assert.ok(first[0]!.created_at > first[1]!.created_at);
    const ascending = (await call(fake, 'GET', '/v1/users?limit=1&order_by=%2Bcreated_at')).json as Array<{ id: string }>;
    assert.equal(ascending[0]!.id, 'user_seed0000000');
    const bad = await call(fake, 'GET', '/v1/users?limit=501');
    assert.equal(bad.status, 422);
  });

  test('serves faults on demand and records every request', async () => {
    const before = fake.requests.length;
    fake.fault({ kind: 'rate-limit', retryAfter: 2, path: '/v1/users/count' });
    const limited = await call(fake, 'GET', '/v1/users/count');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '2');
    assert.equal((await call(fake, 'GET', '/v1/users/count')).status, 200, 'times defaults to 1');

    fake.fault({ kind: 'status', status: 503, times: 2 });
    assert.equal((await call(fake, 'GET', '/v1/users')).status, 503);
    assert.equal((await call(fake, 'GET', '/v1/users')).status, 503);
    assert.equal((await call(fake, 'GET', '/v1/users')).status, 200);

    fake.fault({ kind: 'html' });
    const html = await call(fake, 'GET', '/v1/users');
    assert.equal(html.status, 502);
    assert.match(html.text, /<html>/);

    fake.fault({ kind: 'invalid-json' });
    const invalid = await call(fake, 'GET', '/v1/users');
    assert.equal(invalid.status, 200);
    assert.equal(invalid.json, undefined);

    fake.fault({ kind: 'reset' });
    await assert.rejects(call(fake, 'GET', '/v1/users'));

    fake.fault({ kind: 'slow', delayMs: 150 });
    const started = Date.now();
    assert.equal((await call(fake, 'GET', '/v1/users/count')).status, 200);
    assert.ok(Date.now() - started >= 140);

    fake.fault({ kind: 'redirect' });
    const redirect = await call(fake, 'GET', '/v1/users');
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.location, `${fake.otherHost.url}/v1/users`);

    assert.equal(fake.requests.length - before, 10);
    assert.equal(fake.received('GET', '/v1/users/count').length >= 3, true);
    assert.equal(fake.requests.at(-1)!.fault, 'redirect');
  });
});

test('seeds 100 000 users cheaply and pages through them fast', async () => {
  const started = performance.now();
  const fake = await startFakeClerk({ users: 100_000 });
  try {
    assert.equal(fake.userCount(), 100_000);
    const page = await call(fake, 'GET', '/v1/users?limit=500&offset=99900');
    assert.equal((page.json as unknown[]).length, 100);
    const page2 = await call(fake, 'GET', '/v1/users?limit=500&offset=50000');
    assert.equal((page2.json as unknown[]).length, 500);
    assert.ok(performance.now() - started < 5000, 'seeding and two pages take well under 5 s');
  } finally {
    await fake.close();
  }
});
