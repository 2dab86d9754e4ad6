// A small stateful in-memory Clerk Backend API for the tests and the benchmark: users, organizations and
// their invitations, the bearer-key check, Clerk's error shape, and faults on demand. Every request it
// receives is recorded, so a test can count what reached the network.
//
// Standalone: node --import tsx test/fake-clerk.ts [--port N] [--users N] [--metadata] [--key K] [--latency MS] [--rate-limit N/MSms]  (prints its base URL)
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { isEntryPoint } from '../lib/cli/command.js';

/** A key generated per process: no key-shaped literal is ever committed. */
export const FAKE_CLERK_KEY = `sk_test_${randomBytes(24).toString('hex')}`;

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. /v1/users */
  path: string;
  /** Path and query as received. */
  url: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The fault served instead of the normal answer, if any. */
  fault?: FaultKind;
  /** When it arrived (ms since the epoch). */
  time?: number;
}

export type FaultKind =
  | 'rate-limit' // 429 with Retry-After
  | 'status' // a 5xx (or any status) in Clerk's error shape
  | 'reset' // headers and half a body, then the connection is destroyed
  | 'slow' // the normal answer after delayMs
  | 'invalid-json' // 200 with a truncated JSON body
  | 'html' // an HTML error page (e.g. from a proxy)
  | 'redirect' // a redirect to another host (the fake's second server), or to `location` on this one
  | 'echo-key' // an answer that echoes the bearer key in every field (status default 400)
  | 'endless' // a 200 whose JSON body never ends (until the client goes, or 2 GiB)
  | 'same-page'; // a full page of `limit` items, the same whatever the offset

export interface Fault {
  kind: FaultKind;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  /** Only requests whose path (without query) starts with this, or matches this RegExp. */
  path?: string | RegExp;
  method?: string;
  /** Seconds, sent as Retry-After on 429 (default 1). A string is sent as is. */
  retryAfter?: number | string;
  /** For 'slow' (default 2000) and 'reset' (before the reset, default 0). */
  delayMs?: number;
  /** For 'status' (default 503), 'html' (default 502), 'redirect' (default 307) and 'echo-key' (default 400). */
  status?: number;
  /** For 'redirect': a path on this server to send clients to, instead of the other host. */
  location?: string;
  /** For 'echo-key': an HTML page with the key in its title instead of JSON. */
  html?: boolean;
  /** For 'echo-key' (a 2xx): the key spelt with every other character as a JSON \\u escape. */
  escaped?: boolean;
}

interface ActiveFault extends Fault {
  remaining: number;
}

interface UserRecord {
  id: string;
  email: string;
  emailId: string;
  first_name: string | null;
  last_name: string | null;
  username: string | null;
  external_id: string | null;
  public_metadata: Record<string, unknown>;
  private_metadata: Record<string, unknown>;
  unsafe_metadata: Record<string, unknown>;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}

interface OrganizationRecord {
  id: string;
  name: string;
  slug: string;
  created_by: string;
  max_allowed_memberships: number;
  public_metadata: Record<string, unknown>;
  private_metadata: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

interface InvitationRecord {
  id: string;
  organization_id: string;
  email_address: string;
  role: string;
  inviter_id: string | null;
  public_metadata: Record<string, unknown>;
  private_metadata: Record<string, unknown>;
  status: string;
  created_at: number;
  updated_at: number;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly longMessage: string,
    readonly meta: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function traceId(): string {
  return randomBytes(16).toString('hex');
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** Clerk's metadata merge: objects merge deeply, null deletes a key, anything else replaces. */
function mergeMetadata(target: Obj, patch: Obj): Obj {
  const out: Obj = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = mergeMetadata(out[key] as Obj, value);
    else out[key] = value;
  }
  return out;
}

const USER_ORDER_FIELDS = new Set(['created_at', 'updated_at', 'first_name', 'last_name', 'username', 'email_address', 'last_sign_in_at']);

export class FakeClerk {
  /** Base URL without /v1, e.g. http://127.0.0.1:40123 */
  url = '';
  /** The second server a 'redirect' fault sends clients to; it records what it receives. */
  otherHost = { url: '', requests: [] as RecordedRequest[] };
  readonly requests: RecordedRequest[] = [];
  key: string;
  /** Record request bodies and headers (off for the benchmark's 100 000 users). */
  record = true;
  /** A rate limit as Clerk's: more than `requests` in `windowMs` get 429 with Retry-After. */
  rateLimit: { requests: number; windowMs: number } | null = null;
  /** How many 429s the rate limit answered. */
  tooManyRequests = 0;
  /** Every answer waits this long first (a real API's latency). */
  latencyMs = 0;
  private recent: number[] = [];

