// bapi-webhooks: every event of webhooks/2025-04-15 triggered at a local app whose handler verifies
// with Clerk's own verifier (verifyWebhook of @clerk/backend/webhooks), the payload checked against
// the event's schema, verify's refusals, receive and a replay, --set, a version the tests never saw
// (served by the fake GitHub), and the secret nowhere. In process, but for receive and the built
// command's start.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { buildPayload, payloadProblems, webhookEvents } from '../lib/endpoint/webhook-events.js';
import { keptPayload, preparedPayload, signDelivery } from '../lib/http/webhook-delivery.js';
import { loadWebhooks } from '../lib/spec/webhooks.js';
import { main } from '../scripts/bapi-webhooks.js';
import { startFakeGithub, type FakeGithub } from './helpers/fake-github.js';
import { memoryIO, runInProcess } from './helpers/in-process.js';
import { cleanEnv, scriptPath, tempDir } from './helpers/run-cli.js';
import { PROJECT_DIR, SHARED_SPECS_DIR } from './helpers/spec-fixtures.js';

// Secrets made per run, like every test key: none is written down.
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET = newSecret();
const store = tempDir('webhooks-store-');
const work = tempDir('webhooks-work-');
const env = cleanEnv({ CLERK_SPECS_DIR: store, HOME: work });
const outputs: string[] = [];
type Verify = (request: Request, options: { signingSecret: string }) => Promise<{ type: string; data: unknown }>;
let verifyWebhook: Verify;
let app: Server;
let appUrl = '';
/** What the app's handler saw: the event type Clerk's verifier returned, or why it refused. */
const seen: Array<{ type?: string; error?: string; body: string }> = [];

async function run(args: string[], stdin?: string) {
  const result = await runInProcess('bapi-webhooks', main, args, { env, cwd: work, ...(stdin !== undefined ? { stdin } : {}) });
  outputs.push(result.stdout, result.stderr);
  return result;
}

before(async () => {
  const require = createRequire(join(PROJECT_DIR, 'package.json'));
  ({ verifyWebhook } = (await import(pathToFileURL(require.resolve('@clerk/backend/webhooks')).href)) as { verifyWebhook: Verify });
  // The app: a route that does what Clerk's guide does, with Clerk's verifier.
  app = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = new Headers(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])));
      verifyWebhook(new Request(`http://localhost${req.url}`, { method: 'POST', headers, body }), { signingSecret: SECRET }).then(
        (event) => {
          seen.push({ type: event.type, body });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        },
        (error: Error) => {
          seen.push({ error: error.message, body });
          res.writeHead(400).end('invalid');
        },
      );
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
  const address = app.address() as { port: number };
  appUrl = `http://127.0.0.1:${address.port}/api/webhooks`;
});

after(async () => {
  await new Promise<void>((resolve) => app.close(() => resolve()));
  for (const text of outputs) assert.ok(!text.includes(SECRET) && !text.includes(SECRET.slice(6)), 'the secret is in an output');
});

