// Sending one request to Clerk: where it may go (https, or loopback http for tests), the headers it
// carries, retries that never repeat a write the server may have received, and redirects followed by
// hand so that the key never leaves for another host.
//
// The wire is node:http(s) with a keep-alive agent by default. undici is used when a dispatcher is
// passed in (tests: its MockAgent): measured here, importing undici and making its first request
// costs ~0.2 s of CPU (its module graph and its WebAssembly HTTP parser), four times node's own
// start-up, where node:http costs ~0.01 s; for a command run once per call that is the whole budget.
import type { Dispatcher } from 'undici';
import { RedirectRefusedError, ResponseTooLargeError, UnavailableError } from '../core/errors.js';
import { isTrustedOrigin } from '../request/url.js';
import { nodeWire, undiciWire, type Wire } from './wire.js';

/** JSON text, or an encoded multipart body (with its content-type among the headers). */
export type RequestBody = string | Buffer | null;

export interface OutgoingRequest {
  method: string;
  url: URL;
  /** Extra headers (content-type, the user's -H); the client adds its own. Lower-case names. */
  headers: Record<string, string>;
  body: RequestBody;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: string;
  attempts: number;
}

export interface ClientConfig {
  key: string;
  /** Sent as Clerk-API-Version; null sends none. */
  apiVersion: string | null;
  userAgent: string;
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff delay; doubled on each retry, with jitter. */
  retryDelayMs: number;
  /** A Retry-After longer than this is not waited for: the 429 is returned as is. */
  maxRetryAfterMs: number;
  /** An answer larger than this is not read into memory: the request fails (default 256 MiB). */
  maxResponseBytes?: number;
  /** An undici dispatcher to send through (tests: undici's MockAgent); default node:http(s). */
  dispatcher?: Dispatcher;
  sleep?: (ms: number) => Promise<void>;
  /** Told about each retry, for a line on stderr. */
  onRetry?: (message: string) => void;
  /** Awaited before every attempt (the rate-limit governor's budget); what it returns is called once the attempt ends. */
  beforeAttempt?: () => Promise<(() => Promise<void>) | void>;
  /** Told of a 429's wait, so every process sharing the instance pauses too. */
  onRateLimited?: (ms: number) => void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUSES = new Set([502, 503, 504]);
// Errors raised before a byte of the request left: retrying cannot repeat a write.
const NOT_SENT = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const PERMANENT = new Set(['ENOTFOUND', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']);

/** Seconds or an HTTP date → milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

// undici wraps system errors; the most telling code is the first one that is not undici's own.
function errorCode(error: unknown): string {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes.find((code) => !code.startsWith('UND_ERR')) ?? codes[0] ?? 'UNKNOWN';
}

function describeNetworkError(code: string, url: URL, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `no complete answer from ${url.host} within ${timeoutMs / 1000}s`;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${url.host}: connection refused`;
    case 'ENOTFOUND':
      return `cannot resolve ${url.hostname}`;
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname} (temporary DNS failure)`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `cannot connect to ${url.host}: timed out`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return `the connection to ${url.host} was closed before the answer was complete`;
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return `the answer from ${url.host} was cut short`;
    default:
      return `network error talking to ${url.host} (${code})`;
  }
}

/**
 * Which redirects a request follows: `follow` any https or loopback target (the key only to the
 * configured origin), `same-origin` only those to the configured origin, `never` none (every write:
 * a 307/308 would re-send its body, possibly to another host, and a loop would repeat it).
 */
export type RedirectPolicy = 'follow' | 'same-origin' | 'never';

export interface SendOptions {
  redirects?: RedirectPolicy;
}

export interface HttpClient {
  send(request: OutgoingRequest, options?: SendOptions): Promise<HttpResponse>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

const MAX_REDIRECTS = 5;

/** A failure that may be retried: it never left, or it is idempotent, and it is not a permanent one. */
function networkRetryable(code: string, idempotent: boolean): boolean {
  // An answer over the size limit would be as large again.
  return code !== 'E_TOO_LARGE' && !PERMANENT.has(code) && (NOT_SENT.has(code) || idempotent);
}

/** The error for an attempt that got no answer: too large, or unreachable (saying whether a write may have arrived). */
function networkFailure(result: { error: unknown; code: string; timedOut: boolean }, at: { method: string; url: URL; origin: string; idempotent: boolean; timeoutMs: number }): Error {
  if (result.code === 'E_TOO_LARGE') {
    return new ResponseTooLargeError((result.error as Error).message, { hints: ['Set CLERK_BAPI_MAX_RESPONSE_MB to read larger answers, or ask for less (a smaller limit, --paginate).'] });
  }
  const hints: string[] = [];
  if (!NOT_SENT.has(result.code) && !at.idempotent) hints.push(`A ${at.method} is never retried automatically: the server may have applied it. Check before sending it again.`);
  if (result.code === 'ECONNREFUSED' || result.code === 'ENOTFOUND') hints.push(`Check CLERK_API_URL and your network (now: ${at.origin}).`);
  return new UnavailableError(describeNetworkError(result.code, at.url, at.timeoutMs, result.timedOut), { hints, cause: result.error });
}

/** Where a redirect leads, or why it is not followed (a write's, another scheme's, another host's when only the same is allowed). */
function redirectTarget(at: { method: string; status: number; location: string; url: URL; origin: string; policy: NonNullable<SendOptions['redirects']>; requested: URL }): { url: URL; dropBody: boolean } {
  let target: URL;
  try {
    target = new URL(at.location, at.url);
  } catch {
    throw new RedirectRefusedError(`the API redirected to an invalid location: ${JSON.stringify(at.location)}`);
  }
  if (!isTrustedOrigin(target)) {
    throw new RedirectRefusedError(`the API redirected to ${target.protocol}//${target.host}, which is neither https nor loopback; not followed`);
  }
  if (at.policy === 'never') {
    throw new RedirectRefusedError(`the API answered ${at.method} ${at.requested.pathname} with a ${at.status} redirect to ${target.href}; a write never follows a redirect, so it was not sent again`, {
      hints: ['Check CLERK_API_URL: Clerk\'s API does not redirect writes.'],
    });
  }
  if (at.policy === 'same-origin' && target.origin !== at.origin) {
    throw new RedirectRefusedError(`the API redirected ${at.method} ${at.requested.pathname} to another host (${target.host}); not followed`);
  }
  // 307/308 keep the method and body; 301/302/303 become a GET, which we only do for reads.
  if (at.status === 307 || at.status === 308) return { url: target, dropBody: false };
  if (at.method !== 'GET') throw new RedirectRefusedError(`the API answered ${at.method} with a ${at.status} redirect to ${target.href}; not followed for a write`);
  return { url: target, dropBody: true };
}

/** The headers of one attempt: the key only to the origin the user configured (and over https or loopback). */
function headersFor(config: ClientConfig, request: OutgoingRequest, url: URL, withKey: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': config.userAgent,
    ...request.headers,
  };
  if (config.apiVersion !== null && headers['clerk-api-version'] === undefined) headers['clerk-api-version'] = config.apiVersion;
  if (withKey && isTrustedOrigin(url)) headers.authorization = `Bearer ${config.key}`;
  return headers;
}

export function createHttpClient(config: ClientConfig): HttpClient {
  const sleep = config.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const node = config.dispatcher === undefined ? nodeWire() : null;
  const wire: Wire = node ? node.wire : undiciWire(config.dispatcher as Dispatcher, config.timeoutMs);

  async function attempt(method: string, url: URL, headers: Record<string, string>, body: RequestBody) {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, config.timeoutMs);
    try {
      const answer = await wire(method, url, headers, body, controller.signal, config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
      return { ok: true as const, ...answer };
    } catch (error) {
      return { ok: false as const, error, code: errorCode(error), timedOut };
    } finally {
      clearTimeout(timer);
    }
  }

  async function send(request: OutgoingRequest, options: SendOptions = {}): Promise<HttpResponse> {
    const redirectPolicy = options.redirects ?? 'follow';
    const method = request.method.toUpperCase();
    const origin = request.url.origin;
    let url = request.url;
    let body = request.body;
    let attempts = 0;
    let retries = 0;
    let redirects = 0;
    for (;;) {
      attempts++;
      const sameOrigin = url.origin === origin;
      const settle = await config.beforeAttempt?.();
      const result = await attempt(method, url, headersFor(config, request, url, sameOrigin), body);
      if (settle) await settle();
      const idempotent = IDEMPOTENT.has(method);
      const backoff = () => Math.min(config.retryDelayMs * 2 ** retries, 30_000) * (0.75 + Math.random() * 0.5);
      if (!result.ok) {
        // Retried when it never left, or when repeating it is harmless; else a clear failure.
        if (networkRetryable(result.code, idempotent) && retries < config.maxRetries) {
          const delay = backoff();
          config.onRetry?.(`${describeNetworkError(result.code, url, config.timeoutMs, result.timedOut)}; retrying in ${(delay / 1000).toFixed(1)}s (${retries + 1}/${config.maxRetries})`);
          retries++;
          await sleep(delay);
          continue;
        }
        throw networkFailure(result, { method, url, origin, idempotent, timeoutMs: config.timeoutMs });
      }

      const { status, headers } = result;
      if (status >= 300 && status < 400 && headers.location !== undefined) {
        if (redirects >= MAX_REDIRECTS) throw new RedirectRefusedError(`too many redirects (last to ${headers.location})`);
        const next = redirectTarget({ method, status, location: headers.location, url, origin, policy: redirectPolicy, requested: request.url });
        if (next.dropBody) body = null;
        redirects++;
        url = next.url;
        continue;
      }

      const retryAfter = parseRetryAfter(headers['retry-after']);
      if (status === 429) config.onRateLimited?.(retryAfter ?? config.retryDelayMs);
      if (status === 429 && retries < config.maxRetries && (retryAfter === null || retryAfter <= config.maxRetryAfterMs)) {
        // A 429 was refused before any work: safe to repeat for every method.
        const delay = retryAfter ?? backoff();
        config.onRetry?.(`rate limited (429); retrying in ${(delay / 1000).toFixed(1)}s (${retries + 1}/${config.maxRetries})`);
        retries++;
        await sleep(delay);
        continue;
      }
      if (RETRY_STATUSES.has(status) && idempotent && retries < config.maxRetries) {
        const delay = retryAfter !== null && retryAfter <= config.maxRetryAfterMs ? retryAfter : backoff();
        config.onRetry?.(`HTTP ${status}; retrying in ${(delay / 1000).toFixed(1)}s (${retries + 1}/${config.maxRetries})`);
        retries++;
        await sleep(delay);
        continue;
      }
      return { status, statusText: STATUS_TEXT[status] ?? '', headers, body: result.body, url: url.href, attempts };
    }
  }

  return {
    send,
    async close() {
      node?.close();
    },
  };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
