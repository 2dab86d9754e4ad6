// Clerk's webhook events, from a webhooks spec's `x-webhooks`: each event's type, description,
// payload schema (every $ref resolved) and the spec's example; where the example conflicts with the
// schema; and a payload to send. The rule for a payload (README, bapi-webhooks): start from the
// spec's example, which likely reflects real deliveries, keep its extra fields, and add (or replace
// a forbidden null with) what the schema requires; an event without an example, or --schema-only,
// gets a payload generated from the schema alone. Every added field is named.
import { isObject } from '../core/values.js';
import { flattenFields } from './diff.js';
import { resolveRefs } from './resolve.js';
import { validateValue, type SchemaProblem } from './validate.js';

export interface WebhookEvent {
  type: string;
  description: string;
  /** The payload schema as written (with $refs), for validation against the components. */
  schema: unknown;
  /** The same, every $ref resolved (allOf merged where that changes nothing), for display and generation. */
  resolved: unknown;
  example: unknown;
  hasExample: boolean;
}

export interface WebhooksSpec {
  webhooks: Record<string, unknown>;
  components: Record<string, unknown>;
}

/** Every event of the spec, in its order; each schema is resolved when first read (a listing reads none). */
export function webhookEvents(spec: WebhooksSpec): WebhookEvent[] {
  return Object.entries(spec.webhooks).map(([type, item]) => {
    const post = isObject(item) && isObject(item.post) ? item.post : {};
    const body = isObject(post.requestBody) && isObject(post.requestBody.content) ? post.requestBody.content['application/json'] : undefined;
    const content = isObject(body) ? body : {};
    const schema = content.schema ?? {};
    let resolved: unknown;
    return {
      type,
      description: typeof post.description === 'string' ? post.description : '',
      schema,
      get resolved() {
        resolved ??= resolveRefs(schema, spec.components).value;
        return resolved;
      },
      example: content.example ?? null,
      hasExample: Object.hasOwn(content, 'example'),
    };
  });
}

/** `user.created` by name; a near miss gets the closest names. */
export function findEvent(events: WebhookEvent[], type: string): WebhookEvent | null {
  return events.find((e) => e.type === type) ?? events.find((e) => e.type.toLowerCase() === type.toLowerCase()) ?? null;
}

/** Where a payload breaks the event's schema (read as JSON Schema with OpenAPI 3.0's nullable). */
export function payloadProblems(payload: unknown, event: WebhookEvent, spec: WebhooksSpec): SchemaProblem[] {
  return validateValue(payload, event.schema, spec.components as Record<string, Record<string, unknown>>);
}

/** Where the spec's own example breaks the event's schema; [] without an example. */
export function exampleConflicts(event: WebhookEvent, spec: WebhooksSpec): SchemaProblem[] {
  return event.hasExample ? payloadProblems(event.example, event, spec) : [];
}

/** The payload's fields as rows: path, type, required, nullable, enum. */
export function eventFields(event: WebhookEvent): Array<{ path: string; type: string; required: boolean; nullable: boolean; enum: unknown[] | null }> {
  return [...flattenFields(event.resolved, 6)].map(([path, info]) => ({ path, type: info.type, required: info.required, nullable: info.nullable, enum: info.enum ?? info.itemsEnum }));
}

/** Where a payload holds the time it was made: seconds, milliseconds or an ISO date, at a path of keys and indexes. */
export interface ClockField {
  at: Array<string | number>;
  unit: 's' | 'ms' | 'iso';
}

/**
 * A payload for `event`, the fields the schema required that were added to (or replaced in) the
 * example, and where the payload holds the time `now` (so a kept payload can be stamped anew). The
 * store keeps what this makes (KEPT_PAYLOAD in http/webhook-delivery): a change here renames that.
 */
export function buildPayload(event: WebhookEvent, options: { schemaOnly?: boolean; now?: number } = {}): { payload: Record<string, unknown>; added: string[]; from: 'example' | 'schema'; clock: ClockField[] } {
  const generator = new Generator(event.type, options.now ?? Date.now());
  if (event.hasExample && isObject(event.example) && !options.schemaOnly) {
    const payload = structuredClone(event.example);
    const added: string[] = [];
    generator.complete(payload, event.resolved, [], added);
    return { payload, added, from: 'example', clock: generator.clock };
  }
  return { payload: generator.value(event.resolved, [], 'payload') as Record<string, unknown>, added: [], from: 'schema', clock: generator.clock };
}

/** The payload with the time `now` written where buildPayload wrote its own. */
export function stampClock(payload: Record<string, unknown>, clock: ClockField[], now: number): Record<string, unknown> {
  for (const { at, unit } of clock) {
    let node: unknown = payload;
    for (const key of at.slice(0, -1)) node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[key] : undefined;
    const last = at.at(-1);
    if (last === undefined || !(isObject(node) || Array.isArray(node))) continue;
    (node as Record<string | number, unknown>)[last] = unit === 's' ? Math.floor(now / 1000) : unit === 'ms' ? now : new Date(now).toISOString();
  }
  return payload;
}

/** `data.email_addresses[0].id` from its keys and indexes. */
function pathText(at: Array<string | number>): string {
  return at.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('');
}