describe('bapi-webhooks', () => {
  it('lists the 45 events of webhooks/2025-04-15, 27 with an example', async () => {
    const listed = await run(['events', '--json']);
    assert.equal(listed.exitCode, 0, listed.stderr);
    const { version, events } = JSON.parse(listed.stdout) as { version: string; events: Array<{ type: string; example: boolean; conflicts: number }> };
    assert.equal(version, '2025-04-15');
    assert.equal(events.length, 45);
    assert.equal(events.filter((e) => e.example).length, 27);
    assert.equal(events.filter((e) => e.conflicts > 0).length, 12, 'the spec examples that break their own schema');
    const text = await run(['events', '--grep', 'organization invitation']);
    assert.deepEqual(text.stdout.trim().split('\n').map((line) => line.split('\t')[0]), ['organizationInvitation.created', 'organizationInvitation.accepted', 'organizationInvitation.revoked']);
    // A warm run reads the kept event list, not the document; a damaged one is made again.
    const kept = readdirSync(join(store, 'webhooks')).filter((name) => name.endsWith('.events.v1.json'));
    assert.equal(kept.length, 1);
    writeFileSync(join(store, 'webhooks', kept[0]!), '[{"type": 1}]');
    const again = await run(['events', '--json']);
    assert.deepEqual(JSON.parse(again.stdout), JSON.parse(listed.stdout));
    assert.equal((JSON.parse(readFileSync(join(store, 'webhooks', kept[0]!), 'utf8')) as unknown[]).length, 45);
  });

  it('every event, triggered at an app that verifies with @clerk/backend/webhooks: 45 of 45 accepted, type right, and schema-valid wherever the example does not conflict', async () => {
    const document = await loadWebhooks({}, memoryIO(env, work));
    const events = webhookEvents(document);
    let valid = 0;
    for (const event of events) {
      seen.length = 0;
      const sent = await run(['trigger', event.type, '--url', appUrl, '--secret', SECRET]);
      assert.equal(sent.exitCode, 0, `${event.type}: ${sent.stderr}`);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.type, event.type, seen[0]!.error);
      const payload = JSON.parse(seen[0]!.body) as unknown;
      if (payloadProblems(payload, event, document).length === 0) valid++;
    }
    // Every payload completes what its schema requires; the spec's own extra fields stay (a reported conflict).
    assert.ok(valid >= 33, `${valid} of 45 payloads valid against their schema`);
    const generated = buildPayload(events.find((e) => !e.hasExample)!, { now: 1_700_000_000_000 });
    assert.equal(generated.from, 'schema');
  });

  it('a kept payload, stamped with a later time, is the payload built at that time, for every event; a warm trigger reads it, a damaged one is made again', async () => {
    const document = await loadWebhooks({}, memoryIO(env, work));
    const [made, later] = [1_700_000_000_000, 1_760_000_123_456];
    let stamped = 0;
    for (const event of webhookEvents(document)) {
      const kept = keptPayload(event, document, { now: made });
      // Through JSON, as the store keeps it.
      const sent = preparedPayload(JSON.parse(JSON.stringify(kept)) as typeof kept, document.version, later);
      assert.equal(sent.body, JSON.stringify(buildPayload(event, { now: later }).payload), event.type);
      stamped += kept.clock.length;
      assert.ok(![String(made), String(Math.floor(made / 1000)), new Date(made).toISOString()].some((old) => sent.body.includes(old)), `${event.type} still holds the time it was made`);
    }
    assert.ok(stamped > 20, `${stamped} time fields stamped`);

    const keptFile = () => readdirSync(join(store, 'webhooks')).find((name) => name.endsWith('.payload.v1.user.created.json'));
    seen.length = 0;
    assert.equal((await run(['trigger', 'user.created', '--url', appUrl, '--secret', SECRET])).exitCode, 0);
    assert.ok(keptFile(), 'trigger keeps the payload it built');
    writeFileSync(join(store, 'webhooks', keptFile()!), '{"type": "user.created", "payload": 1}');
    const again = await run(['trigger', 'user.created', '--url', appUrl, '--secret', SECRET]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(seen.length, 2);
    assert.equal(seen[1]!.type, 'user.created', seen[1]!.error);
    assert.equal(seen[1]!.body, seen[0]!.body, 'the same payload (the example holds no generated time)');
    assert.equal((JSON.parse(readFileSync(join(store, 'webhooks', keptFile()!), 'utf8')) as { type: string }).type, 'user.created');
  });

  it('show: the payload fields, the example, and where the example breaks its schema', async () => {
    const shown = await run(['show', 'organizationInvitation.accepted']);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.match(shown.stdout, /^ {2}data\.id +string +required$/m);
    assert.match(shown.stdout, /breaks its own schema[\s\S]*\$\.data\.inviter_id: is required/);
    const example = await run(['show', 'user.created', '--example']);
    assert.equal((JSON.parse(example.stdout) as { type: string }).type, 'user.created');
    const unknown = await run(['show', 'user.create']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /Closest: user\.created/);
  });

  it('--set on nested paths and arrays, --data with a payload or a saved delivery, --dry-run', async () => {
    seen.length = 0;
    const set = await run(['trigger', 'user.created', '--url', appUrl, '--secret', SECRET, '--set', 'data.first_name=Ada', '--set', 'data.email_addresses[0].email_address=ada@example.org', '--set', 'data.public_metadata={"plan":"pro"}']);
    assert.equal(set.exitCode, 0, set.stderr);
    const body = JSON.parse(seen[0]!.body) as { data: { first_name: string; email_addresses: Array<{ email_address: string }>; public_metadata: unknown } };
    assert.equal(body.data.first_name, 'Ada');
    assert.equal(body.data.email_addresses[0]!.email_address, 'ada@example.org');
    assert.deepEqual(body.data.public_metadata, { plan: 'pro' });
    const dry = await run(['trigger', 'session.created', '--secret', SECRET, '--dry-run']);
    assert.match(dry.stdout, /^curl -X POST 'http:\/\/localhost:3000\/api\/webhooks' -H 'content-type: application\/json' -H 'svix-id: msg_[0-9a-z]+' -H 'svix-timestamp: \d+' -H 'svix-signature: v1,[A-Za-z0-9+/=]+' --data-raw '/);
    const file = join(work, 'payload.json');
    writeFileSync(file, JSON.stringify({ type: 'user.deleted', object: 'event', data: { id: 'user_1', deleted: true } }));
    seen.length = 0;
    const data = await run(['trigger', '--data', `@${file}`, '--url', appUrl, '--secret', SECRET]);
    assert.equal(data.exitCode, 0, data.stderr);
    assert.equal(seen[0]!.type, 'user.deleted');
  });

  it('verify accepts what the library signs, and refuses a changed body, another secret, a 6-minute-old timestamp, a missing header', async () => {
    const body = JSON.stringify({ type: 'user.created', data: {} });
    const good = await signDelivery(body, SECRET);
    const headers = (d: typeof good) => Object.entries(d.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    assert.equal((await run(['verify', '--secret', SECRET, ...headers(good), '-'], body)).exitCode, 0);
    const changed = await run(['verify', '--secret', SECRET, ...headers(good), '-'], body.replace('created', 'deleted'));
    assert.equal(changed.exitCode, 1);
    assert.match(changed.stderr, /signature does not match/);
    const other = await run(['verify', '--secret', newSecret(), ...headers(good), '-'], body);
    assert.equal(other.exitCode, 1);
    const old = await signDelivery(body, SECRET, new Date(Date.now() - 6 * 60 * 1000));
    const late = await run(['verify', '--secret', SECRET, ...headers(old), '-'], body);
    assert.equal(late.exitCode, 1);
    assert.match(late.stderr, /outside the 5-minute tolerance/);
    const missing = await run(['verify', '--secret', SECRET, '-H', `svix-id: ${good.headers['svix-id']}`, '-'], body);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /missing headers: svix-timestamp, svix-signature/);
    const saved = join(work, 'delivery.json');
    writeFileSync(saved, JSON.stringify({ headers: good.headers, body }));
    assert.equal((await run(['verify', saved], undefined)).exitCode, 2, 'no secret: a usage error');
    assert.equal((await runInProcess('bapi-webhooks', main, ['verify', saved], { env: { ...env, CLERK_WEBHOOK_SIGNING_SECRET: SECRET }, cwd: work })).exitCode, 0);
  });

  it('receive verifies and saves each delivery; trigger --data sends a saved one again with a fresh signature', async () => {
    const dir = join(work, 'deliveries');
    const child = execa(process.execPath, [scriptPath('bapi-webhooks'), 'receive', '--port', '0', '--save', dir], { env: { ...env, CLERK_WEBHOOK_SIGNING_SECRET: SECRET }, extendEnv: false, reject: false, cwd: work });
    let said = '';
    child.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    for (let waited = 0; !/receiving on (http:\S+)/.test(said) && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    const url = /receiving on (http:\S+)/.exec(said)![1] as string;
    try {
      assert.equal((await run(['trigger', 'organization.created', '--url', url, '--secret', SECRET])).exitCode, 0);
      const forged = await run(['trigger', 'organization.deleted', '--url', url, '--secret', newSecret()]);
      assert.equal(forged.exitCode, 1, 'the receiver refuses another secret');
    } finally {
      child.kill('SIGTERM');
    }
    const result = await child;
    assert.match(String(result.stdout), /organization\.created {2}msg_\w+ {2}valid {2}saved/);
    assert.match(String(result.stdout), /organization\.deleted {2}msg_\w+ {2}refused: the signature does not match/);
    const [file] = readdirSync(dir);
    seen.length = 0;
    const replayed = await run(['trigger', '--data', `@${join(dir, file!)}`, '--url', appUrl, '--secret', SECRET]);
    assert.equal(replayed.exitCode, 0, replayed.stderr);
    assert.equal(seen[0]!.type, 'organization.created');
    assert.ok(!readFileSync(join(dir, file!), 'utf8').includes(SECRET.slice(6)), 'the secret is in no saved file');
  });

  it('a webhooks version the tests never saw, served by the fake GitHub: listed and triggered', async () => {
    const github: FakeGithub = await startFakeGithub();
    try {
      const spec = readFileSync(join(SHARED_SPECS_DIR, 'webhooks', '2025-04-15.yml'), 'utf8');
      const changed = spec.replace(/^ {2}email\.created:\n/m, '  test.pinged:\n    post:\n      description: A ping the tests added\n      operationId: test.pinged\n      requestBody:\n        content:\n          application/json:\n            schema:\n              $ref: "#/components/schemas/WebhookEventPayload"\n  email.created:\n').replace(/^ {2}sms\.created:[\s\S]*?(?=^ {2}subscription\.created:)/m, '');
      const file = join(tempDir('webhooks-source-'), '2026-09-01.yml');
      writeFileSync(file, changed);
      github.extra['webhooks/2026-09-01.yml'] = file;
      const githubEnv = cleanEnv({ CLERK_SPECS_DIR: tempDir('webhooks-gh-store-'), HOME: work, GITHUB_API_URL: github.url, CLERK_SPECS_SOURCE: undefined });
      const listed = await runInProcess('bapi-webhooks', main, ['events', '--json'], { env: githubEnv, cwd: work });
      assert.equal(listed.exitCode, 0, listed.stderr);
      const { version, events } = JSON.parse(listed.stdout) as { version: string; events: Array<{ type: string }> };
      assert.equal(version, '2026-09-01');
      assert.ok(events.some((e) => e.type === 'test.pinged'));
      assert.ok(!events.some((e) => e.type === 'sms.created'));
      seen.length = 0;
      const sent = await runInProcess('bapi-webhooks', main, ['trigger', 'test.pinged', '--url', appUrl, '--secret', SECRET], { env: githubEnv, cwd: work });
      assert.equal(sent.exitCode, 0, sent.stderr);
      assert.equal(seen[0]!.type, 'test.pinged');
    } finally {
      await github.close();
    }
  });
});