  private users: UserRecord[] = [];
  private userById = new Map<string, UserRecord>();
  private sortedUsers = new Map<string, UserRecord[]>();
  private organizations: OrganizationRecord[] = [];
  private invitations: InvitationRecord[] = [];
  /** The instance's invitations (POST /invitations), apart from organization ones. */
  private instanceInvitations: Array<{ id: string; email_address: string; public_metadata: Record<string, unknown>; status: string; created_at: number }> = [];
  private faults: ActiveFault[] = [];
  private server: Server;
  private other: Server;
  private seeded = 0;

  constructor(options: { key?: string } = {}) {
    this.key = options.key ?? FAKE_CLERK_KEY;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.other = createServer((req, res) => void this.handleOther(req, res));
  }

  async listen(port = 0): Promise<this> {
    this.url = await listenOn(this.server, port);
    this.otherHost.url = await listenOn(this.other, 0);
    return this;
  }

  async close(): Promise<void> {
    for (const server of [this.server, this.other]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Queues a fault for the next matching request(s). */
  fault(fault: Fault): this {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
    return this;
  }

  clearFaults(): this {
    this.faults = [];
    return this;
  }

  /** Requests received so far, optionally only those of one method and/or path prefix. */
  received(method?: string, pathPrefix?: string): RecordedRequest[] {
    return this.requests.filter(
      (r) => (method === undefined || r.method === method.toUpperCase()) && (pathPrefix === undefined || r.path.startsWith(pathPrefix)),
    );
  }

  /** Adds n users cheaply (compact records, rendered on read); the newest is created now, one minute apart. */
  seedUsers(n: number, options: { metadata?: boolean } = {}): UserRecord[] {
    const now = Date.now();
    const added: UserRecord[] = [];
    const start = this.seeded;
    for (let i = 0; i < n; i++) {
      const seq = start + i;
      const created = now - (n - i) * 60_000;
      const id = `user_seed${String(seq).padStart(7, '0')}`;
      const user: UserRecord = {
        id,
        email: `user${seq}@example.com`,
        emailId: `idn_seed${String(seq).padStart(7, '0')}`,
        first_name: `First${seq}`,
        last_name: `Last${seq}`,
        username: null,
        external_id: null,
        // With metadata, users weigh what real ones do: a page of 500 is about 1 MB (the benchmark's --jq case).
        public_metadata: options.metadata ? { plan: seq % 3 === 0 ? 'pro' : 'free', seats: seq % 25, team: `team_${seq % 97}`, onboarding: { completed: seq % 2 === 0, step: seq % 5 } } : {},
        private_metadata: options.metadata ? { stripe_customer_id: `cus_seed${String(seq).padStart(7, '0')}`, crm_id: `crm-${seq}` } : {},
        unsafe_metadata: options.metadata ? { theme: seq % 2 ? 'dark' : 'light', locale: 'en-US', bio: `${'Seeded profile text. '.repeat(24)}#${seq}` } : {},
        created_at: created,
        updated_at: created,
        last_sign_in_at: null,
      };
      added.push(user);
    }
    this.seeded += n;
    // Seeded users are older than any existing one only in the first call; keep the list ordered by creation.
    this.users.push(...added);
    this.users.sort((a, b) => a.created_at - b.created_at);
    for (const user of added) this.userById.set(user.id, user);
    this.sortedUsers.clear();
    return added;
  }

  userCount(): number {
    return this.users.length;
  }

  getUser(id: string): Obj | undefined {
    const user = this.userById.get(id);
    return user ? renderUser(user) : undefined;
  }

  // --- HTTP ----------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      url: req.url ?? '/',
      query: url.searchParams,
      headers: this.record ? req.headers : {},
      body: this.record ? body : '',
    };
    record.time = Date.now();
    this.requests.push(record);
    const trace = traceId();
    res.setHeader('x-clerk-trace-id', trace);
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    if (this.rateLimit) {
      // Counted when it arrived, as Clerk counts it.
      const at = record.time;
      this.recent = this.recent.filter((t) => t > at - this.rateLimit!.windowMs);
      if (this.recent.length >= this.rateLimit.requests) {
        this.tooManyRequests++;
        record.fault = 'rate-limit';
        const retry = Math.max(1, Math.ceil(((this.recent[0] as number) + this.rateLimit.windowMs - at) / 1000));
        res.setHeader('retry-after', String(retry));
        sendJson(res, 429, { errors: [{ code: 'too_many_requests', message: 'Too Many Requests', long_message: 'Rate limit exceeded', meta: {} }], clerk_trace_id: trace });
        return;
      }
      this.recent.push(at);
    }
    const fault = this.takeFault(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      if (await this.serveFault(fault, req, res, trace)) return;
    }

    try {
      if (req.headers.authorization !== `Bearer ${this.key}`) {
        throw new HttpProblem(401, 'authentication_invalid', 'Unauthorized request', 'You are not authorized to perform this request');
      }
      const parsed = parseJsonBody(body, req.headers['content-type']);
      const result = this.route(method, url.pathname, url.searchParams, parsed);
      sendJson(res, 200, result);
    } catch (error) {
      if (error instanceof HttpProblem) {
        sendJson(res, error.status, {
          errors: [{ code: error.errorCode, message: error.message, long_message: error.longMessage, meta: error.meta }],
          clerk_trace_id: trace,
        });
      } else {
        sendJson(res, 500, {
          errors: [{ code: 'internal_clerk_error', message: 'Oops, an unexpected error occurred', long_message: String(error), meta: {} }],
          clerk_trace_id: trace,
        });
      }
    }
  }