/** Sets `value` at a dotted path with array indexes (`data.email_addresses[0].email_address`), creating what is missing. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.').flatMap((part) => part.split(/\[(\d+)\]/).filter((p) => p !== ''));
  if (parts.length === 0 || parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) throw new Error(`not a field path: ${path}`);
  let node: Record<string, unknown> | unknown[] = target;
  parts.forEach((part, index) => {
    const last = index === parts.length - 1;
    const key: string | number = Array.isArray(node) ? Number(part) : part;
    if (last) {
      (node as Record<string | number, unknown>)[key] = value;
      return;
    }
    const next = (node as Record<string | number, unknown>)[key];
    if (isObject(next) || Array.isArray(next)) node = next as Record<string, unknown> | unknown[];
    else {
      const created = /^\d+$/.test(parts[index + 1] as string) ? [] : {};
      (node as Record<string | number, unknown>)[key] = created;
      node = created;
    }
  });
}

/** Realistic values for a schema: Clerk-shaped ids, timestamps, the event's type. */
class Generator {
  #count = 0;
  /** Where a value made from `now` was written. */
  readonly clock: ClockField[] = [];
  constructor(
    private readonly type: string,
    private readonly now: number,
  ) {}

  /** Adds to `value` (in place) what `schema` requires and it lacks; a null the schema does not allow is replaced. */
  complete(value: Record<string, unknown>, schema: unknown, at: Array<string | number>, added: string[]): void {
    const shape = merged(schema);
    for (const name of shape.required) {
      const child = shape.properties[name];
      if (!Object.hasOwn(value, name) || (value[name] === null && !nullable(child))) {
        value[name] = this.value(child, [...at, name], name);
        added.push(pathText([...at, name]));
      }
    }
    for (const [name, child] of Object.entries(shape.properties)) {
      const current = value[name];
      if (isObject(current)) this.complete(current, child, [...at, name], added);
      else if (Array.isArray(current) && isObject(child) && isObject(merged(child).items)) {
        current.forEach((item, i) => isObject(item) && this.complete(item, merged(child).items, [...at, name, i], added));
      }
    }
  }

  value(schema: unknown, at: Array<string | number>, name: string): unknown {
    const shape = merged(schema);
    if (shape.enum.length > 0) return shape.enum[0];
    if (shape.type === 'object' || Object.keys(shape.properties).length > 0) {
      const out: Record<string, unknown> = {};
      for (const field of shape.required) out[field] = this.value(shape.properties[field], [...at, field], field);
      return out;
    }
    if (shape.type === 'array') return [];
    if (shape.type === 'boolean') return false;
    if (shape.type === 'integer' || shape.type === 'number') {
      if (name === 'timestamp') return this.stamp(at, 's');
      return /(_at|_at_ms)$/.test(name) ? this.stamp(at, 'ms') : 0;
    }
    return this.string(name, shape.format, at);
  }

  stamp(at: Array<string | number>, unit: ClockField['unit']): number | string {
    this.clock.push({ at, unit });
    return unit === 's' ? Math.floor(this.now / 1000) : unit === 'ms' ? this.now : new Date(this.now).toISOString();
  }

  string(name: string, format: string | null, at: Array<string | number>): string | number {
    if (name === 'type') return this.type;
    if (name === 'object') return 'event';
    if (format === 'date-time') return this.stamp(at, 'iso');
    if (format === 'email' || /email_address$|^email$/.test(name)) return 'ada@example.com';
    if (format === 'uri' || format === 'url' || /_url$|^url$/.test(name)) return 'https://example.com';
    if (name === 'id' || name.endsWith('_id')) {
      const base = name === 'id' ? (this.type.split('.')[0] as string) : name.slice(0, -3);
      return `${idPrefix(base)}_${(++this.#count).toString(36).padStart(2, '0')}${'2x9KqLmWb7ZtRc'.slice(0, 12)}`;
    }
    return `example ${name}`;
  }
}

const ID_PREFIXES: Record<string, string> = { user: 'user', organization: 'org', session: 'sess', instance: 'ins', invitation: 'orginv', organizationInvitation: 'orginv', organizationMembership: 'orgmem', organizationDomain: 'orgdmn', email: 'ema', sms: 'sms', role: 'role', permission: 'perm', waitlistEntry: 'wle', client: 'client', subscription: 'csub', subscriptionItem: 'csubi', paymentAttempt: 'cpa', payer: 'cpayer', plan: 'cplan' };

function idPrefix(base: string): string {
  const camel = base.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return ID_PREFIXES[camel] ?? ID_PREFIXES[base] ?? base.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 8);
}

function nullable(schema: unknown): boolean {
  return isObject(schema) && (schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null')));
}

/** A resolved schema with allOf merged and the first of oneOf/anyOf taken: its properties, required names, type, format and enum. */
function merged(schema: unknown): { properties: Record<string, unknown>; required: string[]; type: string | null; format: string | null; enum: unknown[]; items: unknown } {
  const out = { properties: {} as Record<string, unknown>, required: [] as string[], type: null as string | null, format: null as string | null, enum: [] as unknown[], items: undefined as unknown };
  const visit = (node: unknown) => {
    if (!isObject(node)) return;
    if (Array.isArray(node.allOf)) node.allOf.forEach(visit);
    for (const key of ['oneOf', 'anyOf'] as const) if (Array.isArray(node[key]) && node[key].length > 0) visit(node[key][0]);
    if (isObject(node.properties)) Object.assign(out.properties, node.properties);
    if (Array.isArray(node.required)) out.required.push(...node.required.filter((r): r is string => typeof r === 'string'));
    if (typeof node.type === 'string') out.type = node.type;
    if (typeof node.format === 'string') out.format = node.format;
    if (Array.isArray(node.enum)) out.enum = node.enum.filter((v) => v !== null);
    if (node.items !== undefined) out.items = node.items;
  };
  visit(schema);
  out.required = [...new Set(out.required)];
  return out;
}
