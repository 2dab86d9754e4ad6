// The wire under the client: one request and its whole answer (up to a size limit), over node:http(s)
// with a keep-alive agent, or over an undici dispatcher (tests: its MockAgent).
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestBody } from './client.js';

function tooLarge(url: URL, limit: number): Error {
  return Object.assign(new Error(`the answer from ${url.host} is larger than ${Math.round(limit / 1024 / 1024)} MB; not read`), { code: 'E_TOO_LARGE' });
}

export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type Wire = (method: string, url: URL, headers: Record<string, string>, body: RequestBody, signal: AbortSignal, limit: number) => Promise<WireAnswer>;

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** node:http(s) with one keep-alive agent per protocol. */
export function nodeWire(): { wire: Wire; close(): void } {
  const agents = new Map<string, HttpAgent>();
  const wire: Wire = async (method, url, headers, body, signal, limit) => {
    const lib = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    let agent = agents.get(url.protocol);
    if (agent === undefined) {
      agent = new lib.Agent({ keepAlive: true, maxSockets: 4 });
      agents.set(url.protocol, agent);
    }
    const payload = body === null ? null : typeof body === 'string' ? Buffer.from(body) : body;
    const outgoing = { ...headers };
    if (payload !== null) outgoing['content-length'] = String(payload.length);
    return new Promise<WireAnswer>((resolve, reject) => {
      const req = lib.request(url, { method, headers: outgoing, agent, signal });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) {
          req.destroy();
          reject(tooLarge(url, limit));
          return;
        }
        // A declared length is read straight into one buffer: no chunk list, no copy at the end (a
        // walk of 1 MB pages otherwise holds each page twice while it is being read).
        const whole = Number.isFinite(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : null;
        res.on('data', (chunk: Buffer) => {
          if (whole !== null && size + chunk.length <= whole.length) {
            chunk.copy(whole, size);
            size += chunk.length;
            return;
          }
          size += chunk.length;
          if (size > limit) {
            req.destroy();
            reject(tooLarge(url, limit));
            return;
          }
          if (whole !== null && chunks.length === 0) chunks.push(whole.subarray(0, size - chunk.length));
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('aborted', () => reject(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          if (!res.complete) {
            reject(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
            return;
          }
          const body = chunks.length > 0 ? Buffer.concat(chunks) : whole !== null ? whole.subarray(0, size) : Buffer.alloc(0);
          resolve({ status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body });
        });
      });
      req.end(payload ?? undefined);
    });
  };
  return {
    wire,
    close() {
      for (const agent of agents.values()) agent.destroy();
    },
  };
}

/** undici's request over an injected dispatcher. */
export function undiciWire(dispatcher: Dispatcher, timeoutMs: number): Wire {
  return async (method, url, headers, body, signal, limit) => {
    const { request } = await import('undici');
    const response = await request(url, {
      method: method as Dispatcher.HttpMethod,
      headers,
      body: body ?? undefined,
      dispatcher,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        response.body.destroy();
        throw tooLarge(url, limit);
      }
      chunks.push(chunk as Buffer);
    }
    return { status: response.statusCode, headers: flattenHeaders(response.headers), body: Buffer.concat(chunks) };
  };
}