  private async handleOther(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://other');
    this.otherHost.requests.push({
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      url: req.url ?? '/',
      query: url.searchParams,
      headers: req.headers,
      body,
    });
    sendJson(res, 200, { other_host: true, received_authorization: req.headers.authorization !== undefined });
  }

  private takeFault(method: string, path: string): ActiveFault | undefined {
    const index = this.faults.findIndex(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined || (typeof f.path === 'string' ? path.startsWith(f.path) : f.path.test(path))),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  /** Serves a fault; returns false when the normal answer should follow (slow). */
  private async serveFault(fault: ActiveFault, req: IncomingMessage, res: ServerResponse, trace: string): Promise<boolean> {
    const errorBody = (code: string, message: string, long: string) =>
      ({ errors: [{ code, message, long_message: long, meta: {} }], clerk_trace_id: trace });
    switch (fault.kind) {
      case 'rate-limit':
        res.setHeader('retry-after', String(fault.retryAfter ?? 1));
        sendJson(res, 429, errorBody('too_many_requests', 'Too Many Requests', 'Too many requests, please retry later'));
        return true;
      case 'status': {
        const status = fault.status ?? 503;
        sendJson(res, status, errorBody(status === 503 ? 'service_unavailable' : 'internal_clerk_error', 'Service unavailable', `The fake answered ${status} on purpose`));
        return true;
      }
      case 'reset': {
        await sleep(fault.delayMs ?? 0);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        res.write('[{"id":"user_partial","object":"user","first_na');
        // Let the first bytes leave, then cut the connection mid-body.
        await sleep(20);
        req.socket.destroy();
        return true;
      }
      case 'slow':
        await sleep(fault.delayMs ?? 2000);
        return false;
      case 'invalid-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data": [{"id": "user_1",');
        return true;
      case 'html':
        res.writeHead(fault.status ?? 502, { 'content-type': 'text/html' });
        res.end('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n');
        return true;
      case 'redirect':
        res.writeHead(fault.status ?? 307, { location: fault.location ?? `${this.otherHost.url}${req.url ?? '/'}` });
        res.end();
        return true;
      case 'echo-key': {
        const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const status = fault.status ?? 400;
        if (fault.html) {
          res.writeHead(status, { 'content-type': 'text/html', 'x-clerk-trace-id': key });
          res.end(`<html><head><title>Bad key ${key}</title></head></html>`);
        } else if (status < 400 && fault.escaped) {
          const spelt = [...key].map((c, i) => (i % 2 === 0 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(`{"object":"echo","key":"${spelt}","id":"${req.url?.split('/').at(-1) ?? ''}"}`);
        } else if (status < 400) {
          sendJson(res, status, { object: 'echo', key, clerk_trace_id: key, id: req.url?.split('/').at(-1) ?? '' });
        } else {
          res.setHeader('x-clerk-trace-id', key);
          sendJson(res, status, { errors: [{ code: `bad_${key}`, message: `the key ${key} is wrong`, long_message: `we got ${key}`, meta: {} }], clerk_trace_id: key });
        }
        return true;
      }
      case 'endless': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.from(`${'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",'.repeat(2048)}`);
        res.write('[');
        let sent = 0;
        let open = true;
        res.on('close', () => (open = false));
        while (open && sent < 2 * 1024 * 1024 * 1024) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
          sent += chunk.length;
        }
        res.destroy();
        return true;
      }
      case 'same-page': {
        const limit = Number(new URL(req.url ?? '/', 'http://fake').searchParams.get('limit') ?? '10');
        sendJson(res, 200, Array.from({ length: limit }, (_, i) => ({ object: 'user', id: `user_same${i}` })));
        return true;
      }
    }
  }

