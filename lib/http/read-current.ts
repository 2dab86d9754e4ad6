// One GET of a resource as it is now, for a person or the guard to see before a write: what a
// metadata replace would lose, who a DELETE removes. Never fails: undefined when it cannot be read.
// bapi-guard loads it (and the client with it) as a bundle apart, only when it asks for it.
import { userAgent } from '../core/version.js';
import { createHttpClient, type ClientConfig, type HttpClient } from './client.js';
import { parseBody } from './response.js';

/** The resource at `url` now, or undefined when it cannot be read (then the guard judges the body alone). */
export async function readCurrent(deps: { createClient: (config: ClientConfig) => HttpClient }, config: { key: string; version: string; timeoutMs: number }, url: URL): Promise<unknown> {
  const client = deps.createClient({ key: config.key, apiVersion: config.version, userAgent: userAgent(), timeoutMs: config.timeoutMs, maxRetries: 1, retryDelayMs: 200, maxRetryAfterMs: 10_000 });
  try {
    const response = await client.send({ method: 'GET', url, headers: { 'clerk-api-version': config.version }, body: null }, { redirects: 'same-origin' });
    const parsed = response.status === 200 ? parseBody(response) : null;
    return parsed?.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  } finally {
    await client.close();
  }
}

/** readCurrent with the real client, for a command that has no client of its own (bapi-guard). */
export function readWithKey(key: string, version: string, url: URL, timeoutMs: number): Promise<unknown> {
  return readCurrent({ createClient: createHttpClient }, { key, version, timeoutMs }, url);
}
