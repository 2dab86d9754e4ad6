// SDK equivalents: specs/sdk.json is what the installed @clerk/backend sends (recorded again here:
// regenerate with make sdk-map), every example runs as printed and sends its endpoint's request,
// the endpoints people ask about show their method, and the coverage is reported per version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sdkEquivalents } from '../lib/endpoint/sdk.js';
import { buildEndpointDetail, rawEndpoint } from '../lib/endpoint/detail.js';
import { installedSdk, recordingClient, recordSdkMap, SDK_MAP_FILE } from '../tools/sdk-map.js';
import { cleanEnv, runCli, tempDir } from './helpers/run-cli.js';
import { sharedIndex, sharedVersions } from './helpers/spec-fixtures.js';

/** True when a sent path fits a spec template: literal segments equal, a parameter segment anything. */
function fits(template: string, sent: string): boolean {
  const a = template.split('/');
  const b = sent.split('/');
  return a.length === b.length && a.every((segment, i) => segment.includes('{') || segment === b[i]);
}

describe('SDK equivalents (@clerk/backend)', () => {
  it('specs/sdk.json is what the installed package sends, recorded again', async () => {
    const { distDir, version } = installedSdk();
    const fresh = `${JSON.stringify(await recordSdkMap(version, distDir), null, 2)}\n`;
    assert.equal(readFileSync(SDK_MAP_FILE, 'utf8'), fresh, 'run make sdk-map');
    const methods = (JSON.parse(fresh) as { methods: Array<{ call: string; method: string; path: string }> }).methods;
    assert.ok(methods.length > 150);
    // What the map once got wrong, from reading the built code instead of watching it send (#27).
    const has = (call: string, method: string, path: string) => assert.ok(methods.some((m) => m.call === call && m.method === method && m.path === path), `${call}: ${method} ${path}`);
    has('billing.getOrganizationBillingSubscription', 'GET', '/organizations/{organizationId}/billing/subscription');
    has('billing.getUserBillingSubscription', 'GET', '/users/{userId}/billing/subscription');
    has('m2m.list', 'GET', '/m2m_tokens');
    has('m2m.createToken', 'POST', '/m2m_tokens');
    has('m2m.revokeToken', 'POST', '/m2m_tokens/{m2mTokenId}/revoke');
    has('m2m.verify', 'POST', '/m2m_tokens/verify');
    has('sessions.getToken', 'POST', '/sessions/{sessionId}/tokens');
    has('sessions.getToken', 'POST', '/sessions/{sessionId}/tokens/{template}');
    has('domains.delete', 'DELETE', '/domains/{domainId}');
    has('organizations.updateOrganization', 'PATCH', '/organizations/{organizationId}');
  });

  it('every example of every endpoint of 2025-11-10 and 2026-05-12 runs as printed and sends its endpoint', async (t) => {
    const { client: clerkClient, record } = await recordingClient();
    const sentPath = (url: string) => decodeURIComponent(new URL(url).pathname).replace(/^\/v1(?=\/)/, '');
    const realWarn = console.warn;
    console.warn = () => {};
    try {
      const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (client: unknown) => Promise<unknown>;
      for (const version of ['2025-11-10', '2026-05-12']) {
        const { summary, detail } = sharedIndex(version);
        let examples = 0;
        let covered = 0;
        const failures: string[] = [];
        for (const endpoint of summary.endpoints) {
          const built = buildEndpointDetail(rawEndpoint(detail, endpoint.method, endpoint.path)!, detail.components, version);
          const equivalents = sdkEquivalents(endpoint.method, endpoint.path, built.requestBody?.schema ?? null);
          if (equivalents.length > 0) covered++;
          for (const { example } of equivalents) {
            examples++;
            const from = record.length;
            try {
              await new AsyncFunction('clerkClient', example)(clerkClient);
            } catch {
              // The recorder's answer is no real resource: what was sent is what is checked.
            }
            const first = record[from];
            const path = first ? sentPath(first.url) : '';
            if (!first || first.method !== endpoint.method || !fits(endpoint.path, path)) failures.push(`${endpoint.method} ${endpoint.path}: ${example} sent ${first ? `${first.method} ${path}` : 'nothing'}`);
          }
        }
        t.diagnostic(`${version}: ${covered} of ${summary.endpoints.length} endpoints have an @clerk/backend method; ${examples} examples run, ${failures.length} fail`);
        assert.deepEqual(failures, [], version);
      }
    } finally {
      console.warn = realWarn;
    }
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
