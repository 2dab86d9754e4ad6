import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { terminalWidth } from '../lib/core/io.js';
import { adviseMetadata, METADATA_TYPES, metadataTable } from '../lib/guard/metadata.js';

describe('metadata advice', () => {
  test('no metadata, no advice', () => {
    assert.equal(adviseMetadata('PATCH', '/users/{user_id}', { first_name: 'Ada' }), null);
    assert.equal(adviseMetadata('PATCH', '/users/{user_id}', undefined), null);
  });

  test('the three types with readable by / writable by / use for', () => {
    assert.deepEqual(METADATA_TYPES.map((t) => t.field), ['public_metadata', 'private_metadata', 'unsafe_metadata']);
    const table = metadataTable(['private_metadata']).join('\n');
    for (const word of ['readable by', 'writable by', 'use for', 'Backend only', 'Frontend']) assert.ok(table.includes(word), word);
    assert.match(table, /^> private_metadata/m);
  });

  test('the table fits a terminal of 80: narrower than its columns, one block per kind with the values wrapped', () => {
    const wide = metadataTable(['public_metadata']);
    assert.equal(wide.length, 4);
    assert.ok(wide.some((row) => row.length > 78), 'the full table is wider than 80 (else this test proves nothing)');
    const narrow = metadataTable(['public_metadata'], 78);
    assert.ok(narrow.every((row) => row.length <= 78), narrow.find((row) => row.length > 78));
    assert.match(narrow.join('\n'), /^> public_metadata$/m);
    assert.match(narrow.join('\n'), /^ {2}private_metadata$/m);
    // Every word of every value is still there, in order.
    const words = (text: string) => text.split(/\s+/).filter(Boolean);
    const flat = words(narrow.join(' '));
    for (const type of METADATA_TYPES) for (const value of [type.readableBy, type.writableBy, type.useFor]) assert.ok(flat.join(' ').includes(words(value).join(' ')), value);
    assert.deepEqual(metadataTable([], 400), metadataTable([]));
    assert.equal(terminalWidth({ write: () => true, isTTY: true, columns: 0 }, { COLUMNS: '100' }), 100);
    assert.equal(terminalWidth({ write: () => true, isTTY: true }, {}), 80);
    assert.equal(terminalWidth({ write: () => true, isTTY: false, columns: 60 }, {}), Infinity);
  });

  test('PATCH /users/{id} replaces; PATCH /users/{id}/metadata merges; PUT …/metadata replaces per field', () => {
    const replace = adviseMetadata('PATCH', '/users/{user_id}', { public_metadata: { plan: 'pro' } });
    assert.equal(replace?.semantics, 'replace');
    assert.deepEqual(replace?.replaces, ['public_metadata']);
    assert.match(replace?.semanticsMessage ?? '', /replaces each metadata object.*PATCH \/users\/\{user_id\}\/metadata, which deep-merges/);
    const merge = adviseMetadata('PATCH', '/users/{user_id}/metadata', { private_metadata: { a: 1 } });
    assert.equal(merge?.semantics, 'merge');
    assert.deepEqual(merge?.replaces, []);
    assert.deepEqual(merge?.warnings, []);
    assert.equal(adviseMetadata('PUT', '/users/{user_id}/metadata', { private_metadata: { a: 1 } })?.semantics, 'replace-field');
    assert.equal(adviseMetadata('POST', '/users', { public_metadata: { a: 1 } })?.semantics, 'create');
    assert.equal(adviseMetadata('PATCH', '/organizations/{organization_id}', { private_metadata: {} })?.semantics, 'replace');
  });

  test('keys that do not fit their type are warned about', () => {
    const advice = adviseMetadata('POST', '/users', {
      public_metadata: { stripe_customer_id: 'cus_1', theme: 'dark', nested: { api_key: 'x' } },
      private_metadata: { stripe_customer_id: 'cus_1' },
      unsafe_metadata: { role: 'admin', password: 'x', favourite_colour: 'blue' },
    });
    const warnings = advice?.warnings ?? [];
    assert.ok(warnings.some((w) => w.startsWith('$.public_metadata.stripe_customer_id') && w.includes('private_metadata')));
    assert.ok(warnings.some((w) => w.startsWith('$.public_metadata.nested.api_key')));
    assert.ok(warnings.some((w) => w.startsWith('$.unsafe_metadata.role') && w.includes('never authorize')));
    assert.ok(warnings.some((w) => w.startsWith('$.unsafe_metadata.password')));
    assert.ok(!warnings.some((w) => w.startsWith('$.private_metadata')));
    assert.ok(!warnings.some((w) => w.includes('theme') || w.includes('favourite_colour')));
  });

  test('a credential-looking value is flagged without printing it, even in private_metadata', () => {
    const token = `sk_live_${'a1'.repeat(15)}`;
    const advice = adviseMetadata('PATCH', '/users/{user_id}/metadata', { private_metadata: { note: token } });
    assert.equal(advice?.warnings.length, 1);
    assert.match(advice?.warnings[0] ?? '', /looks like a credential/);
    assert.ok(!(advice?.warnings[0] ?? '').includes(token));
  });

  test('clearing with null or {} under replace semantics is called out', () => {
    const advice = adviseMetadata('PATCH', '/users/{user_id}', { public_metadata: {} });
    assert.ok(advice?.warnings.some((w) => w.includes('clears every key')));
  });
});
