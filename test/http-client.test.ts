import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockAgent } from 'undici';
import { UnavailableError, UsageError } from '../lib/core/errors.js';
import { buildRequestUrl, isTrustedOrigin, resolveBaseUrl } from '../lib/request/url.js';
import { createHttpClient, parseRetryAfter, type ClientConfig } from '../lib/http/client.js';
import { randomBytes } from 'node:crypto';

const KEY = `sk_test_${randomBytes(20).toString('hex')}`;

describe('resolveBaseUrl', () => {
  it('defaults to https://api.clerk.com and accepts https or loopback http', () => {
    assert.equal(resolveBaseUrl(undefined).href, 'https://api.clerk.com/');
    assert.equal(resolveBaseUrl('https://api.clerk.com/').href, 'https://api.clerk.com/');
    assert.equal(resolveBaseUrl('http://127.0.0.1:8080').host, '127.0.0.1:8080');
    assert.equal(resolveBaseUrl('http://localhost:1/').host, 'localhost:1');
    assert.equal(resolveBaseUrl('http://[::1]:3000').host, '[::1]:3000');
  });
  it('refuses clear text to another host, other schemes, credentials and queries', () => {
    for (const raw of ['http://api.clerk.com', 'http://127.0.0.1.evil.com', 'ftp://127.0.0.1', 'https://user:pw@api.clerk.com', 'https://api.clerk.com/?x=1', 'not a url']) {
      assert.throws(() => resolveBaseUrl(raw), UsageError, raw);
    }
  });
});

describe('buildRequestUrl', () => {
  const base = resolveBaseUrl('https://api.clerk.com');
  it('adds /v1 when PATH lacks it, keeps PATH query before -q', () => {
    assert.equal(buildRequestUrl(base, '/users').href, 'https://api.clerk.com/v1/users');
    assert.equal(buildRequestUrl(base, 'users/user_1').href, 'https://api.clerk.com/v1/users/user_1');
    assert.equal(buildRequestUrl(base, '/v1/users?limit=2', [['offset', '4']]).href, 'https://api.clerk.com/v1/users?limit=2&offset=4');
    assert.equal(buildRequestUrl(base, 'https://api.clerk.com/v1/users').href, 'https://api.clerk.com/v1/users');
    assert.equal(buildRequestUrl(resolveBaseUrl('http://127.0.0.1:9/v1'), '/users').href, 'http://127.0.0.1:9/v1/users');
    assert.equal(buildRequestUrl(base, '/users', [['email_address', 'a+b@c.d']]).search, '?email_address=a%2Bb%40c.d');
  });
  it('refuses other hosts, dot segments, control characters and encoded separators', () => {
    for (const path of ['https://evil.com/v1/users', '//evil.com/v1/users', 'http://api.clerk.com/v1/users', '/users/../x', '/users/%2E%2E/x', '/./users', '/users/a\nb', '/users/a\u0000', '/users/%0d%0a', '/users/a%2Fb', '/users\\x', '/users#x', '', '/', `${base.origin}/v1/sessions/s/tokens/x\\..\\..\\..\\..\\users\\u_7\\ban`, '/users/u_4\\..\\u_5', '/v1/v1/users/u_1', '/users/%zz']) {
      assert.throws(() => buildRequestUrl(base, path), UsageError, JSON.stringify(path));
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter('0.5'), 500);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter(undefined), null);
    assert.equal(parseRetryAfter('soon'), null);
  });
});

describe('isTrustedOrigin', () => {
  it('is https anywhere or http on loopback only', () => {
    assert.equal(isTrustedOrigin(new URL('https://x.example')), true);
    assert.equal(isTrustedOrigin(new URL('http://127.0.0.2:1')), true);
    assert.equal(isTrustedOrigin(new URL('http://example.com')), false);
  });
});

function client(agent: MockAgent, extra: Partial<ClientConfig> = {}) {
  const delays: number[] = [];
  const retries: string[] = [];
  const http = createHttpClient({
    key: KEY,
    apiVersion: '2025-11-10',
    userAgent: 'clerk-bapi-toolkit/test',
    timeoutMs: 1000,
    maxRetries: 3,
    retryDelayMs: 100,
    maxRetryAfterMs: 60_000,
    dispatcher: agent,
    sleep: async (ms) => void delays.push(ms),
    onRetry: (message) => retries.push(message),
    ...extra,
  });
  return { http, delays, retries };
}

function mockAgent(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return agent;
}