  private route(method: string, path: string, query: URLSearchParams, body: unknown): unknown {
    const parts = path.split('/').filter(Boolean);
    if (parts[0] !== 'v1') throw notFound();
    const [, resource, id, sub, subId] = parts;
    if (resource === 'users') {
      if (id === undefined) {
        if (method === 'GET') return this.listUsers(query).map(renderUser);
        if (method === 'POST') return renderUser(this.createUser(body));
      } else if (id === 'count' && sub === undefined) {
        if (method === 'GET') return { object: 'total_count', total_count: this.filterUsers(query).length };
      } else if (sub === undefined) {
        if (method === 'GET') return renderUser(this.findUser(id));
        if (method === 'PATCH') return renderUser(this.updateUser(id, body));
        if (method === 'DELETE') return this.deleteUser(id);
      } else if (sub === 'metadata' && subId === undefined) {
        if (method === 'PATCH') return renderUser(this.mergeUserMetadata(id, body));
      }
    } else if (resource === 'invitations' && id === undefined) {
      if (method === 'GET') return this.listInstanceInvitations(query);
      if (method === 'POST') return this.createInstanceInvitation(body);
    } else if (resource === 'organizations') {
      if (id === undefined) {
        if (method === 'GET') return this.listOrganizations(query);
        if (method === 'POST') return renderOrganization(this.createOrganization(body), this);
      } else if (sub === undefined) {
        if (method === 'GET') return renderOrganization(this.findOrganization(id), this);
        if (method === 'DELETE') return this.deleteOrganization(id);
      } else if (sub === 'invitations' && subId === undefined) {
        if (method === 'GET') return this.listInvitations(id, query);
        if (method === 'POST') return this.renderInvitation(this.createInvitation(id, body));
      }
    }
    throw notFound();
  }

  // --- users ---------------------------------------------------------------------------------------

  private filterUsers(query: URLSearchParams): UserRecord[] {
    let list = this.users;
    // A created_at range alone (the split walk's pages) is a slice of the list, which is kept in
    // creation order: found by binary search, so 100 000 users are not scanned for every page.
    const onlyRange = [...query.keys()].every((name) => ['created_at_after', 'created_at_before', 'limit', 'offset', 'order_by', 'starting_after', 'paginated'].includes(name));
    if (onlyRange && (query.has('created_at_after') || query.has('created_at_before'))) {
      const first = (bound: number) => {
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((list[mid] as UserRecord).created_at < bound) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      };
      const after = query.get('created_at_after');
      const before = query.get('created_at_before');
      const from = after === null ? 0 : first(integerParam('created_at_after', after) + 1);
      const to = before === null ? list.length : first(integerParam('created_at_before', before));
      return list.slice(from, Math.max(from, to));
    }
    const emails = query.getAll('email_address');
    const ids = query.getAll('user_id');
    const usernames = query.getAll('username');
    const externalIds = query.getAll('external_id');
    const text = query.get('query');
    const after = query.get('created_at_after');
    const before = query.get('created_at_before');
    if (emails.length) list = list.filter((u) => emails.includes(u.email));
    if (ids.length) list = list.filter((u) => ids.includes(u.id));
    if (usernames.length) list = list.filter((u) => u.username !== null && usernames.includes(u.username));
    if (externalIds.length) list = list.filter((u) => u.external_id !== null && externalIds.includes(u.external_id));
    if (text) list = list.filter((u) => [u.id, u.email, u.first_name, u.last_name, u.username].some((v) => v?.includes(text)));
    if (after !== null) list = list.filter((u) => u.created_at > integerParam('created_at_after', after));
    if (before !== null) list = list.filter((u) => u.created_at < integerParam('created_at_before', before));
    return list;
  }

