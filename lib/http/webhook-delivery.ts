// A webhook delivery as Clerk's Svix sends one: the JSON body, `svix-id`, `svix-timestamp` and
// `svix-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`, keyed by the base64 part of the
// `whsec_` secret. Signed and verified with `standardwebhooks`, the library Clerk's own verifier
// (`verifyWebhook` of @clerk/backend/webhooks) uses, so the format and the 5-minute tolerance are its.
import { UsageError } from '../core/errors.js';
import { isObject } from '../core/values.js';
import { buildPayload, payloadProblems, setPath, stampClock, type ClockField, type WebhookEvent, type WebhooksSpec } from '../endpoint/webhook-events.js';
import { findDotenvValue } from '../guard/key.js';
import { postOnce } from './post-once.js';

export const SECRET_VARIABLE = 'CLERK_WEBHOOK_SIGNING_SECRET';
/** Where Clerk's Next.js guide mounts its webhook route. */
export const DEFAULT_WEBHOOK_URL = 'http://localhost:3000/api/webhooks';

export interface Delivery {
  headers: { 'svix-id': string; 'svix-timestamp': string; 'svix-signature': string };
  body: string;
}

/** The library, bundled into the command (and so in its code cache), evaluated only by the runs that sign or verify. */
async function standardWebhooks(): Promise<typeof import('standardwebhooks')> {
  return import('standardwebhooks');
}

/**
 * The signing secret: --secret, else CLERK_WEBHOOK_SIGNING_SECRET (the name Clerk's verifier reads),
 * else that name in .env.local or .env. Never printed; a malformed one is refused without echoing it.
 */
export function signingSecret(given: string | undefined, env: Record<string, string | undefined>, cwd: string): { value: string; from: string } {
  const found = given !== undefined ? { value: given, from: '--secret' } : env[SECRET_VARIABLE] ? { value: env[SECRET_VARIABLE] as string, from: SECRET_VARIABLE } : findDotenvValue(SECRET_VARIABLE, env, cwd);
  if (!found) {
    throw new UsageError(`no webhook signing secret: give --secret whsec_…, or set ${SECRET_VARIABLE} (here or in .env.local)`, {
      hints: ["It is the endpoint's Signing Secret in the Clerk Dashboard (Webhooks), or any whsec_ value your app's verifier is given."],
    });
  }
  const value = found.value.trim();
  const base64 = value.startsWith('whsec_') ? value.slice(6) : value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || Buffer.from(base64, 'base64').length < 16) {
    throw new UsageError(`the webhook signing secret from ${found.from} is not a whsec_ secret (whsec_ followed by base64 of at least 16 bytes)`);
  }
  return { value, from: found.from };
}

/** A message id as Svix writes one: unique, not secret (node:crypto costs a command 3 ms to load). */
function messageId(): string {
  return `msg_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}${Math.random().toString(36).slice(2, 8)}`;
}

