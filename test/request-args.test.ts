import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../lib/core/errors.js';
import { callFromArgs, callFromJson, parseHeader, type RawRequestArgs } from '../lib/request/args.js';
import { redactBody, typedValue } from '../lib/request/body.js';

/** The body as JSON sees it: built bodies have no prototype, which deepEqual would otherwise compare. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function args(extra: Partial<RawRequestArgs>): RawRequestArgs {
  return { method: 'POST', path: '/users', rawFields: [], typedFields: [], query: [], form: [], headers: [], cwd: tmpdir(), ...extra };
}

describe('callFromArgs', () => {
  it('builds a JSON body from -f and -F, nesting key[sub] and key[]', () => {
    const call = callFromArgs(args({ rawFields: ['first_name=1906', 'public_metadata[plan]=pro'], typedFields: ['email_address[]=a@b.co', 'email_address[]=c@d.co', 'skip_password_checks=true', 'public_metadata[seats]=5', 'x=null'] }));
    assert.deepEqual(plain(call.body), { first_name: '1906', public_metadata: { plan: 'pro', seats: 5 }, email_address: ['a@b.co', 'c@d.co'], skip_password_checks: true, x: null });
    assert.equal(Object.getPrototypeOf(call.body), null, 'a body built from fields has no prototype');
  });

  it('types -F by the spec where it knows the field', () => {
    const fieldType = (name: string) => (name === 'first_name' ? 'string' : name === 'public_metadata' ? 'object' : null) as never;
    const call = callFromArgs(args({ typedFields: ['first_name=1906', 'public_metadata={"a":[1]}', 'n=12'], fieldType }));
    assert.deepEqual(plain(call.body), { first_name: '1906', public_metadata: { a: [1] }, n: 12 });
    assert.throws(() => callFromArgs(args({ typedFields: ['public_metadata={oops'], fieldType })), UsageError);
  });

  it('reads -d from an argument, @file and stdin, and merges fields over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'request-args-'));
    writeFileSync(join(dir, 'body.json'), '{"first_name":"Ada"}');
    assert.deepEqual(callFromArgs(args({ data: '@body.json', cwd: dir, rawFields: ['last_name=L'] })).body, { first_name: 'Ada', last_name: 'L' });
    assert.deepEqual(callFromArgs(args({ data: '-', readStdin: () => '[1,2]' })).body, [1, 2]);
    assert.throws(() => callFromArgs(args({ data: '{nope' })), /-d body is not valid JSON/);
    assert.throws(() => callFromArgs(args({ data: '@missing.json', cwd: dir })), /cannot read/);
    assert.throws(() => callFromArgs(args({ data: '[1]', rawFields: ['a=b'] })), /JSON object/);
  });

  it('puts fields of a GET in the query, after PATH query and -q', () => {
    const call = callFromArgs(args({ method: 'get', path: '/users?limit=2', query: ['order_by=-created_at', 'user_id=a', 'user_id=b'], typedFields: ['offset=4'] }));
    assert.equal(call.method, 'GET');
    assert.equal(call.path, '/users');
    assert.deepEqual(call.query, [['limit', '2'], ['order_by', '-created_at'], ['user_id', 'a'], ['user_id', 'b'], ['offset', '4']]);
    assert.equal(call.body, undefined);
  });

  it('parses --form fields and refuses mixing them with a JSON body', () => {
    const call = callFromArgs(args({ path: '/users/u/profile_image', form: ['file=@avatar.png', 'note=hi'], cwd: '/tmp' }));
    assert.deepEqual(call.form, [{ name: 'file', file: '/tmp/avatar.png', type: 'image/png' }, { name: 'note', value: 'hi' }]);
    const typed = callFromArgs(args({ path: '/users/u/profile_image', form: ['file=@photo.bin;type=image/jpeg'], cwd: '/tmp' }));
    assert.deepEqual(typed.form, [{ name: 'file', file: '/tmp/photo.bin', type: 'image/jpeg' }]);
    assert.throws(() => callFromArgs(args({ form: ['file=@a.png', 'file=@b.png'] })), /given twice/);
    assert.throws(() => callFromArgs(args({ form: ['file=@a'], data: '{}' })), UsageError);
  });

  it('refuses field names that reach a prototype, and leaves Object.prototype alone', () => {
    for (const key of ['__proto__[CLERK_BAPI_SCOPES]', 'constructor[prototype][x]', 'a[__proto__][b]', 'prototype', '__proto__']) {
      assert.throws(() => callFromArgs(args({ rawFields: [`${key}=write,delete`] })), /is not allowed in a field name/, key);
      assert.throws(() => callFromArgs(args({ typedFields: [`${key}=1`] })), /is not allowed in a field name/, key);
    }
    assert.equal(({} as Record<string, unknown>).CLERK_BAPI_SCOPES, undefined);
    // A -d body that has a "__proto__" key keeps it as a field, and a field merged under it does not climb.
    const call = callFromArgs(args({ data: '{"__proto__":{"x":1}}', rawFields: ['first_name=A'] }));
    assert.deepEqual(Object.keys(call.body as object).sort(), ['__proto__', 'first_name']);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('refuses a body nested deeper than 64 levels (exit 2, not a stack overflow)', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    assert.throws(() => callFromArgs(args({ data: deep })), (error: Error) => error instanceof UsageError && /nests deeper than 64/.test(error.message));
    assert.doesNotThrow(() => callFromArgs(args({ data: `${'['.repeat(60)}${']'.repeat(60)}` })));
  });

  it('refuses an unknown method and malformed pairs', () => {
    assert.throws(() => callFromArgs(args({ method: 'FETCH' })), /not an HTTP method/);
    assert.throws(() => callFromArgs(args({ rawFields: ['novalue'] })), /key=value/);
    assert.throws(() => callFromArgs(args({ rawFields: ['a]b=1'] })), UsageError);
  });
});

describe('parseHeader', () => {
  it('lower-cases the name and refuses Authorization, Host and line breaks', () => {
    assert.deepEqual(parseHeader('X-Trace:  abc '), ['x-trace', 'abc']);
    for (const raw of ['Authorization: Bearer x', 'host: x', 'no colon', 'X: a\r\nEvil: 1', 'Bad Name: x']) assert.throws(() => parseHeader(raw), UsageError, raw);
  });

  it('refuses headers that would change the judged request: version, content type, method override', () => {
    for (const raw of ['Clerk-API-Version: 2021-02-05', 'Content-Type: text/plain', 'X-HTTP-Method-Override: DELETE', 'x-method-override: DELETE']) {
      assert.throws(() => parseHeader(raw), /would change the request the guard judged/, raw);
    }
  });
});

describe('typedValue', () => {
  it('types as gh does when the spec does not know the field', () => {
    assert.equal(typedValue('true', null), true);
    assert.equal(typedValue('12', null), 12);
    assert.equal(typedValue('012a', null), '012a');
    assert.equal(typedValue('{"a":1}', null) instanceof Object, true);
    assert.equal(typedValue('12', 'string'), '12');
    assert.equal(typedValue('12', 'integer'), 12);
  });
});

describe('callFromJson', () => {
  it('takes {method, path, query, body} with query as object or pairs', () => {
    const call = callFromJson('{"method":"patch","path":"/v1/users/u1?x=1","query":{"a":["1","2"]},"body":{"first_name":"A"}}');
    assert.equal(call.method, 'PATCH');
    assert.equal(call.path, '/v1/users/u1');
    assert.deepEqual(call.query, [['x', '1'], ['a', '1'], ['a', '2']]);
    assert.deepEqual(call.body, { first_name: 'A' });
    assert.deepEqual(callFromJson('{"method":"GET","path":"/users","query":[["limit","1"]]}').query, [['limit', '1']]);
  });
  it('takes a guard verdict with its approval, and refuses one that is not allowed', () => {
    const verdict = { allowed: true, request: { method: 'DELETE', path: '/users/u1', query: [], body: null }, approval: { id: 'apv_1', expiresAt: 'x' } };
    const call = callFromJson(JSON.stringify(verdict));
    assert.equal(call.approvalId, 'apv_1');
    assert.equal(call.body, undefined);
    assert.throws(() => callFromJson(JSON.stringify({ ...verdict, allowed: false })), /does not allow/);
    assert.throws(() => callFromJson('[]'), UsageError);
    assert.throws(() => callFromJson('{"path":"/users"}'), /method/);
  });
});

describe('redactBody', () => {
  it('hides secret-looking fields at any depth', () => {
    assert.deepEqual(redactBody({ password: 'p', a: { totp_code: 1, name: 'n' }, list: [{ secret: 's' }] }), {
      password: '[redacted]',
      a: { totp_code: '[redacted]', name: 'n' },
      list: [{ secret: '[redacted]' }],
    });
  });
});