  private listUsers(query: URLSearchParams): UserRecord[] {
    const { limit, offset } = pageParams(query);
    const orderBy = query.get('order_by') ?? '-created_at';
    const field = orderBy.replace(/^[+-]/, '');
    if (!USER_ORDER_FIELDS.has(field)) {
      throw new HttpProblem(422, 'form_param_value_invalid', 'is invalid', `order_by must be one of ${[...USER_ORDER_FIELDS].join(', ')}`, { param_name: 'order_by' });
    }
    const filtered = this.filterUsers(query);
    let sorted: UserRecord[];
    if (filtered === this.users) {
      // Sorting 100 000 users for every page would dwarf what the benchmark measures: cache per order.
      sorted = this.sortedUsers.get(orderBy) ?? sortUsers(this.users, orderBy);
      this.sortedUsers.set(orderBy, sorted);
    } else {
      sorted = sortUsers(filtered, orderBy);
    }
    const after = query.get('starting_after');
    if (after !== null) {
      // As Clerk: a cursor only over created_at orderings, and never with an offset.
      if (field !== 'created_at') throw new HttpProblem(422, 'form_param_value_invalid', 'is invalid', 'starting_after requires ordering by created_at', { param_name: 'starting_after' });
      if (offset !== 0) throw new HttpProblem(422, 'form_param_value_invalid', 'is invalid', 'starting_after cannot be combined with offset', { param_name: 'offset' });
      const at = sorted.findIndex((u) => u.id === after);
      return at < 0 ? [] : sorted.slice(at + 1, at + 1 + limit);
    }
    return sorted.slice(offset, offset + limit);
  }

  private findUser(id: string): UserRecord {
    const user = this.userById.get(id);
    if (!user) throw notFound();
    return user;
  }

  private createUser(body: unknown): UserRecord {
    const input = requireObject(body);
    const emails = Array.isArray(input.email_address) ? input.email_address.filter((e): e is string => typeof e === 'string') : [];
    for (const email of emails) {
      if (this.users.some((u) => u.email === email)) {
        throw new HttpProblem(422, 'form_identifier_exists', 'That email address is taken. Please try another.', 'That email address is taken. Please try another.', { param_name: 'email_address' });
      }
    }
    const now = Date.now();
    const user: UserRecord = {
      id: newId('user'),
      email: emails[0] ?? '',
      emailId: newId('idn'),
      first_name: stringOrNull(input.first_name),
      last_name: stringOrNull(input.last_name),
      username: stringOrNull(input.username),
      external_id: stringOrNull(input.external_id),
      public_metadata: isObject(input.public_metadata) ? input.public_metadata : {},
      private_metadata: isObject(input.private_metadata) ? input.private_metadata : {},
      unsafe_metadata: isObject(input.unsafe_metadata) ? input.unsafe_metadata : {},
      created_at: now,
      updated_at: now,
      last_sign_in_at: null,
    };
    this.users.push(user);
    this.userById.set(user.id, user);
    this.sortedUsers.clear();
    return user;
  }

  private updateUser(id: string, body: unknown): UserRecord {
    const user = this.findUser(id);
    const input = requireObject(body);
    for (const field of ['first_name', 'last_name', 'username', 'external_id'] as const) {
      if (field in input) user[field] = stringOrNull(input[field]);
    }
    // PATCH /users/{id} replaces a metadata object; only the /metadata endpoint merges.
    for (const field of ['public_metadata', 'private_metadata', 'unsafe_metadata'] as const) {
      if (isObject(input[field])) user[field] = input[field] as Obj;
    }
    user.updated_at = Date.now();
    this.sortedUsers.clear();
    return user;
  }

  private mergeUserMetadata(id: string, body: unknown): UserRecord {
    const user = this.findUser(id);
    const input = body === undefined ? {} : requireObject(body);
    for (const field of ['public_metadata', 'private_metadata', 'unsafe_metadata'] as const) {
      if (isObject(input[field])) user[field] = mergeMetadata(user[field], input[field] as Obj);
    }
    user.updated_at = Date.now();
    this.sortedUsers.clear();
    return user;
  }

  private deleteUser(id: string): unknown {
    const user = this.findUser(id);
    this.users = this.users.filter((u) => u !== user);
    this.userById.delete(id);
    this.sortedUsers.clear();
    return { object: 'user', id: user.id, deleted: true };
  }

