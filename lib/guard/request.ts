// The request the guard judges, read from bapi-guard's arguments exactly as bapi-curl reads them
// (-d, -f, -F, -q, --form with each file's content bound), or from stdin: a {method, path, query,
// body} document, a verdict, or a METHOD<TAB>PATH record.
import { UsageError } from '../core/errors.js';
import type { IO } from '../core/io.js';
import { isObject } from '../core/values.js';
import { matchEndpoint, parseEndpointArgs, parseEndpointRecord } from '../endpoint/match.js';
import { callFromArgs, queryPairs } from '../request/args.js';
import { bodyFieldTypes, parseJsonBody, type FieldType } from '../request/body.js';
import { formBinding, loadForm } from '../request/form.js';
import { endpointKey } from '../spec/index.js';
import type { SpecOptions } from '../spec/select.js';
import type { GuardRequest } from './policy.js';
import type { GuardSpec } from './run-guard.js';

/** What of bapi-guard's arguments describes the request. */
export interface GuardArguments {
  args: string[];
  data: string | undefined;
  rawFields: string[];
  typedFields: string[];
  query: Array<[string, string]>;
  form: string[];
  spec: SpecOptions;
}

/**
 * The request from the arguments (read exactly as bapi-curl reads them, so what is checked is what
 * it sends), or from stdin (`{method, path, query, body}`, a verdict, or `METHOD⇥PATH`).
 */
export async function readGuardRequest(options: GuardArguments, io: IO, spec: GuardSpec, stdin: () => Promise<string | null>): Promise<GuardRequest> {
  const bodyFromStdin = options.data === '-' || options.typedFields.some((field) => /=@-$/.test(field));
  const stdinText = bodyFromStdin ? await stdin() : null;
  if (bodyFromStdin && stdinText === null) throw new UsageError('-d - was given but stdin is empty');
  const fromArgs = (method: string, path: string): GuardRequest => {
    const call = callFromArgs({
      method,
      path,
      data: options.data,
      rawFields: options.rawFields,
      typedFields: options.typedFields,
      query: [],
      form: options.form,
      headers: [],
      readStdin: () => stdinText,
      fieldType: fieldTypesFor(spec, method, path),
      cwd: io.cwd,
    });
    const body = call.form ? formBinding(loadForm(call.form)) : call.body;
    return { method: call.method, path: call.path, query: [...call.query, ...options.query], body };
  };
  if (options.args.length > 0) {
    const input = parseEndpointArgs(options.args);
    return fromArgs(input.method, input.origin ? `${input.origin}${input.path}` : input.path);
  }
  const text = bodyFromStdin || options.spec.spec === '-' ? null : await stdin();
  if (text === null) throw new UsageError('missing METHOD and PATH', { hints: ['Run bapi-guard --help for usage.'] });
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const document = parseJsonBody(trimmed, 'stdin');
    const request = isObject(document) && isObject(document.request) ? document.request : document;
    if (isObject(request) && typeof request.method === 'string' && typeof request.path === 'string') {
      const given = fromArgs(request.method, request.path);
      const stdinBody = request.body === null || request.body === undefined ? undefined : request.body;
      if (given.body !== undefined && stdinBody !== undefined) throw new UsageError('the body was given twice: with -d and in the request on stdin');
      return { ...given, query: [...queryPairs(request.query, 'query on stdin'), ...given.query], body: given.body ?? stdinBody };
    }
  }
  const input = parseEndpointRecord(text);
  return fromArgs(input.method, input.path);
}

function fieldTypesFor(spec: GuardSpec, method: string, path: string): (name: string) => FieldType {
  let match;
  try {
    match = matchEndpoint(spec.endpoints, { method, path });
  } catch {
    match = null;
  }
  return match ? bodyFieldTypes(spec.detail.endpoints[endpointKey(match.endpoint.method, match.endpoint.path)], spec.detail.components) : () => null;
}
