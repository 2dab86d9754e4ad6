import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  closestEndpoints,
  findEndpoint,
  matchEndpoint,
  parseEndpointArgs,
  parseEndpointRecord,
  parseRequestTarget,
} from '../lib/endpoint/match.js';
import { NotFoundError, UsageError } from '../lib/core/errors.js';
import type { EndpointSummary } from '../lib/spec/index.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';

const LATEST = '2025-11-10';
const endpoints = (version = LATEST): EndpointSummary[] => sharedIndex(version).summary.endpoints;

function ep(method: string, path: string): EndpointSummary {
  return { method, path, operationId: null, summary: '', tags: [], deprecated: false, platform: false };
}

describe('parseEndpointArgs', () => {
  it('takes METHOD PATH in either order and any method case', () => {
    assert.deepEqual(parseEndpointArgs(['post', '/users']), { method: 'POST', path: '/users' });
    assert.deepEqual(parseEndpointArgs(['/users/{user_id}', 'Patch']), { method: 'PATCH', path: '/users/{user_id}' });
    assert.deepEqual(parseEndpointArgs(['GET /users/count']), { method: 'GET', path: '/users/count' });
  });

  it('drops /v1, a trailing slash and doubled slashes, and adds the leading slash', () => {
    assert.deepEqual(parseEndpointArgs(['GET', '/v1/users/']), { method: 'GET', path: '/users' });
    assert.deepEqual(parseEndpointArgs(['GET', 'v1/users']), { method: 'GET', path: '/users' });
    assert.deepEqual(parseEndpointArgs(['GET', '/users//user_1']), { method: 'GET', path: '/users/user_1' });
    // A leading // is a host to a URL parser: refused by the one normalisation, as bapi-curl refuses it.
    assert.throws(() => parseEndpointArgs(['GET', '//users//user_1']), /names another host/);
    assert.deepEqual(parseEndpointArgs(['GET', '/v1']), { method: 'GET', path: '/' });
    assert.deepEqual(parseEndpointArgs(['GET', '/v10/x']), { method: 'GET', path: '/v10/x' });
  });

  it('accepts a full URL with a query string and remembers its origin', () => {
    assert.deepEqual(parseEndpointArgs(['get', 'https://api.clerk.com/v1/users?limit=5&email_address=a%40b.c']), {
      method: 'GET',
      path: '/users?limit=5&email_address=a%40b.c',
      origin: 'https://api.clerk.com',
    });
    // The origin as a URL parser reads it, so the guard and the executor compare the same thing.
    assert.equal(parseEndpointArgs(['https://API.clerk.com:443/v1/users', 'GET']).origin, 'https://api.clerk.com');
    assert.equal(parseEndpointArgs(['http://127.0.0.1:027431/v1/users', 'GET']).origin, 'http://127.0.0.1:27431');
    // A fragment is never sent: refused rather than dropped, by the guard and the executor alike.
    assert.throws(() => parseEndpointArgs(['get', 'https://api.clerk.com/v1/users#x']), /fragment/);
  });

  it('refuses bad input with a UsageError naming it', () => {
    assert.throws(() => parseEndpointArgs([]), UsageError);
    assert.throws(() => parseEndpointArgs(['GET']), /missing PATH after GET/);
    assert.throws(() => parseEndpointArgs(['/users']), /missing METHOD for \/users/);
    assert.throws(() => parseEndpointArgs(['FETCH', '/users']), /unknown HTTP method: FETCH/);
    assert.throws(() => parseEndpointArgs(['/users', 'FETCH']), /unknown HTTP method: FETCH/);
    assert.throws(() => parseEndpointArgs(['GET', '/users', 'x']), /3 arguments/);
    assert.throws(() => parseEndpointArgs(['GET', 'ftp://x/users']), /unsupported URL scheme/);
    assert.throws(() => parseEndpointArgs(['GET', '/users/../jwks']), /'\.\.' segment/);
    assert.throws(() => parseEndpointArgs(['GET', '/users/%2e%2e/jwks']), /'\.\.' segment/);
    assert.throws(() => parseEndpointArgs(['GET', '/users/a\u0000b']), /control characters/);
  });

  it('refuses what a URL parser would read differently: backslashes, encoded separators, /v1 twice', () => {
    // WHATWG URL maps \ to / and then resolves the dots: this would be POST /v1/users/user_7/ban.
    const attack = 'http://127.0.0.1:9/v1/sessions/sess_1/tokens/x\\..\\..\\..\\..\\users\\user_7\\ban';
    assert.throws(() => parseEndpointArgs(['POST', attack]), /backslash/);
    assert.throws(() => parseEndpointArgs(['DELETE', '/users/user_4\\..\\user_5']), /backslash/);
    assert.throws(() => parseEndpointArgs(['DELETE', '/users/user_4%5C..%5Cuser_5']), /encoded separator/);
    assert.throws(() => parseEndpointArgs(['DELETE', '/users/user_4%2F..%2Fuser_5']), /encoded separator/);
    assert.throws(() => parseEndpointArgs(['DELETE', '/users/.%2E']), /'\.\.' segment/);
    assert.throws(() => parseEndpointArgs(['GET', '/v1/v1/users/user_1']), /\/v1 is given twice/);
    assert.throws(() => parseEndpointArgs(['GET', '/users/%zz']), /malformed %-escape/);
  });
});

