import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { deriveDestruction, destroysFilePath, destructionFor, loadDestroys, looksDestructive } from '../lib/guard/destruction.js';
import { endpointKey } from '../lib/spec/index.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';

describe('destruction knowledge (specs/destroys.json)', () => {
  test('a ban is split: its revoked sessions are destroyed, sign-in is reversible; ids are concrete', async () => {
    const { destructionFor } = await import('../lib/guard/destruction.js');
    const ban = destructionFor({ method: 'POST', path: '/users/{user_id}/ban' });
    assert.ok(ban.destroys.some((d) => /sessions/.test(d)));
    assert.ok(ban.reversible.some((d) => /sign in: revoked until POST \/users\/\{user_id\}\/unban/.test(d)));
    assert.ok(!ban.destroys.some((d) => /until unbanned/.test(d)));
  });

  const file = loadDestroys();

  test('is plain JSON with a list and a note for each entry', () => {
    assert.doesNotThrow(() => JSON.parse(readFileSync(destroysFilePath(), 'utf8')));
    for (const [key, entry] of Object.entries(file.endpoints)) {
      assert.match(key, /^(DELETE|POST|PUT|PATCH) \/\S+$/, key);
      // What is lost for good, or (a ban, a lock) what is taken away until undone: never nothing.
      const reversible = entry.reversible ?? [];
      assert.ok(Array.isArray(entry.destroys) && Array.isArray(reversible) && entry.destroys.length + reversible.length > 0, `${key} lists nothing`);
      for (const item of [...entry.destroys, ...reversible]) assert.ok(typeof item === 'string' && item.length >= 10, `${key}: ${item}`);
      for (const item of entry.destroys) assert.doesNotMatch(item, /until (unbanned|unlocked|the lock)/, `${key}: "${item}" is reversible: it belongs in reversible`);
      assert.ok(entry.note === null || typeof entry.note === 'string', key);
    }
  });

  for (const version of sharedVersions()) {
    test(`every DELETE endpoint of ${version} has its own curated entry`, () => {
      const deletes = sharedIndex(version).summary.endpoints.filter((e) => e.method === 'DELETE');
      assert.ok(deletes.length > 10);
      const missing = deletes.map((e) => endpointKey(e.method, e.path)).filter((key) => !(key in file.endpoints));
      assert.deepEqual(missing, [], `add these to specs/destroys.json: ${missing.join(', ')}`);
      for (const endpoint of deletes) {
        const destruction = destructionFor({ method: endpoint.method, path: endpoint.path, summary: endpoint.summary });
        assert.equal(destruction.source, 'curated');
        assert.equal(destruction.destructive, true);
      }
    });

    test(`every write of ${version} that names a destructive action (revoke, ban, lock, rotate…) is curated`, () => {
      const { summary } = sharedIndex(version);
      const flagged = summary.endpoints.filter((e) => e.method !== 'DELETE' && looksDestructive(e));
      assert.ok(flagged.some((e) => e.path === '/users/{user_id}/ban'));
      const missing = flagged.map((e) => endpointKey(e.method, e.path)).filter((key) => !(key in file.endpoints));
      assert.deepEqual(missing, [], `add these to specs/destroys.json: ${missing.join(', ')}`);
    });
  }

  test('every curated entry names an endpoint of some shared version (no typos)', () => {
    const known = new Set<string>();
    for (const version of sharedVersions()) for (const e of sharedIndex(version).summary.endpoints) known.add(endpointKey(e.method, e.path));
    const unknown = Object.keys(file.endpoints).filter((key) => !known.has(key));
    assert.deepEqual(unknown, []);
  });

  test('DELETE /users/{user_id} lists the user, sessions, memberships and associated data', () => {
    const { destroys } = destructionFor({ method: 'DELETE', path: '/users/{user_id}' });
    const text = destroys.join('\n');
    for (const word of ['user record', 'sessions', 'organization memberships', 'email addresses', 'phone numbers', 'external', 'metadata']) assert.ok(text.includes(word), word);
    const org = destructionFor({ method: 'DELETE', path: '/organizations/{organization_id}' }).destroys.join('\n');
    for (const word of ['memberships', 'invitations', 'domains', 'logo', 'metadata']) assert.ok(org.includes(word), word);
  });

  test('reads and ordinary writes destroy nothing; unban/unlock are not bans', () => {
    for (const [method, path, summary] of [
      ['GET', '/users/{user_id}', 'Retrieve a user'],
      ['POST', '/users', 'Create a new user'],
      ['POST', '/users/{user_id}/unban', 'Unban a user'],
      ['POST', '/users/{user_id}/unlock', 'Unlock a user'],
      ['PATCH', '/users/{user_id}', 'Update a user'],
    ] as const) {
      assert.equal(destructionFor({ method, path, summary }).destructive, false, `${method} ${path}`);
    }
  });

  test('an endpoint a future version adds gets a list derived from its own words', () => {
    const future = {
      method: 'DELETE',
      path: '/widgets/{widget_id}',
      summary: 'Delete a widget',
      description: 'Deletes the widget. All of its gadgets are removed as well. This is not reversible. Widgets are blue.',
    };
    const destruction = destructionFor(future);
    assert.equal(destruction.source, 'derived');
    assert.equal(destruction.destructive, true);
    assert.equal(destruction.destroys[0], 'the widget identified by {widget_id}');
    assert.ok(destruction.destroys.some((d) => d.includes('All of its gadgets are removed')));
    assert.ok(!destruction.destroys.some((d) => d.includes('blue')));
    assert.match(destruction.note ?? '', /derived from the spec/);
    const revoke = destructionFor({ method: 'POST', path: '/gizmos/{gizmo_id}/revoke', summary: 'Revoke a gizmo', description: '' });
    assert.equal(revoke.source, 'derived');
    assert.deepEqual(deriveDestruction({ method: 'DELETE', path: '/things', summary: '' }), ['the things']);
    // Summaries as Clerk writes them read as English once their verb is gone.
    const head = (summary: string, path = '/users/{user_id}/agent_credentials/{credential_id}') => deriveDestruction({ method: 'DELETE', path, summary })[0];
    assert.equal(head("Delete one of a user's agent credentials"), "one of the user's agent credentials identified by {credential_id}");
    assert.equal(head("Delete all the user's TOTPs", '/users/{user_id}/totp'), "all of the user's TOTPs identified by {user_id}");
    assert.equal(head('Delete multiple users', '/users'), 'the users');
    assert.equal(head('Revoke the given sign-in token', '/sign_in_tokens/{sign_in_token_id}/revoke'), 'the sign-in token identified by {sign_in_token_id}');
  });
});