  // --- organizations -------------------------------------------------------------------------------

  private findOrganization(idOrSlug: string): OrganizationRecord {
    const org = this.organizations.find((o) => o.id === idOrSlug || o.slug === idOrSlug);
    if (!org) throw notFound();
    return org;
  }

  private createOrganization(body: unknown): OrganizationRecord {
    const input = requireObject(body);
    if (typeof input.name !== 'string' || input.name.trim() === '') {
      throw new HttpProblem(422, 'form_param_missing', 'name is missing', 'name must be included.', { param_name: 'name' });
    }
    const createdBy = stringOrNull(input.created_by);
    if (createdBy !== null) this.findUserOr422(createdBy, 'created_by');
    const slug = typeof input.slug === 'string' ? input.slug : input.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    if (this.organizations.some((o) => o.slug === slug)) {
      throw new HttpProblem(422, 'form_identifier_exists', 'That slug is taken. Please try another.', 'That slug is taken. Please try another.', { param_name: 'slug' });
    }
    const now = Date.now();
    const org: OrganizationRecord = {
      id: newId('org'),
      name: input.name,
      slug,
      created_by: createdBy ?? '',
      max_allowed_memberships: typeof input.max_allowed_memberships === 'number' ? input.max_allowed_memberships : 0,
      public_metadata: isObject(input.public_metadata) ? input.public_metadata : {},
      private_metadata: isObject(input.private_metadata) ? input.private_metadata : {},
      created_at: now,
      updated_at: now,
    };
    this.organizations.push(org);
    return org;
  }

  private findUserOr422(id: string, param: string): UserRecord {
    const user = this.userById.get(id);
    if (!user) throw new HttpProblem(422, 'resource_not_found', 'not found', `No user was found with id ${id}`, { param_name: param });
    return user;
  }

  private listOrganizations(query: URLSearchParams): unknown {
    const { limit, offset } = pageParams(query);
    const text = query.get('query');
    const list = text ? this.organizations.filter((o) => [o.id, o.name, o.slug].some((v) => v.includes(text))) : this.organizations;
    const sorted = [...list].sort((a, b) => b.created_at - a.created_at);
    return { data: sorted.slice(offset, offset + limit).map((o) => renderOrganization(o, this)), total_count: list.length };
  }

  private deleteOrganization(id: string): unknown {
    const org = this.findOrganization(id);
    this.organizations = this.organizations.filter((o) => o !== org);
    this.invitations = this.invitations.filter((i) => i.organization_id !== org.id);
    return { object: 'organization', id: org.id, slug: org.slug, deleted: true };
  }

  pendingInvitations(orgId: string): number {
    return this.invitations.filter((i) => i.organization_id === orgId && i.status === 'pending').length;
  }

  private createInvitation(orgId: string, body: unknown): InvitationRecord {
    const org = this.findOrganization(orgId);
    const input = requireObject(body);
    if (typeof input.email_address !== 'string' || !input.email_address.includes('@')) {
      throw new HttpProblem(422, 'form_param_format_invalid', 'is invalid', 'email_address must be a valid email address.', { param_name: 'email_address' });
    }
    if (typeof input.role !== 'string' || input.role === '') {
      throw new HttpProblem(422, 'form_param_missing', 'role is missing', 'role must be included.', { param_name: 'role' });
    }
    const inviter = stringOrNull(input.inviter_user_id);
    if (inviter !== null) this.findUserOr422(inviter, 'inviter_user_id');
    const now = Date.now();
    const invitation: InvitationRecord = {
      id: newId('orginv'),
      organization_id: org.id,
      email_address: input.email_address,
      role: input.role,
      inviter_id: inviter,
      public_metadata: isObject(input.public_metadata) ? input.public_metadata : {},
      private_metadata: isObject(input.private_metadata) ? input.private_metadata : {},
      status: 'pending',
      created_at: now,
      updated_at: now,
    };
    this.invitations.push(invitation);
    return invitation;
  }

  private listInvitations(orgId: string, query: URLSearchParams): unknown {
    const org = this.findOrganization(orgId);
    const { limit, offset } = pageParams(query);
    const status = query.get('status');
    const list = this.invitations.filter((i) => i.organization_id === org.id && (status === null || i.status === status));
    return { data: list.slice(offset, offset + limit).map((i) => this.renderInvitation(i)), total_count: list.length };
  }