describe('parseRequestTarget', () => {
  it('splits path, query pairs (decoded, in order, repeated keys kept) and origin', () => {
    assert.deepEqual(parseRequestTarget('http://localhost:8080/v1/users?a=1&b=x%20y&a=2'), {
      path: '/users',
      query: [['a', '1'], ['b', 'x y'], ['a', '2']],
      origin: 'http://localhost:8080',
    });
    assert.deepEqual(parseRequestTarget('/users'), { path: '/users', query: [] });
  });
});

describe('parseEndpointRecord', () => {
  it('reads the first line of a tab-separated record', () => {
    const text = 'GET\t/users/{user_id}\tGetUser\tRetrieve a user\nPOST\t/users\tCreateUser\tCreate a new user\n';
    assert.deepEqual(parseEndpointRecord(text), { method: 'GET', path: '/users/{user_id}' });
  });

  it('reads a space-separated line', () => {
    assert.deepEqual(parseEndpointRecord('  /users/count  get \n'), { method: 'GET', path: '/users/count' });
  });

  it('reads JSON, NDJSON, a one-element array and a nested request', () => {
    assert.deepEqual(parseEndpointRecord('{"method":"post","path":"/v1/users","operationId":"CreateUser"}'), { method: 'POST', path: '/users' });
    assert.deepEqual(parseEndpointRecord('{"method":"GET","path":"/users"}\n{"method":"POST","path":"/users"}\n'), { method: 'GET', path: '/users' });
    assert.deepEqual(parseEndpointRecord('[{"method":"DELETE","path":"/users/{user_id}"}]'), { method: 'DELETE', path: '/users/{user_id}' });
    assert.deepEqual(parseEndpointRecord('{"allowed":true,"request":{"method":"DELETE","path":"/users/user_1"}}'), { method: 'DELETE', path: '/users/user_1' });
  });

  it('refuses empty input, bad JSON and JSON without method/path', () => {
    assert.throws(() => parseEndpointRecord('  \n'), UsageError);
    assert.throws(() => parseEndpointRecord('{"method":'), /not valid JSON/);
    assert.throws(() => parseEndpointRecord('{"name":"Users"}'), /`method` and `path`/);
    assert.throws(() => parseEndpointRecord('[1,2]'), /JSON array of 2/);
    assert.throws(() => parseEndpointRecord('Users\t42\tThe user object'), /METHOD/);
  });
});

