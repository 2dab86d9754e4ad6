// What a bapi-mcp tool returns: a short text for hosts that show text, and `structuredContent` that
// validates against the tool's `outputSchema`, so a host (and its model) reads data, not prose.
// Every result is capped and says when it was cut; an error carries the pipeline's stable `code`.
import { errorDocument, ToolkitError } from '../core/errors.js';
import type { IO, OutStream } from '../core/io.js';
import { redactSecret, type SecretKey } from '../guard/key.js';
import type { JsonSchema } from './json-schema.js';
import { InputRequired, type Tool } from './protocol.js';

export type ToolResult = { content: Array<{ type: 'text'; text: string }>; isError?: boolean; structuredContent?: Record<string, unknown> };

/** A sink for what a lib function prints. */
export function capture(): { stream: OutStream; text: () => string } {
  const chunks: string[] = [];
  return { stream: { write: (chunk: string) => chunks.push(chunk), isTTY: false }, text: () => chunks.join('') };
}

export function quietIO(env: IO['env'], cwd: string, out: OutStream, err: OutStream): IO {
  return { stdin: Object.assign((async function* () {})(), { isTTY: false }), stdout: out, stderr: err, env, cwd };
}

/**
 * The output schema of each tool (JSON Schema). A client validates an error result's structuredContent
 * too, so each schema also allows `{error}`: a result has either the tool's fields or `error` ({code,
 * message, hints, exit_code, …}: README, Error codes).
 */
export function outputSchemas() {
  const endpoint = { type: 'object', properties: { method: { type: 'string' }, path: { type: 'string' }, operationId: { type: ['string', 'null'] }, summary: { type: ['string', 'null'] }, tags: { type: 'array', items: { type: 'string' } }, deprecated: { type: 'boolean' } }, required: ['method', 'path', 'operationId', 'summary', 'tags', 'deprecated'] };
  const cut = { type: 'boolean', description: 'true when the result was cut to fit the cap; ask for less' };
  const error = {
    type: 'object',
    properties: { code: { type: 'string' }, message: { type: 'string' }, hints: { type: 'array', items: { type: 'string' } }, exit_code: { type: 'integer' } },
    required: ['code', 'message', 'hints', 'exit_code'],
    description: 'the failure, instead of the fields above: its stable code, and details such as approval_id, approve_command, decide_where',
  };
  const either = (properties: Record<string, JsonSchema>): JsonSchema & { type: 'object' } => ({ type: 'object', properties: { ...properties, error } });
  const text = { type: 'string' };
  const integer = { type: 'integer' };
  return {
    search_endpoints: either({ endpoints: { type: 'array', items: endpoint }, total: integer, cut }),
    describe_endpoint: either({ endpoint: { type: 'object', description: 'the endpoint as extract-endpoint-detail --json prints it (responses pruned below depth)' }, cut }),
    call_api: either({
      output: { type: 'string', description: 'what bapi-curl prints: the JSON body, or one value per line with jq or pagination' },
      data: { description: 'the output parsed, when it is one JSON document and was not cut' },
      items: { type: 'array', description: 'with paginate: the items, when each line is JSON and nothing was cut' },
      cut,
    }),
    check_request: either({ verdict: { type: 'object', description: "the guard's verdict, as bapi-guard --json prints it" } }),
    write_api: either({ output: text, data: {}, cut }),
    list_webhook_events: either({ version: text, events: { type: 'array', items: { type: 'object', properties: { type: text, description: text, example: { type: 'boolean' } }, required: ['type', 'description', 'example'] } }, cut }),
    trigger_webhook: either({ type: text, url: text, status: integer, body: text, svix_id: text, added: { type: 'array', items: text } }),
  } satisfies Record<string, JsonSchema>;
}

/** Text capped at `limit`, with a line that says it was cut and what to do. */
export function capped(text: string, limit: number, more: string): { text: string; cut: boolean } {
  if (text.length <= limit) return { text, cut: false };
  return { text: `${text.slice(0, limit)}\n[cut at ${limit} of ${text.length} characters: ${more}]`, cut: true };
}

/** A result whose structured content is `document`; its text is the document as JSON, capped. */
export function structured(document: Record<string, unknown>, text: string, limit: number, more: string): ToolResult {
  const shown = capped(text, limit, more);
  return { content: [{ type: 'text', text: shown.text }], structuredContent: document };
}

/** What bapi-curl printed, as a result: the text, and the data when it is whole JSON. */
export function printed(output: string, limit: number, more: string, paginate = false): ToolResult {
  const shown = capped(output, limit, more);
  const document: Record<string, unknown> = { output: shown.text, cut: shown.cut };
  if (!shown.cut) {
    const trimmed = output.trim();
    try {
      if (trimmed !== '') document.data = JSON.parse(trimmed) as unknown;
    } catch {
      if (paginate) {
        try {
          document.items = trimmed.split('\n').map((line) => JSON.parse(line) as unknown);
        } catch {
          // Lines of text (a jq filter that prints strings): the output says it all.
        }
      }
    }
  }
  return { content: [{ type: 'text', text: shown.text }], structuredContent: document };
}

/** The longest prefix of `items` whose JSON fits in `limit` characters. */
export function fitting<T>(items: T[], limit: number): T[] {
  let count = items.length;
  while (count > 0 && JSON.stringify(items.slice(0, count)).length > limit) count = Math.floor(count * 0.8);
  return items.slice(0, count);
}

/** An error result: the text for hosts that show text, and the error as data with its stable code. */
export function failure(error: unknown, key: SecretKey, extra = ''): ToolResult {
  const message = error instanceof ToolkitError ? [error.message, ...error.hints].join('\n') : error instanceof Error ? error.message : String(error);
  const mask = key.info.masked ?? '[REDACTED]';
  return {
    content: [{ type: 'text', text: redactSecret(`${message}${extra ? `\n${extra}` : ''}`, key.value, mask) }],
    isError: true,
    structuredContent: { error: redactSecret(errorDocument(error), key.value, mask) },
  };
}

/** `schema` with what lies deeper than `depth` levels of properties replaced by its type and a `$cut` mark. */
export function pruneSchema(schema: unknown, depth: number): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const node = schema as Record<string, unknown>;
  if (depth <= 0 && (node.properties !== undefined || node.items !== undefined)) return { type: node.type ?? 'object', $cut: 'deeper fields left out: describe_endpoint with a larger depth' };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && value && typeof value === 'object') out[key] = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, pruneSchema(child, depth - 1)]));
    else if (key === 'items' || key === 'oneOf' || key === 'anyOf' || key === 'allOf') out[key] = Array.isArray(value) ? value.map((v) => pruneSchema(v, depth)) : pruneSchema(value, depth);
    else out[key] = value;
  }
  return out;
}

/** An input schema: these properties, these required. */
export function input(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema & { type: 'object' } {
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}

/** A handler whose failures become error results; a 2026-07-28 `input_required` passes through. */
export function guarded(key: SecretKey, handler: Tool['handler']): Tool['handler'] {
  return async (args, call) => {
    try {
      return await handler(args, call);
    } catch (error) {
      if (error instanceof InputRequired) throw error;
      return failure(error, key);
    }
  };
}

