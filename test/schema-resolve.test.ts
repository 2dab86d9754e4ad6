import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMPONENT_KEY, CYCLE_KEY, findUnresolvedRef, lookupRef, resolveRefs, SchemaResolver } from '../lib/endpoint/resolve.js';

const components = {
  schemas: {
    Node: {
      type: 'object',
      properties: { id: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } },
    },
    A: { type: 'object', properties: { b: { $ref: '#/components/schemas/B' } } },
    B: { type: 'object', properties: { a: { $ref: '#/components/schemas/A', description: 'back to A' } } },
    Base: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
    Named: { allOf: [{ $ref: '#/components/schemas/Base' }, { type: 'object', required: ['name'], properties: { name: { type: 'string' } } }] },
    Closed: { type: 'object', additionalProperties: false, properties: { x: { type: 'string' } } },
    Extended: { allOf: [{ $ref: '#/components/schemas/Closed' }, { properties: { y: { type: 'string' } } }] },
    Conflict: { allOf: [{ properties: { x: { type: 'string' } } }, { properties: { x: { type: 'integer' } } }] },
    SelfAllOf: { allOf: [{ $ref: '#/components/schemas/SelfAllOf' }] },
    Weird: { type: 'object', properties: { default: { type: 'string' }, example: { $ref: '#/components/schemas/Base' } }, example: { $ref: 'not a ref' } },
    'a/b~c': { type: 'string' },
  },
  parameters: { Limit: { name: 'limit', in: 'query', schema: { type: 'integer', default: 10 } } },
};

describe('lookupRef', () => {
  it('follows JSON pointers with escapes, and only local component references', () => {
    assert.deepEqual(lookupRef(components, '#/components/schemas/a~1b~0c'), { type: 'string' });
    assert.equal(lookupRef(components, '#/components/schemas/Missing'), undefined);
    assert.equal(lookupRef(components, 'other.yml#/components/schemas/A'), undefined);
    assert.equal(lookupRef(components, '#/components/schemas/toString'), undefined);
  });
});

describe('SchemaResolver', () => {
  it('cuts a self-reference with a $cycle marker and lists the component', () => {
    const { value, components: reached } = resolveRefs({ $ref: '#/components/schemas/Node' }, components);
    assert.deepEqual(value, {
      type: 'object',
      properties: { id: { type: 'string' }, children: { type: 'array', items: { [CYCLE_KEY]: '#/components/schemas/Node' } } },
    });
    assert.deepEqual(reached, ['#/components/schemas/Node']);
    assert.equal(findUnresolvedRef(value), null);
  });

  it('cuts an indirect cycle where it closes, keeping the reference siblings', () => {
    const { value, components: reached } = resolveRefs({ $ref: '#/components/schemas/A' }, components);
    assert.deepEqual(value, {
      type: 'object',
      properties: { b: { type: 'object', properties: { a: { [CYCLE_KEY]: '#/components/schemas/A', description: 'back to A' } } } },
    });
    assert.deepEqual(reached, ['#/components/schemas/A', '#/components/schemas/B']);
  });

  it('resolves the same component twice when it is not a cycle (siblings, not ancestors)', () => {
    const { value } = resolveRefs({ type: 'object', properties: { x: { $ref: '#/components/schemas/Base' }, y: { $ref: '#/components/schemas/Base' } } }, components);
    const properties = (value as { properties: Record<string, unknown> }).properties;
    assert.deepEqual(properties.x, components.schemas.Base);
    assert.deepEqual(properties.y, components.schemas.Base);
  });

  it('merges allOf into one object when that changes nothing', () => {
    const { value } = resolveRefs({ $ref: '#/components/schemas/Named' }, components);
    assert.deepEqual(value, { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } });
  });

  it('merges a one-member allOf with its wrapper, the wrapper\'s description winning', () => {
    const { value } = resolveRefs({ allOf: [{ $ref: '#/components/schemas/Base' }], description: 'the base', nullable: true }, components);
    assert.deepEqual(value, { type: 'object', required: ['id'], properties: { id: { type: 'string' } }, description: 'the base', nullable: true });
  });

  it('keeps allOf when merging would change the meaning', () => {
    const extended = resolveRefs({ $ref: '#/components/schemas/Extended' }, components).value as { allOf?: unknown[] };
    assert.equal(extended.allOf?.length, 2);
    const conflict = resolveRefs({ $ref: '#/components/schemas/Conflict' }, components).value as { allOf?: unknown[] };
    assert.equal(conflict.allOf?.length, 2);
  });

  it('terminates on an allOf that includes itself', () => {
    const { value } = resolveRefs({ $ref: '#/components/schemas/SelfAllOf' }, components);
    assert.deepEqual(value, { allOf: [{ [CYCLE_KEY]: '#/components/schemas/SelfAllOf' }] });
  });

  it('treats examples as data and property names as names', () => {
    const { value } = resolveRefs({ $ref: '#/components/schemas/Weird' }, components);
    const weird = value as { properties: Record<string, unknown>; example: unknown };
    assert.deepEqual(weird.properties.default, { type: 'string' });
    assert.deepEqual(weird.properties.example, components.schemas.Base);
    assert.deepEqual(weird.example, { $ref: 'not a ref' });
    assert.equal(findUnresolvedRef(value), null);
  });

  it('marks a reference it cannot follow, and findUnresolvedRef reports it', () => {
    const { value, components: reached } = resolveRefs({ items: { $ref: '#/components/schemas/Missing' } }, components);
    assert.deepEqual(value, { items: { $unresolved: '#/components/schemas/Missing' } });
    assert.deepEqual(reached, []);
    assert.equal(findUnresolvedRef(value), '$.items');
    assert.equal(findUnresolvedRef({ a: [{ $ref: '#/x' }] }), '$.a[0]');
  });

  it('annotates component names only when asked, and never mutates its input', () => {
    const before = structuredClone(components);
    const resolver = new SchemaResolver(components, { annotate: true });
    const value = resolver.resolve({ $ref: '#/components/parameters/Limit' }) as Record<string, unknown>;
    assert.equal(value[COMPONENT_KEY], '#/components/parameters/Limit');
    assert.deepEqual(resolver.components(), ['#/components/parameters/Limit']);
    assert.equal((new SchemaResolver(components).resolve({ $ref: '#/components/parameters/Limit' }) as Record<string, unknown>)[COMPONENT_KEY], undefined);
    assert.deepEqual(components, before);
  });
});
