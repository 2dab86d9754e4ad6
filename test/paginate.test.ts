import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpResponse } from '../lib/http/client.js';
import { pageItems, pageWindow, paginate, splitArrayItems } from '../lib/http/paginate.js';

function response(body: unknown, status = 200, raw?: string): HttpResponse {
  return { status, statusText: '', headers: { 'content-type': 'application/json' }, body: Buffer.from(raw ?? JSON.stringify(body)), url: 'x', attempts: 1 };
}

describe('splitArrayItems', () => {
  it('splits like JSON.parse + JSON.stringify for compact arrays', () => {
    const samples: unknown[][] = [
      [],
      [1, 'two', null, true, { a: [1, { b: '}' }] }],
      [{ s: 'quote \\" comma , bracket ] brace } backslash \\\\' }, { e: '\\\\' }, '\\"', [[], {}]],
      [{ unicode: 'é ✓ \u2028' }],
    ];
    for (const sample of samples) {
      assert.deepEqual(splitArrayItems(JSON.stringify(sample)), sample.map((item) => JSON.stringify(item)));
    }
    assert.deepEqual(splitArrayItems(' [ 1 , {"a":2} ]\n'), ['1', '{"a":2}']);
  });
  it('gives up on what it cannot split safely, so the caller parses', () => {
    for (const text of ['{"data":[]}', '[1,2', '[1,,2]', '[1,]', '["a]', '[{"a":\n1}]', '[1] x', '']) {
      assert.equal(splitArrayItems(text), null, text);
    }
  });
});

describe('pageItems', () => {
  it('reads arrays and {data, total_count} pages; refuses other answers', () => {
    assert.deepEqual(pageItems(response([{ id: 1 }])), { items: ['{"id":1}'], totalCount: null });
    assert.deepEqual(pageItems(response({ data: [{ id: 1 }], total_count: 7 })), { items: ['{"id":1}'], totalCount: 7 });
    assert.deepEqual(pageItems(response(null, 200, '[\n  {\n    "id": 1\n  }\n]')), { items: ['{"id":1}'], totalCount: null });
    assert.throws(() => pageItems(response({ id: 1 })), /neither an array nor/);
    assert.throws(() => pageItems(response(null, 200, '[{"id":')), /not valid JSON/);
  });
});

describe('paginate', () => {
  it('walks limit/offset until a short page and hands items on in order', async () => {
    const all = Array.from({ length: 23 }, (_, i) => ({ i }));
    const asked: string[] = [];
    const seen: string[] = [];
    const result = await paginate({
      query: [['order_by', '+created_at']],
      limit: 10,
      offset: 0,
      fetchPage: async (query) => {
        asked.push(new URLSearchParams(query).toString());
        const params = new URLSearchParams(query);
        const offset = Number(params.get('offset'));
        return response(all.slice(offset, offset + Number(params.get('limit'))));
      },
      onItems: async (items) => void seen.push(...items),
    });
    assert.deepEqual(asked, ['order_by=%2Bcreated_at&limit=10&offset=0', 'order_by=%2Bcreated_at&limit=10&offset=10', 'order_by=%2Bcreated_at&limit=10&offset=20']);
    assert.deepEqual(seen, all.map((item) => JSON.stringify(item)));
    assert.deepEqual(result, { pages: 3, items: 23, failed: null });
  });
  it('stops at total_count without asking for an empty page, and at an HTTP error', async () => {
    let calls = 0;
    const result = await paginate({
      query: [],
      limit: 2,
      offset: 0,
      fetchPage: async () => (++calls === 1 ? response({ data: [1, 2], total_count: 2 }) : response({}, 500)),
      onItems: async () => undefined,
    });
    assert.equal(calls, 1);
    assert.equal(result.items, 2);
    const failing = await paginate({ query: [], limit: 2, offset: 0, fetchPage: async () => response({ errors: [] }, 503), onItems: async () => undefined });
    assert.equal(failing.failed?.status, 503);
  });
  it('pageWindow takes the user limit and offset out of the query', () => {
    assert.deepEqual(pageWindow([['limit', '5'], ['offset', '10'], ['q', 'x']], 500), { query: [['q', 'x']], limit: 5, offset: 10 });
    assert.deepEqual(pageWindow([], 500), { query: [], limit: 500, offset: 0 });
  });
});