/** `body` signed as Svix signs it, with a new message id (or `id`) and the time `at`. */
export async function signDelivery(body: string, secret: string, at = new Date(), id = messageId()): Promise<Delivery> {
  const signature = new (await standardWebhooks()).Webhook(secret).sign(id, at, body);
  return { headers: { 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': signature }, body };
}

/** Why a delivery is not valid (null: it is): a missing header, a timestamp outside 5 minutes, or the signature. */
export async function verifyDelivery(delivery: { headers: Record<string, string | undefined>; body: string }, secret: string): Promise<string | null> {
  const header = (name: string) => delivery.headers[`svix-${name}`] ?? delivery.headers[`webhook-${name}`];
  const missing = ['id', 'timestamp', 'signature'].filter((name) => !header(name));
  if (missing.length > 0) return `missing header${missing.length > 1 ? 's' : ''}: ${missing.map((name) => `svix-${name}`).join(', ')}`;
  const { Webhook } = await standardWebhooks();
  try {
    new Webhook(secret).verify(delivery.body, { 'webhook-id': header('id') as string, 'webhook-timestamp': header('timestamp') as string, 'webhook-signature': header('signature') as string });
    return null;
  } catch (error) {
    const message = (error as Error).message;
    if (/too old|too new/i.test(message)) return `the timestamp ${header('timestamp')} is outside the 5-minute tolerance (${message.toLowerCase()})`;
    if (/signature/i.test(message)) return 'the signature does not match the body with this secret';
    return message;
  }
}

/** A saved delivery (`{headers, body}`, as `receive --save` writes one), checked for shape. */
export function parseDelivery(text: string, label: string): { headers: Record<string, string>; body: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${label} is not JSON: expected {headers, body}`);
  }
  if (!isObject(value) || !isObject(value.headers) || typeof value.body !== 'string') throw new UsageError(`${label} is not a delivery: expected {headers: {svix-id, …}, body: "…"}`);
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(value.headers)) if (typeof header === 'string') headers[name.toLowerCase()] = header;
  return { headers, body: value.body };
}

/** POSTs a delivery; resolves with the status and the answer's text. */
export async function postDelivery(url: string, delivery: Delivery, timeoutMs: number): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UsageError(`--url must be http(s): ${url}`);
  const headers = { 'content-type': 'application/json', 'user-agent': 'Svix-Webhooks/1.x (clerk-bapi-toolkit)', ...delivery.headers };
  const { status, body } = await postOnce(target, headers, delivery.body, timeoutMs);
  return { status, body };
}

/** `PATH=VALUE` pairs applied to a payload: VALUE is JSON when it parses, else a string. */
export function applySets(payload: Record<string, unknown>, sets: Array<[string, unknown]>): void {
  for (const [path, value] of sets) {
    try {
      setPath(payload, path, value);
    } catch (error) {
      throw new UsageError(`--set ${path}: ${(error as Error).message}`);
    }
  }
}

/** `--set PATH=VALUE` as a pair. */
export function parseSet(raw: string): [string, unknown] {
  const at = raw.indexOf('=');
  if (at <= 0) throw new UsageError(`--set expects PATH=VALUE, got ${JSON.stringify(raw)}`);
  const text = raw.slice(at + 1);
  try {
    return [raw.slice(0, at), JSON.parse(text) as unknown];
  } catch {
    return [raw.slice(0, at), text];
  }
}

export interface PreparedEvent {
  body: string;
  type: string;
  /** How the payload was made, in words: from the example (with what was added) or from the schema. */
  note: string;
  added: string[];
}

/**
 * An event's payload as the rule builds it (example plus what the schema requires), where it holds
 * the time, and where it still breaks the schema: what `trigger EVENT` keeps in the store, by version
 * and event (payload.v1: a new name when what buildPayload makes changes), to send again with the
 * time stamped anew without reading the document.
 */
export interface KeptPayload {
  type: string;
  payload: Record<string, unknown>;
  added: string[];
  from: 'example' | 'schema';
  clock: ClockField[];
  problems: string[];
}

export const KEPT_PAYLOAD = 'payload.v1';

export function keptPayload(event: WebhookEvent, spec: WebhooksSpec, options: { schemaOnly?: boolean; sets?: Array<[string, unknown]>; now?: number } = {}): KeptPayload {
  const built = buildPayload(event, { ...(options.schemaOnly ? { schemaOnly: true } : {}), ...(options.now !== undefined ? { now: options.now } : {}) });
  applySets(built.payload, options.sets ?? []);
  const problems = payloadProblems(built.payload, event, spec).map((p) => `${p.path} ${p.message}`);
  return { type: event.type, ...built, problems };
}

export function isKeptPayload(value: unknown): value is KeptPayload {
  return (
    isObject(value) &&
    typeof value.type === 'string' &&
    isObject(value.payload) &&
    (value.from === 'example' || value.from === 'schema') &&
    [value.added, value.problems].every((list) => Array.isArray(list) && list.every((item) => typeof item === 'string')) &&
    Array.isArray(value.clock) &&
    value.clock.every((c) => isObject(c) && Array.isArray(c.at) && c.at.every((key) => typeof key === 'string' || typeof key === 'number') && ['s', 'ms', 'iso'].includes(c.unit as string))
  );
}

/** What to send and how it was made; `now` stamps a kept payload's time fields anew (not after --set: a set field stays as set). */
export function preparedPayload(kept: KeptPayload, version: string, now: number | null): PreparedEvent {
  const payload = now === null ? kept.payload : stampClock(kept.payload, kept.clock, now);
  const how = kept.from === 'example' ? `the spec's example${kept.added.length > 0 ? `, with what its schema requires added: ${kept.added.join(', ')}` : ''}` : 'generated from the schema';
  const note = `${kept.type} (webhooks ${version}), ${how}${kept.problems.length > 0 ? `; still not valid against the schema: ${kept.problems.slice(0, 3).join('; ')}` : ''}`;
  return { body: JSON.stringify(payload), type: kept.type, note, added: kept.added };
}

/** An event's payload, built by the rule (example plus what the schema requires), with the sets applied. */
export function prepareEvent(event: WebhookEvent, spec: WebhooksSpec & { version: string }, options: { schemaOnly?: boolean; sets?: Array<[string, unknown]> } = {}): PreparedEvent {
  return preparedPayload(keptPayload(event, spec, options), spec.version, null);
}
