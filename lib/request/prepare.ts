// The pipeline's first step: one normalised request, whichever front-end it came from (bapi-curl's
// arguments or JSON on stdin, a batch line, an MCP tool call). Pure: what the guard judges, what the
// approval binds and what is sent all come from this one value.
//
//   prepareRequest → judge (guard/policy.evaluate) → authorize (guard/authorize) → send (http/send)
import type { ApiCall } from './args.js';
import { formBinding, type LoadedFormField } from './form.js';
import { resolveRequestTarget } from './url.js';

export interface NormalizedRequest {
  /** Upper case. */
  method: string;
  /** The path the guard judges: leading slash, no /v1, no query (e.g. /users/user_1). */
  path: string;
  /** PATH's own query pairs, then the ones given apart, in order. */
  query: Array<[string, string]>;
  /** The JSON body; undefined when there is none. */
  body: unknown;
  /** Multipart fields with their files read; null for a JSON or empty body. */
  form: LoadedFormField[] | null;
  /** Extra headers the user gave (lower-case names); never ones that change what is judged. */
  headers: Record<string, string>;
  /** Where it goes: the base URL, /v1, the judged path and the query. */
  url: URL;
  /** The approval a guard verdict named, when the request came as one. */
  approvalId?: string;
}

/** The request an ApiCall means under `base`, with its form files already read. Throws UsageError for a PATH it must refuse. */
export function prepareRequest(call: ApiCall, base: URL, form: LoadedFormField[] | null = null): NormalizedRequest {
  const target = resolveRequestTarget(base, call.path, call.query);
  return {
    method: call.method,
    path: target.path,
    query: target.query,
    body: call.body,
    form,
    headers: { ...call.headers },
    url: target.url,
    ...(call.approvalId ? { approvalId: call.approvalId } : {}),
  };
}

/** What the guard judges and an approval binds: the JSON body, or each multipart field (a file by its SHA-256). */
export function judgedRequest(request: NormalizedRequest): { method: string; path: string; query: Array<[string, string]>; body: unknown } {
  return { method: request.method, path: request.path, query: request.query, body: request.form ? formBinding(request.form) : request.body };
}

/** The JSON body as sent, or null. */
export function bodyText(request: NormalizedRequest): string | null {
  return request.body === undefined ? null : JSON.stringify(request.body);
}

/** The headers it is sent with (the key aside): the spec version, the JSON content type, the user's own. */
export function wireHeaders(request: NormalizedRequest, version: string): Record<string, string> {
  return { 'clerk-api-version': version, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers };
}
