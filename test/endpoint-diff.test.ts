import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildEndpointDetail, rawEndpoint, type EndpointDetail } from '../lib/endpoint/detail.js';
import { diffEndpoint, flattenFields } from '../lib/endpoint/diff.js';
import { renderDiffText } from '../lib/endpoint/render.js';
import { sharedIndex } from './helpers/spec-fixtures.js';

function detail(overrides: Partial<EndpointDetail>): EndpointDetail {
  return {
    method: 'POST', path: '/things', operationId: 'CreateThing', summary: '', description: '', tags: [], deprecated: false,
    parameters: [], requestBody: null, responses: {}, components: [], version: 'v', ...overrides,
  };
}

const body = (schema: unknown, required = true) => ({ required, contentType: 'application/json', contentTypes: ['application/json'], description: '', schema });

describe('flattenFields', () => {
  it('lists nested fields by path with their required-ness, through arrays, allOf and oneOf', () => {
    const fields = flattenFields({
      type: 'object',
      required: ['a'],
      properties: {
        a: { type: 'array', items: { type: 'object', required: ['b'], properties: { b: { type: 'string', enum: ['x'] } } } },
        c: { allOf: [{ type: 'object', properties: { d: { type: 'integer', nullable: true } } }] },
        e: { oneOf: [{ type: 'object', properties: { f: { type: 'string' } } }, { type: 'object', properties: { g: { type: 'string' } } }] },
      },
    });
    assert.deepEqual([...fields.keys()], ['a', 'a[].b', 'c', 'c.d', 'e', 'e.f', 'e.g']);
    assert.deepEqual(fields.get('a[].b'), { type: 'string', required: true, nullable: false, enum: ['x'], itemsEnum: null, deprecated: false, constraints: {} });
    assert.equal(fields.get('c.d')?.nullable, true);
  });
});

describe('diffEndpoint', () => {
  it("a query parameter's array items losing enum values is a breaking change, as in a body array (GET /organization_domains, enrollment_mode[])", () => {
    const d = sharedIndex('2025-11-10').detail;
    const before = buildEndpointDetail(rawEndpoint(d, 'GET', '/organization_domains')!, d.components, '2025-11-10');
    const parameter = before.parameters.find((p) => p.name.startsWith('enrollment_mode'))!;
    const items = (parameter.schema as { items: { enum: string[] } }).items;
    assert.ok(items.enum.length > 1, 'the real spec has an enum on the items');
    const after: EndpointDetail = { ...before, parameters: before.parameters.map((p) => (p === parameter ? { ...p, schema: { ...(p.schema as object), items: { ...items, enum: items.enum.slice(0, 1) } } } : p)) };
    const diff = diffEndpoint(before, after, '2025-11-10', 'x');
    const change = diff.changes.find((c) => c.kind === 'parameter' && c.aspect === 'items enum');
    assert.ok(change, JSON.stringify(diff.changes));
    assert.equal(change.breaking, true);
    assert.match(change.message, new RegExp(`items enum -${items.enum[1]}`));
    assert.equal(diff.breaking, true);
  });

  it('reports added and removed endpoints', () => {
    const thing = detail({});
    assert.equal(diffEndpoint(null, thing, 'a', 'b').status, 'added');
    const removed = diffEndpoint(thing, null, 'a', 'b');
    assert.equal(removed.status, 'removed');
    assert.equal(removed.breaking, true);
    assert.throws(() => diffEndpoint(null, null, 'a', 'b'), TypeError);
  });

  it('reports parameter, body field and response changes, with breaking ones marked', () => {
    const before = detail({
      parameters: [
        { name: 'id', in: 'path', required: true, description: '', deprecated: false, schema: { type: 'string' } },
        { name: 'old', in: 'query', required: false, description: '', deprecated: false, schema: { type: 'string' } },
        { name: 'mode', in: 'query', required: false, description: '', deprecated: false, schema: { type: 'string', enum: ['a', 'b'] } },
      ],
      requestBody: body({ type: 'object', properties: { name: { type: 'string' }, gone: { type: 'object', properties: { x: { type: 'string' } } } } }),
      responses: { '200': { description: '', contentType: 'application/json', schema: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } } } }, '404': { description: '', contentType: null, schema: null } },
    });
    const after = detail({
      parameters: [
        { name: 'id', in: 'path', required: true, description: '', deprecated: false, schema: { type: 'string' } },
        { name: 'mode', in: 'query', required: true, description: '', deprecated: false, schema: { type: 'string', enum: ['a', 'c'] } },
        { name: 'new', in: 'query', required: false, description: '', deprecated: false, schema: { type: 'string' } },
      ],
      requestBody: body({ type: 'object', required: ['name', 'extra'], properties: { name: { type: 'string' }, extra: { type: 'boolean' } } }),
      responses: { '200': { description: '', contentType: 'application/json', schema: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'string' }, more: { type: 'string' } } } } },
    });
    const diff = diffEndpoint(before, after, '2025-04-10', '2025-11-10');
    assert.equal(diff.status, 'changed');
    assert.equal(diff.breaking, true);
    const lines = diff.changes.map((c) => `${c.breaking ? '!' : ' '} ${c.message}`);
    assert.deepEqual(lines, [
      '! query parameter old removed',
      '! query parameter mode: now required',
      '! query parameter mode: enum +c -b',
      '  query parameter new added (optional)',
      '! body field name: now required',
      '! body field gone removed',
      '! body field extra added (boolean, required)',
      '! response 200 field n: type integer → string',
      '  response 200 field more added (string)',
      '  response 404 removed',
    ]);
    const text = renderDiffText(diff);
    assert.match(text, /^POST \/things: 2025-04-10 → 2025-11-10\n/);
    assert.match(text, / {2}- query parameter old removed {2}\(breaking\)/);
    assert.match(text, /10 changes, 7 possibly breaking\n$/);
  });

  it('finds no change for an endpoint identical in two versions, and real changes in Clerk\'s billing endpoints', () => {
    const a = sharedIndex('2025-04-10').detail;
    const b = sharedIndex('2025-11-10').detail;
    const of = (d: typeof a, v: string, method: string, path: string) => buildEndpointDetail(rawEndpoint(d, method, path)!, d.components, v);
    const same = diffEndpoint(of(a, '2025-04-10', 'GET', '/users/{user_id}'), of(b, '2025-11-10', 'GET', '/users/{user_id}'), '2025-04-10', '2025-11-10');
    assert.equal(same.status, 'unchanged');
    assert.equal(renderDiffText(same), 'GET /users/{user_id}: 2025-04-10 → 2025-11-10\n  no changes\n');
    const path = '/users/{user_id}/billing/subscription';
    const billing = diffEndpoint(of(a, '2025-04-10', 'GET', path), of(b, '2025-11-10', 'GET', path), '2025-04-10', '2025-11-10');
    assert.equal(billing.status, 'changed');
    assert.ok(billing.changes.some((c) => c.change === 'removed' && c.name === 'subscription_items[].payment_source'));
    // A removed object is one change, not one per nested field.
    assert.ok(!billing.changes.some((c) => c.name.startsWith('subscription_items[].payment_source.')));
  });
});