describe('matchEndpoint', () => {
  it('matches every template of every shared version to itself, and a concrete path to its template', () => {
    for (const version of sharedVersions()) {
      const list = endpoints(version);
      for (const endpoint of list) {
        const byTemplate = matchEndpoint(list, { method: endpoint.method.toLowerCase(), path: endpoint.path });
        assert.equal(byTemplate?.endpoint, endpoint, `${version} ${endpoint.method} ${endpoint.path}`);
        assert.deepEqual(byTemplate.pathParams, {});

        const values: Record<string, string> = {};
        const concrete = endpoint.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
          values[name] = `${name}_x y:1`;
          return encodeURIComponent(values[name]);
        });
        const byConcrete = matchEndpoint(list, { method: endpoint.method, path: `/v1${concrete}?limit=1` });
        assert.equal(byConcrete?.endpoint, endpoint, `${version} ${endpoint.method} ${concrete}`);
        assert.deepEqual(byConcrete.pathParams, values);
        assert.equal(byConcrete.concretePath, concrete);
        assert.deepEqual(byConcrete.query, [['limit', '1']]);
      }
    }
  });

  it('prefers a static segment over a parameter', () => {
    const list = endpoints();
    assert.equal(matchEndpoint(list, { method: 'GET', path: '/users/count' })?.endpoint.path, '/users/count');
    assert.equal(matchEndpoint(list, { method: 'GET', path: '/users/user_123' })?.endpoint.path, '/users/{user_id}');
    assert.deepEqual(matchEndpoint(list, { method: 'GET', path: '/users/user_123' })?.pathParams, { user_id: 'user_123' });
    // DELETE /users/count does not exist, but DELETE /users/{user_id} does: a user id may be anything.
    assert.equal(matchEndpoint(list, { method: 'DELETE', path: '/users/count' })?.endpoint.path, '/users/{user_id}');
    const old = endpoints('2021-02-05');
    assert.equal(matchEndpoint(old, { method: 'GET', path: '/organizations/org_1/invitations/pending' })?.endpoint.path, '/organizations/{organization_id}/invitations/pending');
    assert.equal(matchEndpoint(old, { method: 'GET', path: '/organizations/org_1/invitations/orginv_1' })?.endpoint.path, '/organizations/{organization_id}/invitations/{invitation_id}');
  });

  it('decides by the first differing segment, whatever the order of the list', () => {
    const list = [ep('GET', '/a/{x}/c'), ep('GET', '/a/b/{y}')];
    assert.equal(matchEndpoint(list, { method: 'GET', path: '/a/b/c' })?.endpoint.path, '/a/b/{y}');
    assert.equal(matchEndpoint([...list].reverse(), { method: 'GET', path: '/a/b/c' })?.endpoint.path, '/a/b/{y}');
  });

  it('matches parameters inside a segment and placeholders', () => {
    const list = [ep('GET', '/files/{name}.json'), ep('GET', '/files/{id}')];
    assert.deepEqual(matchEndpoint(list, { method: 'GET', path: '/files/report.json' })?.pathParams, { name: 'report' });
    assert.equal(matchEndpoint(list, { method: 'GET', path: '/files/report' })?.endpoint.path, '/files/{id}');
    assert.deepEqual(matchEndpoint(list, { method: 'GET', path: '/files/:id' })?.pathParams, {});
  });

  it('needs the same method and the same number of segments', () => {
    const list = endpoints();
    assert.equal(matchEndpoint(list, { method: 'PUT', path: '/users' }), null);
    assert.equal(matchEndpoint(list, { method: 'GET', path: '/users/user_1/nothing' }), null);
    assert.equal(matchEndpoint(list, { method: 'GET', path: '/' }), null);
  });
});

describe('closestEndpoints and findEndpoint', () => {
  it('ranks by path, then method', () => {
    const list = endpoints();
    const near = closestEndpoints(list, { method: 'GET', path: '/user/user_1' });
    assert.equal(near.length, 3);
    assert.deepEqual(near[0], list.find((e) => e.method === 'GET' && e.path === '/users/{user_id}'));
    const other = closestEndpoints(list, { method: 'GET', path: '/users/user_1/ban' }, 1);
    assert.equal(`${other[0]?.method} ${other[0]?.path}`, 'POST /users/{user_id}/ban');
    assert.equal(closestEndpoints(list, { method: 'GET', path: '/users' }, 5).length, 5);
  });

  it('throws NotFoundError naming the version and the three closest endpoints', () => {
    const list = endpoints();
    assert.equal(findEndpoint(list, { method: 'post', path: '/v1/users' }, LATEST).endpoint.operationId, 'CreateUser');
    assert.throws(
      () => findEndpoint(list, { method: 'GET', path: '/userz/user_1' }, LATEST),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /no endpoint GET \/userz\/user_1 in spec version 2025-11-10/);
        assert.equal(error.hints.filter((h) => /^ {2}[A-Z]+ \//.test(h)).length, 3);
        assert.ok(error.hints.some((h) => h.startsWith('  GET /users/{user_id}')));
        return true;
      },
    );
  });

  it('finds an endpoint in one version and not in an older one that lacks it', () => {
    const input = { method: 'GET', path: '/users/user_1/billing/subscription' };
    assert.equal(findEndpoint(endpoints(LATEST), input, LATEST).endpoint.path, '/users/{user_id}/billing/subscription');
    assert.throws(() => findEndpoint(endpoints('2021-02-05'), input, '2021-02-05'), /in spec version 2021-02-05/);
  });
});