  // As Clerk: an array, or with paginated=true a {data, total_count} page.
  private listInstanceInvitations(query: URLSearchParams): unknown {
    const { limit, offset } = pageParams(query);
    const status = query.get('status');
    const list = this.instanceInvitations.filter((i) => status === null || i.status === status).sort((a, b) => b.created_at - a.created_at);
    const page = list.slice(offset, offset + limit).map((i) => ({ object: 'invitation', ...i, updated_at: i.created_at }));
    return query.get('paginated') === 'true' ? { data: page, total_count: list.length } : page;
  }

  private createInstanceInvitation(body: unknown): unknown {
    const input = requireObject(body);
    if (typeof input.email_address !== 'string' || !input.email_address.includes('@')) {
      throw new HttpProblem(422, 'form_param_format_invalid', 'is invalid', 'email_address must be a valid email address.', { param_name: 'email_address' });
    }
    if (this.instanceInvitations.some((i) => i.email_address === input.email_address && i.status === 'pending')) {
      throw new HttpProblem(422, 'duplicate_record', 'duplicate invitation', `There is already a pending invitation for ${input.email_address}.`, { param_name: 'email_address' });
    }
    const invitation = { id: newId('inv'), email_address: input.email_address, public_metadata: isObject(input.public_metadata) ? input.public_metadata : {}, status: 'pending', created_at: Date.now() };
    this.instanceInvitations.push(invitation);
    return { object: 'invitation', ...invitation, updated_at: invitation.created_at };
  }

  /** Adds n pending instance invitations (for paginated=true lists). */
  seedInvitations(n: number): void {
    const now = Date.now();
    for (let i = 0; i < n; i++) this.instanceInvitations.push({ id: `inv_seed${String(i).padStart(6, '0')}`, email_address: `invitee${i}@example.com`, public_metadata: {}, status: 'pending', created_at: now - (n - i) * 1000 });
  }

