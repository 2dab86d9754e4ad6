// bapi-mcp's webhook tools: the events of Clerk's webhooks spec, and one event sent to the person's
// own app, signed as Clerk signs it. The signing secret comes from the server's environment
// (CLERK_WEBHOOK_SIGNING_SECRET or .env.local), never from a tool argument, and a delivery goes only to
// this machine (localhost, 127.0.0.1, ::1) unless the person started the server with
// --webhook-url-allow PATTERN.
import { UsageError } from '../core/errors.js';
import { webhookEvents, findEvent } from '../endpoint/webhook-events.js';
import { DEFAULT_WEBHOOK_URL, postDelivery, prepareEvent, signDelivery, signingSecret } from '../http/webhook-delivery.js';
import { loadWebhooks } from '../spec/webhooks.js';
import { capture, fitting, guarded, input, quietIO, structured } from './results.js';
import type { ToolContext } from './server.js';

/** True for a URL on this machine, or one that a --webhook-url-allow pattern (`*` for any characters) matches. */
export function webhookUrlAllowed(url: string, allow: string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname)) return true;
  return allow.some((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(url));
}

export function addWebhookTools(context: ToolContext): void {
  const { tools, env, cwd, key, limit, outputs, options } = context;
  const document = () => loadWebhooks({}, quietIO(env, cwd, capture().stream, capture().stream));
  tools.push({
    name: 'list_webhook_events',
    title: 'List webhook events',
    description: "Clerk's webhook event types (user.created, organization.deleted, …) from the webhooks spec, with each one's description and whether the spec has an example. Returns {version, events: [{type, description, example}], cut}.",
    inputSchema: input({ grep: { type: 'string' } }),
    outputSchema: outputs.list_webhook_events,
    annotations: { readOnlyHint: true, openWorldHint: false },
    handler: guarded(key, async (args) => {
      const spec = await document();
      const words = (typeof args.grep === 'string' ? args.grep : '').toLowerCase().split(/\s+/).filter((w) => w !== '');
      const all = webhookEvents(spec)
        .filter((e) => words.every((w) => `${e.type} ${e.description}`.toLowerCase().includes(w)))
        .map((e) => ({ type: e.type, description: e.description, example: e.hasExample }));
      const events = fitting(all, limit);
      const result = { version: spec.version, events, cut: events.length < all.length };
      return structured(result, JSON.stringify(result, null, 2), limit, 'narrow it with grep');
    }),
  });
  tools.push({
    name: 'trigger_webhook',
    title: 'Send a signed webhook event',
    description: `Send one webhook event to the person's app, signed as Clerk's Svix signs deliveries (its verifyWebhook accepts it), to test the app's handler. The payload is the spec's example plus what the schema requires; set overrides fields by dotted path. Only to this machine (default ${DEFAULT_WEBHOOK_URL}) unless the server allows more. Returns {type, url, status, body, svix_id, added}.`,
    inputSchema: input({ event: { type: 'string', minLength: 1 }, url: { type: 'string' }, set: { type: 'object' }, schema_only: { type: 'boolean' } }, ['event']),
    outputSchema: outputs.trigger_webhook,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    handler: guarded(key, async (args) => {
      const url = typeof args.url === 'string' ? args.url : DEFAULT_WEBHOOK_URL;
      if (!webhookUrlAllowed(url, options.webhookUrlAllow ?? [])) {
        throw new UsageError(`trigger_webhook sends only to this machine (localhost, 127.0.0.1): ${url} is not allowed`, { hints: ['The person can allow more by starting bapi-mcp with --webhook-url-allow PATTERN.'] });
      }
      const spec = await document();
      const event = findEvent(webhookEvents(spec), String(args.event));
      if (!event) throw new UsageError(`no webhook event ${JSON.stringify(args.event)} in webhooks ${spec.version}: list_webhook_events lists them`);
      const sets = Object.entries((args.set ?? {}) as Record<string, unknown>);
      const prepared = prepareEvent(event, spec, { ...(args.schema_only === true ? { schemaOnly: true } : {}), sets });
      const delivery = await signDelivery(prepared.body, signingSecret(undefined, env, cwd).value);
      const answer = await postDelivery(url, delivery, 10_000);
      const result = { type: prepared.type, url, status: answer.status, body: answer.body.slice(0, 10_000), svix_id: delivery.headers['svix-id'], added: prepared.added };
      return structured(result, `${prepared.note}\nPOST ${url}: ${answer.status}\n${answer.body}`, limit, 'the app answered at length');
    }),
  });
}
