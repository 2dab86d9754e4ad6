import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bapiCurlCommand,
  buildEndpointDetail,
  curlCommand,
  endpointDocument,
  exampleRequest,
  rawEndpoint,
  shellQuote,
} from '../lib/endpoint/detail.js';
import { CYCLE_KEY, findUnresolvedRef } from '../lib/endpoint/resolve.js';
import { buildIndex, HTTP_METHODS } from '../lib/spec/index.js';
import { renderEndpointText } from '../lib/endpoint/render.js';
import { PROJECT_DIR, sharedIndex, sharedSpec, sharedVersions } from './helpers/spec-fixtures.js';

const GOLDEN_DIR = join(PROJECT_DIR, 'test', 'golden');
const GOLDEN_VERSION = '2025-11-10';
const GOLDEN = [
  ['POST', '/users'],
  ['PATCH', '/users/{user_id}'],
  ['GET', '/users'],
  ['POST', '/users/{user_id}/profile_image'],
] as const;

type Obj = Record<string, unknown>;

// An independent, naive reading of the spec's parameters: path-level then operation-level, by in+name.
function specParameters(spec: Obj, method: string, path: string): Obj[] {
  const components = (spec.components ?? {}) as { parameters?: Record<string, Obj> };
  const item = (spec.paths as Record<string, Obj>)[path] as Obj;
  const operation = item[method.toLowerCase()] as Obj;
  const byId = new Map<string, Obj>();
  for (const list of [item.parameters, operation.parameters]) {
    for (const raw of (list ?? []) as Obj[]) {
      const parameter = typeof raw.$ref === 'string' ? (components.parameters?.[raw.$ref.split('/').pop() as string] as Obj) : raw;
      byId.set(`${String(parameter.in)}:${String(parameter.name)}`, parameter);
    }
  }
  return [...byId.values()];
}

describe('buildEndpointDetail over every endpoint of every shared version', () => {
  for (const version of sharedVersions()) {
    it(`${version}: resolves everything, terminates, and keeps the spec's parameters`, () => {
      const { summary, detail } = sharedIndex(version);
      const spec = sharedSpec(version);
      const paths = spec.paths as Record<string, Obj>;
      const specCount = Object.values(paths).reduce((n, item) => n + HTTP_METHODS.filter((m) => typeof item?.[m] === 'object').length, 0);
      assert.equal(summary.endpoints.length, specCount);
      for (const endpoint of summary.endpoints) {
        const label = `${version} ${endpoint.method} ${endpoint.path}`;
        const raw = rawEndpoint(detail, endpoint.method, endpoint.path);
        assert.ok(raw, label);
        const result = buildEndpointDetail(raw, detail.components, version);
        const text = JSON.stringify(result);
        assert.equal(findUnresolvedRef(result), null, `${label}: unresolved $ref`);
        assert.ok(!text.includes('"$ref"') || text.includes('"example'), `${label}: $ref outside examples`);
        for (const ref of result.components) assert.match(ref, /^#\/components\/(schemas|parameters|responses|requestBodies)\/[^/]+$/, label);

        const expected = specParameters(spec, endpoint.method, endpoint.path);
        assert.deepEqual(
          result.parameters.map((p) => [p.in, p.name, p.required, p.description, p.schema]),
          expected.map((p) => [p.in, p.name, p.required === true || p.in === 'path', String(p.description ?? '').trim(), p.schema ?? null]),
          `${label}: parameters`,
        );

        const operation = paths[endpoint.path]?.[endpoint.method.toLowerCase()] as Obj;
        assert.deepEqual(Object.keys(result.responses), Object.keys(operation.responses as Obj), `${label}: responses`);
        assert.equal(result.requestBody === null, operation.requestBody === undefined, `${label}: request body`);
        assert.equal(result.method, endpoint.method);
        assert.equal(result.path, endpoint.path);
        assert.equal(result.operationId, operation.operationId ?? null);
        assert.ok(renderEndpointText(result).startsWith(`${endpoint.method} ${endpoint.path}`), label);
      }
    });
  }
});

describe('buildEndpointDetail on a cyclic spec', () => {
  const spec = {
    openapi: '3.0.3',
    paths: {
      '/trees/{id}': {
        parameters: [{ name: 'id', in: 'path', schema: { type: 'string' } }],
        put: {
          operationId: 'PutTree',
          parameters: [{ $ref: '#/components/parameters/Depth' }],
          requestBody: { $ref: '#/components/requestBodies/Tree' },
          responses: { '200': { $ref: '#/components/responses/Tree' } },
        },
      },
    },
    components: {
      parameters: { Depth: { name: 'depth', in: 'query', required: true, schema: { type: 'integer', enum: [1, 2] } } },
      requestBodies: { Tree: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Tree' } } } } },
      responses: { Tree: { description: 'A tree', content: { 'application/json': { schema: { $ref: '#/components/schemas/Tree' } } } } },
      schemas: {
        Tree: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Tree' } }, parent: { $ref: '#/components/schemas/Link' } },
        },
        Link: { type: 'object', properties: { tree: { $ref: '#/components/schemas/Tree' } } },
      },
    },
  };

  it('terminates, marks each cycle with the component, and lists every component reached', () => {
    const index = buildIndex(spec, { version: 'cyclic', sha: 'x' });
    const raw = rawEndpoint(index.detail, 'PUT', '/trees/{id}');
    assert.ok(raw);
    const result = buildEndpointDetail(raw, index.detail.components, 'cyclic');
    const schema = result.requestBody?.schema as Obj & { properties: Record<string, Obj> };
    assert.deepEqual(schema.properties.children, { type: 'array', items: { [CYCLE_KEY]: '#/components/schemas/Tree' } });
    assert.deepEqual(schema.properties.parent, { type: 'object', properties: { tree: { [CYCLE_KEY]: '#/components/schemas/Tree' } } });
    assert.deepEqual(result.components, [
      '#/components/parameters/Depth',
      '#/components/requestBodies/Tree',
      '#/components/responses/Tree',
      '#/components/schemas/Link',
      '#/components/schemas/Tree',
    ]);
    assert.deepEqual(result.parameters.map((p) => [p.in, p.name, p.required]), [['path', 'id', true], ['query', 'depth', true]]);
    assert.equal(result.responses['200']?.description, 'A tree');
    const text = renderEndpointText(buildEndpointDetail(raw, index.detail.components, 'cyclic', { annotate: true }), { responseDepth: 9 });
    assert.match(text, /children {2}Tree\[\] \(recursive, shown above\)/);
    const example = exampleRequest(result, { pathParams: { id: 'oak 1' } });
    assert.equal(example.path, '/trees/oak%201');
    assert.deepEqual(example.query, [['depth', '1']]);
    assert.deepEqual(example.json, { name: '<name>' });
  });
});

describe('golden details (2025-11-10)', () => {
  const { detail } = sharedIndex(GOLDEN_VERSION);
  for (const [method, path] of GOLDEN) {
    const file = join(GOLDEN_DIR, `${method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/\//g, '-')}.json`);
    it(`${method} ${path} matches ${file.slice(PROJECT_DIR.length + 1)}`, () => {
      const raw = rawEndpoint(detail, method, path);
      assert.ok(raw);
      const actual = `${JSON.stringify(endpointDocument(buildEndpointDetail(raw, detail.components, GOLDEN_VERSION)), null, 2)}\n`;
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, actual);
      }
      assert.equal(actual, readFileSync(file, 'utf8'));
    });
  }

  it('pins the shapes the contract promises', () => {
    const read = (name: string) => JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as Obj;
    const create = read('post-users.json');
    assert.deepEqual(Object.keys(create).slice(0, 11), ['method', 'path', 'operationId', 'summary', 'description', 'tags', 'deprecated', 'parameters', 'requestBody', 'responses', 'components']);
    assert.equal((create.requestBody as Obj).contentType, 'application/json');
    const upload = read('post-users-user_id-profile_image.json');
    assert.equal((upload.requestBody as Obj).contentType, 'multipart/form-data');
    assert.deepEqual(((upload.requestBody as Obj).schema as Obj).properties, { file: { type: 'string', format: 'binary' } });
    const list = read('get-users.json');
    assert.ok((list.parameters as Obj[]).some((p) => p.name === 'limit' && p.in === 'query' && (p.schema as Obj).default === 10));
    assert.ok((list.components as string[]).includes('#/components/schemas/User'));
  });
});