  private renderInvitation(invitation: InvitationRecord): Obj {
    const inviter = invitation.inviter_id === null ? undefined : this.userById.get(invitation.inviter_id);
    return {
      object: 'organization_invitation',
      id: invitation.id,
      email_address: invitation.email_address,
      role: invitation.role,
      role_name: invitation.role.replace(/^org:/, '').replace(/^./, (c) => c.toUpperCase()),
      organization_id: invitation.organization_id,
      inviter_id: invitation.inviter_id,
      public_inviter_data: inviter
        ? { user_id: inviter.id, first_name: inviter.first_name, last_name: inviter.last_name, image_url: imageUrl(inviter.id), has_image: false, identifier: inviter.email }
        : null,
      status: invitation.status,
      public_metadata: invitation.public_metadata,
      private_metadata: invitation.private_metadata,
      url: null,
      expires_at: invitation.created_at + 30 * 24 * 3600 * 1000,
      created_at: invitation.created_at,
      updated_at: invitation.updated_at,
    };
  }
}

function renderOrganization(org: OrganizationRecord, fake: FakeClerk): Obj {
  return {
    object: 'organization',
    id: org.id,
    name: org.name,
    slug: org.slug,
    image_url: imageUrl(org.id),
    has_image: false,
    max_allowed_memberships: org.max_allowed_memberships,
    admin_delete_enabled: true,
    pending_invitations_count: fake.pendingInvitations(org.id),
    public_metadata: org.public_metadata,
    private_metadata: org.private_metadata,
    created_by: org.created_by,
    created_at: org.created_at,
    updated_at: org.updated_at,
  };
}

function imageUrl(id: string): string {
  return `https://img.clerk.com/fake/${id}`;
}

function renderUser(user: UserRecord): Obj {
  const email = user.email
    ? [
        {
          id: user.emailId,
          object: 'email_address',
          email_address: user.email,
          reserved: false,
          verification: { object: 'verification_admin', status: 'verified', strategy: 'admin', attempts: null, expire_at: null },
          linked_to: [],
          matches_sso_connection: false,
          created_at: user.created_at,
          updated_at: user.created_at,
        },
      ]
    : [];
  return {
    id: user.id,
    object: 'user',
    external_id: user.external_id,
    primary_email_address_id: user.email ? user.emailId : null,
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    username: user.username,
    first_name: user.first_name,
    last_name: user.last_name,
    locale: null,
    image_url: imageUrl(user.id),
    has_image: false,
    public_metadata: user.public_metadata,
    private_metadata: user.private_metadata,
    unsafe_metadata: user.unsafe_metadata,
    email_addresses: email,
    phone_numbers: [],
    web3_wallets: [],
    passkeys: [],
    password_enabled: false,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    mfa_enabled_at: null,
    mfa_disabled_at: null,
    password_last_updated_at: null,
    external_accounts: [],
    saml_accounts: [],
    enterprise_accounts: [],
    organization_memberships: [],
    last_sign_in_at: user.last_sign_in_at,
    banned: false,
    locked: false,
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: null,
    created_at: user.created_at,
    updated_at: user.updated_at,
    delete_self_enabled: true,
    create_organization_enabled: true,
    last_active_at: null,
    legal_accepted_at: null,
  };
}

function sortUsers(users: UserRecord[], orderBy: string): UserRecord[] {
  const descending = orderBy.startsWith('-');
  const field = orderBy.replace(/^[+-]/, '');
  const key = (u: UserRecord): string | number => {
    if (field === 'email_address') return u.email;
    const value = u[field as keyof UserRecord];
    return typeof value === 'number' || typeof value === 'string' ? value : '';
  };
  const sorted = [...users].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return descending ? sorted.reverse() : sorted;
}

function pageParams(query: URLSearchParams): { limit: number; offset: number } {
  const limit = query.has('limit') ? integerParam('limit', query.get('limit')!) : 10;
  const offset = query.has('offset') ? integerParam('offset', query.get('offset')!) : 0;
  if (limit < 1 || limit > 500) {
    throw new HttpProblem(422, 'form_param_value_invalid', 'is invalid', 'limit must be between 1 and 500', { param_name: 'limit' });
  }
  if (offset < 0) throw new HttpProblem(422, 'form_param_value_invalid', 'is invalid', 'offset must be 0 or more', { param_name: 'offset' });
  return { limit, offset };
}

function integerParam(name: string, value: string): number {
  if (!/^-?\d+$/.test(value)) {
    throw new HttpProblem(422, 'form_param_format_invalid', 'is invalid', `${name} must be an integer`, { param_name: name });
  }
  return Number(value);
}

function notFound(): HttpProblem {
  return new HttpProblem(404, 'resource_not_found', 'not found', 'The requested resource was not found.');
}

function requireObject(body: unknown): Obj {
  if (body === undefined) return {};
  if (!isObject(body)) throw new HttpProblem(400, 'request_body_invalid', 'Request body invalid', 'The request body must be a JSON object.');
  return body;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function parseJsonBody(body: string, contentType: string | undefined): unknown {
  if (body === '') return undefined;
  if (contentType !== undefined && !contentType.includes('json')) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    throw new HttpProblem(400, 'malformed_request', 'Malformed request', 'The request body is not valid JSON.');
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function listenOn(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

/** Starts a fake on a free loopback port. */
export async function startFakeClerk(options: { key?: string; users?: number; metadata?: boolean; port?: number; latencyMs?: number; rateLimit?: { requests: number; windowMs: number } } = {}): Promise<FakeClerk> {
  const fake = new FakeClerk(options.key === undefined ? {} : { key: options.key });
  if (options.users) fake.seedUsers(options.users, { metadata: options.metadata === true });
  if (options.latencyMs) fake.latencyMs = options.latencyMs;
  if (options.rateLimit) fake.rateLimit = options.rateLimit;
  return fake.listen(options.port ?? 0);
}

async function standalone(argv: string[]): Promise<void> {
  const { default: minimist } = await import('minimist');
  const args = minimist(argv, { string: ['port', 'users', 'key', 'latency', 'rate-limit'], boolean: ['metadata'] });
  const rate = args['rate-limit'] ? /^(\d+)\/(\d+)ms$/.exec(String(args['rate-limit'])) : null;
  const fake = await startFakeClerk({
    port: args.port ? Number(args.port) : 0,
    users: args.users ? Number(args.users) : 0,
    metadata: args.metadata === true,
    ...(args.latency ? { latencyMs: Number(args.latency) } : {}),
    ...(rate ? { rateLimit: { requests: Number(rate[1]), windowMs: Number(rate[2]) } } : {}),
    ...(args.key ? { key: String(args.key) } : {}),
  });
  fake.record = false;
  process.stdout.write(`${fake.url}\n`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (isEntryPoint(import.meta.url)) await standalone(process.argv.slice(2));
