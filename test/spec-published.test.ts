// Which specs count as published (lib/spec/published.ts): the shas shipped in specs/published.json,
// or the official repository over HTTPS; anything else is unverified.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { provenanceOf, publishedShas } from '../lib/spec/published.js';
import { shasOf } from '../tools/published.js';
import { SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

describe('published specs', () => {
  it('specs/published.json lists every spec file of the shared test data (run make published when it grows)', () => {
    const shipped = publishedShas();
    const missing = Object.entries(shasOf(SHARED_SPECS_DIR)).filter(([, sha]) => !shipped.has(sha));
    assert.deepEqual(missing, []);
    assert.ok(shipped.size >= 7);
  });

  it('a known sha is published from anywhere; an unknown one only from the official GitHub API over HTTPS', () => {
    const [known] = [...publishedShas()];
    const unknown = '0'.repeat(40);
    assert.equal(provenanceOf(known!, null).published, true);
    assert.equal(provenanceOf(known!, { kind: 'local', dir: '/x' }).published, true);
    assert.equal(provenanceOf(unknown, null).published, false);
    assert.match(provenanceOf(unknown, null).reason, /--spec/);
    assert.equal(provenanceOf(unknown, { kind: 'local', dir: '/x' }).published, false);
    assert.equal(provenanceOf(unknown, { kind: 'github', apiUrl: 'http://127.0.0.1:9' }).published, false);
    assert.equal(provenanceOf(unknown, { kind: 'github', apiUrl: 'https://api.github.com' }).published, true);
  });
});