describe('createHttpClient (through an undici MockAgent)', () => {
  it('sends the key, Accept, Clerk-API-Version and User-Agent', async () => {
    const agent = mockAgent();
    let seen: Record<string, string> = {};
    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'GET' }).reply(200, (options) => {
      seen = options.headers as Record<string, string>;
      return '[]';
    });
    const { http } = client(agent);
    const response = await http.send({ method: 'GET', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: null });
    assert.equal(response.status, 200);
    assert.equal(seen.authorization, `Bearer ${KEY}`);
    assert.equal(seen.accept, 'application/json');
    assert.equal(seen['clerk-api-version'], '2025-11-10');
    assert.equal(seen['user-agent'], 'clerk-bapi-toolkit/test');
  });

  it('honours Retry-After on 429, for a POST too', async () => {
    const agent = mockAgent();
    const pool = agent.get('https://api.clerk.com');
    pool.intercept({ path: '/v1/users', method: 'POST' }).reply(429, '{"errors":[]}', { headers: { 'retry-after': '3' } });
    pool.intercept({ path: '/v1/users', method: 'POST' }).reply(200, '{"id":"user_1"}');
    const { http, delays } = client(agent);
    const response = await http.send({ method: 'POST', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: '{}' });
    assert.equal(response.status, 200);
    assert.equal(response.attempts, 2);
    assert.deepEqual(delays, [3000]);
  });

  it('does not wait for a Retry-After beyond the maximum', async () => {
    const agent = mockAgent();
    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'GET' }).reply(429, '{}', { headers: { 'retry-after': '3600' } });
    const { http, delays } = client(agent);
    const response = await http.send({ method: 'GET', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: null });
    assert.equal(response.status, 429);
    assert.deepEqual(delays, []);
  });

  it('retries 502/503/504 with growing backoff for GET, bounded', async () => {
    const agent = mockAgent();
    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'GET' }).reply(503, '{}').times(4);
    const { http, delays } = client(agent);
    const response = await http.send({ method: 'GET', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: null });
    assert.equal(response.status, 503);
    assert.equal(response.attempts, 4);
    assert.equal(delays.length, 3);
    assert.ok(delays[0]! >= 75 && delays[0]! <= 125 && delays[2]! >= 300 && delays[2]! <= 500, String(delays));
  });

  it('never retries a POST or PATCH on 5xx or a lost connection', async () => {
    for (const method of ['POST', 'PATCH']) {
      const agent = mockAgent();
      const pool = agent.get('https://api.clerk.com');
      pool.intercept({ path: '/v1/users', method }).reply(502, '{}');
      const { http, delays } = client(agent);
      const response = await http.send({ method, url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: '{}' });
      assert.equal(response.status, 502);
      assert.deepEqual(delays, []);

      pool.intercept({ path: '/v1/users', method }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      await assert.rejects(http.send({ method, url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: '{}' }), UnavailableError);
      assert.deepEqual(delays, []);
    }
  });

  it('retries a connection that was refused (nothing was sent), then gives up with UnavailableError', async () => {
    const agent = mockAgent();
    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'POST' }).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).times(4);
    const { http, retries } = client(agent);
    await assert.rejects(http.send({ method: 'POST', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: '{}' }), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /connection refused/);
      return true;
    });
    assert.equal(retries.length, 3);
  });

  it('follows a redirect to another host without the key, and refuses a redirect to clear text', async () => {
    const agent = mockAgent();
    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'GET' }).reply(302, '', { headers: { location: 'https://other.example/v1/users' } });
    let seen: Record<string, string> = {};
    agent.get('https://other.example').intercept({ path: '/v1/users', method: 'GET' }).reply(200, (options) => {
      seen = options.headers as Record<string, string>;
      return '[]';
    });
    const { http } = client(agent);
    const response = await http.send({ method: 'GET', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: null });
    assert.equal(response.status, 200);
    assert.equal(response.url, 'https://other.example/v1/users');
    assert.equal(seen.authorization, undefined);

    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'GET' }).reply(301, '', { headers: { location: 'http://other.example/v1/users' } });
    await assert.rejects(http.send({ method: 'GET', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: null }), /neither https nor loopback/);

    agent.get('https://api.clerk.com').intercept({ path: '/v1/users', method: 'POST' }).reply(302, '', { headers: { location: '/v1/users/x' } });
    await assert.rejects(http.send({ method: 'POST', url: new URL('https://api.clerk.com/v1/users'), headers: {}, body: '{}' }), /not followed for a write/);
  });
});
