import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildIndex, endpointKey, HTTP_METHODS, isPlatform, tagCounts, visibleEndpoints } from '../lib/spec/index.js';
import { sharedIndex, sharedSpec, sharedVersions } from './helpers/spec-fixtures.js';

type Obj = Record<string, unknown>;

describe('the index of every shared spec version', () => {
  for (const version of sharedVersions()) {
    it(`${version}: endpoints and tags match the parsed YAML`, () => {
      const spec = sharedSpec(version);
      const index = sharedIndex(version);
      const expected: string[] = [];
      for (const [path, item] of Object.entries(spec.paths as Obj)) {
        for (const method of Object.keys(item as Obj)) {
          if ((HTTP_METHODS as readonly string[]).includes(method)) expected.push(endpointKey(method, path));
        }
      }
      const actual = index.summary.endpoints.map((e) => endpointKey(e.method, e.path));
      assert.deepEqual([...actual].sort(), [...expected].sort());
      assert.equal(Object.keys(index.detail.endpoints).length, expected.length);
      const declared = (spec.tags as Obj[]).map((t) => t.name);
      assert.deepEqual(index.summary.tags.slice(0, declared.length).map((t) => t.name), declared);
      for (const endpoint of index.summary.endpoints) {
        for (const tag of endpoint.tags) assert.ok(index.summary.tags.some((t) => t.name === tag), `tag ${tag} listed`);
      }
      // Tag counts add up to the endpoints' tag memberships.
      const memberships = index.summary.endpoints.reduce((n, e) => n + e.tags.length, 0);
      assert.equal(tagCounts(index.summary, true).reduce((n, t) => n + t.endpoints, 0), memberships);
    });
  }

  it('leaves empty path items out (the real spec has /aws_credentials: {})', () => {
    const index = sharedIndex('2025-11-10');
    assert.ok('/aws_credentials' in (sharedSpec('2025-11-10').paths as Obj));
    assert.equal(index.summary.endpoints.filter((e) => e.path === '/aws_credentials').length, 0);
  });

  it('keeps raw operations with their $refs, and the components they point into', () => {
    const detail = sharedIndex('2025-11-10').detail;
    const deleteUser = detail.endpoints['DELETE /users/{user_id}'];
    assert.ok(deleteUser);
    assert.equal(deleteUser.operationId, 'DeleteUser');
    assert.deepEqual(deleteUser.responses['200'], { $ref: '#/components/responses/DeletedObject' });
    assert.ok(detail.components.responses?.DeletedObject);
    assert.ok(detail.components.schemas?.User);
  });
});

describe('buildIndex', () => {
  const spec = {
    openapi: '3.0.3',
    info: { title: 'T' },
    tags: [{ name: 'Users', description: 'People\nand more' }, { name: 'Platform Apps' }],
    paths: {
      '/users/{user_id}': {
        parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string' }, description: 'item level' }],
        get: { operationId: 'GetUser', summary: ' Get a user ', tags: ['Users'] },
        delete: {
          operationId: 'DeleteUser',
          tags: ['Users'],
          deprecated: true,
          parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string' }, description: 'op level' }],
        },
      },
      '/empty': {},
      '/platform/apps': { get: { tags: ['Platform Apps'] } },
      '/orphans': { post: { tags: ['Undeclared'] } },
    },
  };

  it('merges path-item parameters, operation ones winning', () => {
    const index = buildIndex(spec, { version: 'v', sha: 's' });
    const get = index.detail.endpoints['GET /users/{user_id}'];
    const del = index.detail.endpoints['DELETE /users/{user_id}'];
    assert.equal((get?.parameters[0] as Obj).description, 'item level');
    assert.equal(del?.parameters.length, 1);
    assert.equal((del?.parameters[0] as Obj).description, 'op level');
    assert.equal(del?.deprecated, true);
    assert.equal(get?.summary, 'Get a user');
  });

  it('marks platform endpoints and hides them unless asked', () => {
    const index = buildIndex(spec, { version: 'v', sha: 's' });
    assert.equal(index.summary.endpoints.length, 4);
    assert.equal(visibleEndpoints(index.summary, false).length, 3);
    assert.deepEqual(tagCounts(index.summary, false).map((t) => t.name), ['Users', 'Undeclared']);
    assert.deepEqual(tagCounts(index.summary, true).map((t) => [t.name, t.endpoints]), [['Users', 2], ['Platform Apps', 1], ['Undeclared', 1]]);
  });

  it('recognises platform by path or tag, not by substrings of other words', () => {
    assert.equal(isPlatform('/platform/applications', []), true);
    assert.equal(isPlatform('/users', ['Platform']), true);
    assert.equal(isPlatform('/users/{id}/platforms_x', []), false);
  });

  it('rejects documents without paths', () => {
    assert.throws(() => buildIndex({ openapi: '3.0.0' }, { version: 'v', sha: 's' }), /no `paths`/);
  });
});
