// SDK equivalents: specs/sdk.json is what the installed @clerk/backend gives (regenerate with make
// sdk-map), the endpoints people ask about show their method, and the coverage is reported.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sdkEquivalents } from '../lib/endpoint/sdk.js';
import { extractSdkMap, installedSdk, SDK_MAP_FILE } from '../tools/sdk-map.js';
import { cleanEnv, runCli, tempDir } from './helpers/run-cli.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';

describe('SDK equivalents (@clerk/backend)', () => {
  it('specs/sdk.json matches the installed package', () => {
    const { distDir, version } = installedSdk();
    const fresh = `${JSON.stringify(extractSdkMap(distDir, version), null, 2)}\n`;
    assert.equal(readFileSync(SDK_MAP_FILE, 'utf8'), fresh, 'run make sdk-map');
    assert.ok(JSON.parse(fresh).methods.length > 150);
  });

  it('the endpoints people ask about show their @clerk/backend method, in text and --json', async () => {
    const env = cleanEnv({ CLERK_SPECS_DIR: tempDir('sdk-store-') });
    const expected: Array<[string, string, RegExp]> = [
      ['PATCH', '/users/{user_id}/metadata', /^await clerkClient\.users\.updateUserMetadata\('user_123', \{ publicMetadata: /],
      ['GET', '/users', /^await clerkClient\.users\.getUserList\(/],
      ['POST', '/organizations/{organization_id}/invitations', /^await clerkClient\.organizations\.createOrganizationInvitation\(\{ organizationId: 'org_123'/],
      ['DELETE', '/users/{user_id}', /^await clerkClient\.users\.deleteUser\('user_123'\)$/],
    ];
    for (const [method, path, example] of expected) {
      const json = await runCli('extract-endpoint-detail', [method, path, '--json'], { env });
      assert.equal(json.exitCode, 0, json.stderr);
      const sdk = JSON.parse(json.stdout).sdk as Array<{ package: string; version: string; call: string; example: string }>;
      assert.ok(sdk.some((s) => example.test(s.example)), `${method} ${path}: ${JSON.stringify(sdk)}`);
      assert.ok(sdk.every((s) => s.package === '@clerk/backend' && /^\d+\.\d+\.\d+$/.test(s.version)));
      const text = await runCli('extract-endpoint-detail', [method, path], { env });
      assert.match(text.stdout, /^SDK \(@clerk\/backend \d+\.\d+\.\d+\):$/m);
    }
    // An endpoint no SDK method sends says so.
    const latest = sharedVersions().at(-1)!;
    const uncovered = sharedIndex(latest).summary.endpoints.find((e) => sdkEquivalents(e.method, e.path).length === 0);
    assert.ok(uncovered, 'some endpoint has no SDK method');
    const none = await runCli('extract-endpoint-detail', [uncovered.method, uncovered.path], { env });
    assert.equal(none.exitCode, 0, none.stderr);
    assert.match(none.stdout, /SDK: no @clerk\/backend method sends this request/);
  });

  it('coverage of the latest spec: endpoints with an SDK method and without', (t) => {
    const latest = sharedVersions().at(-1)!;
    const endpoints = sharedIndex(latest).summary.endpoints;
    const covered = endpoints.filter((e) => sdkEquivalents(e.method, e.path).length > 0);
    const missing = endpoints.filter((e) => sdkEquivalents(e.method, e.path).length === 0);
    t.diagnostic(`@clerk/backend covers ${covered.length} of ${endpoints.length} endpoints of ${latest} (${((100 * covered.length) / endpoints.length).toFixed(0)} %); without an SDK method: ${missing.length}`);
    assert.ok(covered.length / endpoints.length > 0.5, `only ${covered.length} of ${endpoints.length}`);
  });
});
