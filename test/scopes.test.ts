import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkScopes, endpointResources, parseScopes, requiredActions } from '../lib/guard/scopes.js';

const users = { path: '/users/{user_id}', tags: ['Users'] };
const memberships = { path: '/organizations/{organization_id}/memberships/{user_id}', tags: ['Organization Memberships'] };

describe('scopes', () => {
  test('comma or space separated, case-insensitive; unknown tokens kept for a warning', () => {
    const set = parseScopes(' Write, delete  users:WRITE organization-memberships:delete bogus users:admin ');
    assert.deepEqual(set.grants.map((g) => [g.action, g.resource]), [
      ['write', null],
      ['delete', null],
      ['write', 'users'],
      ['delete', 'organization_memberships'],
    ]);
    assert.deepEqual(set.unknown, ['bogus', 'users:admin']);
    assert.deepEqual(parseScopes(undefined).grants, []);
  });

  test('what each method needs', () => {
    assert.deepEqual(requiredActions('get'), []);
    assert.deepEqual(requiredActions('POST'), ['write']);
    assert.deepEqual(requiredActions('PUT'), ['write']);
    assert.deepEqual(requiredActions('PATCH'), ['write']);
    assert.deepEqual(requiredActions('DELETE'), ['write', 'delete']);
  });

  test('resources are the tags and the first path segment', () => {
    assert.deepEqual(endpointResources(memberships), ['organizations', 'organization_memberships']);
    assert.deepEqual(endpointResources({ path: '/v1/users', tags: [] }), ['users']);
  });

  test('global, narrowed and mixed grants', () => {
    const cases: Array<[string, string, typeof users, boolean]> = [
      ['', 'POST', users, false],
      ['write', 'POST', users, true],
      ['write', 'DELETE', users, false],
      ['write,delete', 'DELETE', users, true],
      ['delete', 'DELETE', users, false],
      ['users:write', 'PATCH', users, true],
      ['users:write', 'PATCH', memberships, false],
      ['organizations:write', 'PATCH', memberships, true],
      ['organization_memberships:write organization_memberships:delete', 'DELETE', memberships, true],
      ['write users:delete', 'DELETE', users, true],
      ['write users:delete', 'DELETE', memberships, false],
      ['organizations:delete', 'DELETE', memberships, false],
    ];
    for (const [raw, method, endpoint, ok] of cases) {
      assert.equal(checkScopes(parseScopes(raw), method, endpoint).ok, ok, `${JSON.stringify(raw)} ${method} ${endpoint.path}`);
    }
  });

  test('a refusal says which scopes would allow it', () => {
    const check = checkScopes(parseScopes('users:write'), 'DELETE', users);
    assert.equal(check.ok, false);
    assert.deepEqual(check.wouldAllow, ['write,delete', 'users:write,users:delete']);
    assert.deepEqual(checkScopes(parseScopes('write,delete'), 'DELETE', users).grantedBy, ['write', 'delete']);
  });
});