describe('example commands', () => {
  const { detail } = sharedIndex(GOLDEN_VERSION);
  const doc = (method: string, path: string) => buildEndpointDetail(rawEndpoint(detail, method, path)!, detail.components, GOLDEN_VERSION);

  it('keeps given values, puts placeholders for required ones, and never inlines the key', () => {
    const organization = exampleRequest(doc('POST', '/organizations'));
    assert.deepEqual(organization.json, { name: '<name>' });
    assert.equal(bapiCurlCommand(organization, GOLDEN_VERSION), `bapi-curl POST /organizations -d '{"name":"<name>"}' --api-version 2025-11-10`);
    const patch = exampleRequest(doc('PATCH', '/users/{user_id}'));
    assert.equal(patch.path, '/users/<user_id>');
    assert.match(bapiCurlCommand(patch, GOLDEN_VERSION), /^bapi-curl PATCH '\/users\/<user_id>' -d '\{\}'/);
    const list = exampleRequest(doc('GET', '/users'), { query: [['limit', '5']] });
    const curl = curlCommand(list, GOLDEN_VERSION);
    assert.equal(curl.split('\n')[0], `curl -sS -X GET 'https://api.clerk.com/v1/users?limit=5' \\`);
    assert.match(curl, /-H "Authorization: Bearer \$CLERK_SECRET_KEY"/);
    assert.match(curl, /-H 'Clerk-API-Version: 2025-11-10'/);
    assert.equal(curlCommand(list, GOLDEN_VERSION, 'http://127.0.0.1:9/v1/').split(' ')[4], `'http://127.0.0.1:9/v1/users?limit=5'`);
  });

  it('offers the file of a multipart body', () => {
    const upload = exampleRequest(doc('POST', '/users/{user_id}/profile_image'), { pathParams: { user_id: 'user_1' } });
    assert.deepEqual(upload.form, [['file', '@<file>']]);
    assert.match(curlCommand(upload, GOLDEN_VERSION), /-F 'file=@<file>'$/);
    assert.equal(bapiCurlCommand(upload, GOLDEN_VERSION), `bapi-curl POST /users/user_1/profile_image --form 'file=@<file>' --api-version 2025-11-10`);
  });

  it('quotes for the shell', () => {
    assert.equal(shellQuote('/users'), '/users');
    assert.equal(shellQuote(`{"a":"it's"}`), `'{"a":"it'\\''s"}'`);
  });
});
