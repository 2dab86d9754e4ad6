import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deprecatedProperties, validateValue } from '../lib/endpoint/validate.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';

const components = {
  schemas: {
    Email: { type: 'object', required: ['email_address'], additionalProperties: false, properties: { email_address: { type: 'string', format: 'email' }, verified: { type: 'boolean' } } },
    Tree: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Tree' } } } },
    Loop: { allOf: [{ $ref: '#/components/schemas/Loop' }] },
    Base: { type: 'object', additionalProperties: false, properties: { id: { type: 'string' } } },
    Cat: { type: 'object', required: ['kind', 'meows'], properties: { kind: { type: 'string', enum: ['cat'] }, meows: { type: 'boolean' } } },
    Dog: { type: 'object', required: ['kind', 'barks'], properties: { kind: { type: 'string', enum: ['dog'] }, barks: { type: 'boolean' } } },
  },
};

describe('validateValue', () => {
  test('format email: a quoted local part is legal ("quoted local"@example.com); a space outside quotes, or no @, is not', () => {
    const email = { type: 'string', format: 'email' };
    for (const good of ['ada@example.com', '"quoted local"@example.com', '"a\\"b"@example.com']) assert.deepEqual(validateValue(good, email, {}), [], good);
    for (const bad of ['ada example.com', 'a b@example.com', '"unclosed@example.com']) assert.equal(validateValue(bad, email, {}).length, 1, bad);
  });

  test('types, required, additionalProperties, at JSON paths', () => {
    const schema = {
      type: 'object',
      required: ['email_address', 'count'],
      additionalProperties: false,
      properties: {
        email_address: { type: 'array', items: { type: 'string' } },
        count: { type: 'integer', minimum: 1 },
        ratio: { type: 'number' },
        name: { type: 'string', nullable: true, maxLength: 3 },
        role: { type: 'string', enum: ['admin', 'member'] },
        'odd key': { type: 'boolean' },
      },
    };
    assert.deepEqual(validateValue({ email_address: ['a@b.c'], count: 2, ratio: 1, name: null }, schema, {}), []);
    const problems = validateValue({ email_address: ['a', 7], count: 1.5, name: 'long', role: 'owner', 'odd key': 'x', extra: true }, schema, {});
    assert.deepEqual(problems, [
      { path: '$.email_address[1]', message: 'expected string, got integer' },
      { path: '$.count', message: 'expected integer, got number' },
      { path: '$.name', message: 'must be at most 3 characters long' },
      { path: '$.role', message: 'must be one of "admin", "member"; got "owner"' },
      { path: '$["odd key"]', message: 'expected boolean, got string' },
      { path: '$.extra', message: 'is not an allowed property (known: email_address, count, ratio, name, role, odd key)', keyword: 'additionalProperties' },
    ]);
    assert.deepEqual(validateValue({ email_address: [] }, schema, {}), [{ path: '$.count', message: 'is required' }]);
    assert.deepEqual(validateValue(null, schema, {}), [{ path: '$', message: 'expected object, got null' }]);
    assert.deepEqual(validateValue({ name: null, count: 0, email_address: [] }, schema, {}), [{ path: '$.count', message: 'must be at least 1' }]);
  });

  test('$ref into components, recursion and self-reference terminate', () => {
    assert.deepEqual(validateValue({ email_address: 'x@y.z' }, { $ref: '#/components/schemas/Email' }, components), []);
    assert.deepEqual(validateValue({ email_address: 'nope', other: 1 }, { $ref: '#/components/schemas/Email' }, components), [
      { path: '$.email_address', message: 'is not a valid email: "nope"' },
      { path: '$.other', message: 'is not an allowed property (known: email_address, verified)', keyword: 'additionalProperties' },
    ]);
    const tree = { name: 'a', children: [{ name: 'b', children: [{ name: 3 }] }] };
    assert.deepEqual(validateValue(tree, { $ref: '#/components/schemas/Tree' }, components), [{ path: '$.children[0].children[0].name', message: 'expected string, got integer' }]);
    assert.deepEqual(validateValue({}, { $ref: '#/components/schemas/Loop' }, components), []);
    assert.deepEqual(validateValue(1, { $ref: '#/components/schemas/Missing' }, components), [{ path: '$', message: 'the schema refers to #/components/schemas/Missing, which the spec does not define' }]);
  });

  test('allOf merges the branches\' properties; oneOf/anyOf need one branch; discriminator picks it', () => {
    const merged = { allOf: [{ $ref: '#/components/schemas/Base' }, { type: 'object', properties: { name: { type: 'string' } } }] };
    assert.deepEqual(validateValue({ id: 'x', name: 'y' }, merged, components), []);
    assert.deepEqual(validateValue({ id: 'x', name: 1 }, merged, components), [{ path: '$.name', message: 'expected string, got integer' }]);
    const pet = { oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }] };
    assert.deepEqual(validateValue({ kind: 'dog', barks: true }, pet, components), []);
    const [problem] = validateValue({ kind: 'dog' }, pet, components);
    assert.equal(problem?.path, '$');
    assert.match(problem?.message ?? '', /matches none of the 2 allowed alternatives \(oneOf\)/);
    const tagged = { ...pet, discriminator: { propertyName: 'kind', mapping: { cat: '#/components/schemas/Cat', dog: '#/components/schemas/Dog' } } };
    assert.deepEqual(validateValue({ kind: 'dog' }, tagged, components), [{ path: '$.barks', message: 'is required' }]);
    assert.deepEqual(validateValue('x', { anyOf: [{ type: 'integer' }, { type: 'string' }] }, {}), []);
    assert.deepEqual(validateValue(null, { nullable: true, allOf: [{ type: 'string' }] }, {}), []);
  });

  test('formats and bounds, loosely', () => {
    assert.deepEqual(validateValue('2025-01-02T03:04:05Z', { type: 'string', format: 'date-time' }, {}), []);
    assert.equal(validateValue('yesterday', { type: 'string', format: 'date-time' }, {}).length, 1);
    assert.deepEqual(validateValue('anything', { type: 'string', format: 'binary' }, {}), []);
    assert.equal(validateValue('abc', { type: 'string', pattern: '^[a-z]+\\d$' }, {}).length, 1);
    assert.equal(validateValue([1, 1], { type: 'array', uniqueItems: true, maxItems: 1 }, {}).length, 2);
    assert.equal(validateValue(5, { type: 'integer', minimum: 5, exclusiveMinimum: true }, {}).length, 1);
  });

  test('deprecated properties are found', () => {
    const schema = { type: 'object', properties: { old: { type: 'string', deprecated: true }, nested: { type: 'object', properties: { gone: { deprecated: true } } } } };
    assert.deepEqual(deprecatedProperties({ old: 'x', nested: { gone: 1 }, fresh: 2 }, schema, {}), ['$.old', '$.nested.gone']);
  });

  test('every request body schema of every shared version can be walked, and the spec examples mostly pass', () => {
    for (const version of sharedVersions()) {
      const { detail } = sharedIndex(version);
      for (const endpoint of Object.values(detail.endpoints)) {
        const body = endpoint.requestBody as { content?: Record<string, { schema?: unknown }> } | null;
        const schema = body?.content?.['application/json']?.schema;
        if (schema === undefined) continue;
        // Must terminate and return an array for odd inputs.
        for (const value of [{}, null, [], 'x', { first_name: 'Ada' }]) assert.ok(Array.isArray(validateValue(value, schema, detail.components)));
      }
    }
  });

  test('a real request body: POST /users in the latest shared version', () => {
    const version = sharedVersions().at(-1) as string;
    const { detail } = sharedIndex(version);
    const schema = (detail.endpoints['POST /users']?.requestBody as { content: Record<string, { schema: unknown }> }).content['application/json']?.schema;
    assert.deepEqual(validateValue({ email_address: ['ada@example.com'], first_name: 'Ada', public_metadata: { plan: 'pro' } }, schema, detail.components), []);
    const problems = validateValue({ email_address: 'ada@example.com', first_name: 1, nope: true }, schema, detail.components);
    assert.deepEqual(problems.map((p) => p.path), ['$.email_address', '$.first_name', '$.nope']);
  });
});
