// The key-custody broker's desk in process (lib/custody/desk.ts): requests that need the person are
// asked one at a time at its terminal, each says how many wait after it, the id typed grants only
// that one, and an empty line refuses at once so the next is asked.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { personDesk } from '../lib/custody/desk.js';
import { memoryApprovalStore } from '../lib/guard/approval-memory.js';
import type { Approval } from '../lib/guard/approvals.js';
import { APPROVAL_KEY, approvalRequest } from './helpers/approval-fixtures.js';
import { memoryIO } from './helpers/in-process.js';
import { keyFingerprint } from '../lib/guard/key.js';

describe('key custody: the desk at the broker terminal', () => {
  it('asks one at a time, says how many wait, grants what was confirmed, and an empty line refuses at once', async () => {
    const io = memoryIO({ NO_COLOR: '1' }, '/');
    const input = new PassThrough();
    const desk = personDesk({ io, input, keyFingerprint: keyFingerprint(APPROVAL_KEY), ttlSeconds: 60 });
    const store = memoryApprovalStore({ person: { where: 'the broker terminal', by: 'broker-terminal' }, onPending: (approval: Approval) => desk.ask(approval) });
    desk.attach(store);
    const pending = (path: string) => store.create(approvalRequest({ method: 'DELETE', path, body: undefined, query: [] }), { status: 'pending', ttlSeconds: 60, report: `report of ${path}\n`, expected: path.split('/').at(-1) as string, consentMode: 'person' });
    const first = pending('/users/user_1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = pending('/users/user_2');
    const third = pending('/users/user_3');
    const screen = () => io.err.join('');
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 200 && !pattern.test(screen()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.match(screen(), pattern);
    };
    // The first is asked as it arrives; the two after it are announced under it.
    await until(/a client asks: DELETE \/users\/user_1 \(apr_[0-9a-f]+\)[\s\S]*\(2 more waiting after this one\)\nType user_1 to confirm/);
    assert.doesNotMatch(screen(), /user_2 \(/, 'the second is not asked while the first is open');
    input.write('user_1\n');
    await until(/a client asks: DELETE \/users\/user_2 \(apr_[0-9a-f]+; 1 more waiting after it\)/);
    input.write('\n');
    await until(/a client asks: DELETE \/users\/user_3 \(apr_[0-9a-f]+\)\n/);
    input.write('user_1\n');
    await until(/Refused: apr_[0-9a-f]+ is denied; nothing is sent\.\n$/);
    assert.equal(store.get(first.id)?.approval.status, 'granted');
    assert.equal(store.get(second.id)?.approval.status, 'denied');
    assert.equal(store.get(third.id)?.approval.status, 'denied', "another request's id does not confirm this one");
    desk.close();
  });
});
