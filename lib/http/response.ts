// What the user sees of a response: the body on stdout (pretty on a TTY, as received when piped),
// `-i`'s status and headers, and the one-line summary of an HTTP error for stderr.
import type { HttpResponse } from './client.js';

export function isJsonType(contentType: string | undefined): boolean {
  return contentType === undefined || /[/+]json\b/i.test(contentType);
}

/** The body parsed as JSON; `ok: false` when it is not JSON (an HTML error page, a truncated answer). */
export function parseBody(response: HttpResponse): { ok: true; value: unknown } | { ok: false; reason: string } {
  const text = response.body.toString('utf8');
  if (text.trim() === '') return { ok: false, reason: 'the body is empty' };
  const type = response.headers['content-type'];
  if (!isJsonType(type)) return { ok: false, reason: `the body is ${type?.split(';')[0] ?? 'not JSON'}, not JSON` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `the body is not valid JSON (${(error as Error).message})` };
  }
}

/** The body for stdout: indented on a TTY, exactly as received otherwise. */
export function renderBody(response: HttpResponse, pretty: boolean): string {
  const text = response.body.toString('utf8');
  const parsed = pretty ? parseBody(response) : null;
  const out = parsed?.ok ? JSON.stringify(parsed.value, null, 2) : text;
  // With the final newline a pipe's reader expects, as for a success (gh and jq print it too).
  return out.endsWith('\n') || out === '' ? out : `${out}\n`;
}

/** `-i`: the status line and headers, as curl prints them. */
export function renderHead(response: HttpResponse): string {
  const lines = [`HTTP/1.1 ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`];
  for (const [name, value] of Object.entries(response.headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\n')}\n\n`;
}

interface ClerkError {
  code?: unknown;
  message?: unknown;
  long_message?: unknown;
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The trace id of a response: the body's clerk_trace_id, else the x-clerk-trace-id header. */
export function traceIdOf(response: HttpResponse, parsed?: unknown): string | null {
  const value = parsed ?? (() => {
    const body = parseBody(response);
    return body.ok ? body.value : undefined;
  })();
  if (value !== null && typeof value === 'object' && typeof (value as { clerk_trace_id?: unknown }).clerk_trace_id === 'string') {
    return (value as { clerk_trace_id: string }).clerk_trace_id;
  }
  return response.headers['x-clerk-trace-id'] ?? null;
}

/**
 * One line for an HTTP error: status, then Clerk's code, message, long_message and clerk_trace_id;
 * for a body that is not Clerk's error shape (a proxy's HTML page), what it is instead.
 */
export function errorSummary(response: HttpResponse): string {
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const parsed = parseBody(response);
  const trace = traceIdOf(response, parsed.ok ? parsed.value : undefined);
  const traceText = trace ? ` (clerk_trace_id ${trace})` : '';
  if (parsed.ok && parsed.value !== null && typeof parsed.value === 'object') {
    const errors = (parsed.value as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as ClerkError;
      const parts = [typeof first.code === 'string' ? first.code : null, typeof first.message === 'string' ? first.message : null]
        .filter((p): p is string => p !== null && p !== '');
      let line = `${status}: ${parts.join(': ')}`;
      if (typeof first.long_message === 'string' && first.long_message !== '' && first.long_message !== first.message) line += ` — ${oneLine(first.long_message)}`;
      if (errors.length > 1) line += ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})`;
      return `${line}${traceText}`;
    }
  }
  if (!parsed.ok) {
    const text = response.body.toString('utf8');
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
    return `${status}: ${parsed.reason}${title ? `: ${oneLine(title, 120)}` : ''}${traceText}`;
  }
  return `${status}${traceText}`;
}
