import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { UsageError } from '../lib/core/errors.js';
import { findNativeJq, JqError, patchJqWasmSource, runJq } from '../lib/http/jq.js';

const wasm = { pretty: false, env: { CLERK_BAPI_JQ: 'wasm' } };
const native = findNativeJq({ PATH: process.env.PATH });

describe('jq', () => {
  it('patches jq-wasm 1.0.1 (all four spots found)', () => {
    const file = createRequire(import.meta.url).resolve('jq-wasm/dist/build/jq.js');
    const patched = patchJqWasmSource(readFileSync(file, 'utf8'));
    assert.ok(patched !== null);
    assert.match(patched, /stdinBuffer\.subarray\(1\)/);
    assert.equal(patchJqWasmSource('not jq-wasm'), null);
  });

  it('the built-in jq agrees with native jq: raw strings, compact values, several inputs', async () => {
    const input = '{"a":[1,{"b":"x"}],"s":"str"}\n{"a":[],"s":"t"}';
    for (const filter of ['.s', '.a', '.a | length', '{s}', 'select(.s == "t")']) {
      const mine = await runJq(filter, input, wasm);
      if (native) assert.equal(mine, await runJq(filter, input, { pretty: false, env: { PATH: process.env.PATH } }), filter);
      else assert.ok(mine.length > 0);
    }
    assert.equal(await runJq('.s', input, wasm), 'str\nt\n');
    assert.equal(await runJq('.a', '{"a":[1,2]}', { ...wasm, pretty: true }), '[\n  1,\n  2\n]\n');
  });

  it('a bad filter is a usage error; a filter that does not fit the input is a runtime error', async () => {
    for (const options of [wasm, ...(native ? [{ pretty: false, env: { PATH: process.env.PATH } }] : [])]) {
      await assert.rejects(runJq('.[', '{}', options), UsageError);
      await assert.rejects(runJq('.a.b', '{"a":"x"}', options), JqError);
      await assert.rejects(runJq('.', '{"a":', options), JqError);
    }
  });

  it('the built-in jq takes a 1 MB response in well under a second', async () => {
    const users = Array.from({ length: 1500 }, (_, i) => ({ id: `user_${i}`, email: `u${i}@example.com`, public_metadata: { plan: 'pro', tags: ['a', 'b', 'c'] }, pad: 'x'.repeat(560) }));
    const text = JSON.stringify(users);
    assert.ok(text.length > 1_000_000);
    await runJq('.', '{}', wasm);
    const started = performance.now();
    const out = await runJq('map(.id) | length', text, wasm);
    const identity = await runJq('.', text, wasm);
    const elapsed = performance.now() - started;
    assert.equal(out, '1500\n');
    assert.equal(identity.length, text.length + 1);
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms (jq-wasm as shipped: about 100 s)`);
  });

  it('finds jq through CLERK_BAPI_JQ or PATH, and "wasm" forces the built-in one', () => {
    assert.equal(findNativeJq({ CLERK_BAPI_JQ: 'wasm', PATH: process.env.PATH }), null);
    assert.equal(findNativeJq({ PATH: '/nonexistent' }), null);
    assert.equal(findNativeJq({ CLERK_BAPI_JQ: '/nonexistent/jq' }), null);
  });
});
