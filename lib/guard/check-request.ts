// The request against the spec: its path parameters, query and body, each problem at its path. The
// guard's second check, and the executor's check of a read. Pure.
import { ToolkitError } from '../core/errors.js';
import { escapeControls } from '../core/io.js';
import { isObject, type Obj } from '../core/values.js';
import { findEndpoint, parseRequestTarget, type EndpointMatch } from '../endpoint/match.js';
import { deprecatedProperties, deref, validateValue, type SchemaProblem } from '../endpoint/validate.js';
import { checkBodyValue } from '../request/body.js';
import { endpointKey, type EndpointRaw, type EndpointSummary, type SpecDetail } from '../spec/index.js';
import { describeSecretKey } from './key.js';
import type { GuardContext, GuardRequest } from './policy.js';
import type { GuardSpec } from './run-guard.js';

const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** The JSON paths (escaped for display) of body keys that hold a control or bidi character. */
function unsafeKeys(value: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item, i) => unsafeKeys(item, `${path}[${i}]`, out));
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const here = `${path}.${escapeControls(key)}`;
      if (CONTROL_OR_BIDI.test(key)) out.push(here);
      unsafeKeys(item, here, out);
    }
  }
  return out;
}

// Query values arrive as text; give them the type their schema expects before validating.
function typedQueryValue(raw: string, schema: unknown): unknown {
  const type = isObject(schema) ? schema.type : undefined;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function knownOrigins(env: Record<string, string | undefined>): string[] {
  const origins = ['https://api.clerk.com'];
  if (env.CLERK_API_URL) {
    try {
      origins.push(new URL(env.CLERK_API_URL).origin);
    } catch {
      // An invalid CLERK_API_URL is the executor's to report.
    }
  }
  return origins;
}

export interface RequestCheck {
  match: EndpointMatch | null;
  raw: EndpointRaw | null;
  path: string;
  query: Array<[string, string]>;
  problems: SchemaProblem[];
  warnings: string[];
  message: string;
  hints: string[];
}

export function checkRequest(request: GuardRequest, context: GuardContext): RequestCheck {
  const method = request.method.trim().toUpperCase();
  const result: RequestCheck = { match: null, raw: null, path: request.path, query: [...request.query], problems: [], warnings: [], message: '', hints: [] };
  let target;
  try {
    target = parseRequestTarget(request.path);
  } catch (error) {
    result.message = error instanceof Error ? error.message : String(error);
    result.problems.push({ path: 'path', message: result.message });
    return result;
  }
  try {
    // Before anything walks the body, however it arrived (a tool call skips the CLI's parser).
    if (request.body !== undefined) checkBodyValue(request.body, 'the body');
  } catch (error) {
    result.message = error instanceof Error ? error.message : String(error);
    result.problems.push({ path: '$', message: result.message });
    return result;
  }
  result.path = target.path;
  result.query = [...target.query, ...request.query];
  if (target.origin !== undefined && !knownOrigins(context.env).includes(target.origin)) {
    result.message = `${target.origin} is not Clerk's Backend API (https://api.clerk.com or CLERK_API_URL); give a path such as /users`;
    result.problems.push({ path: 'path', message: result.message });
    return result;
  }
  try {
    result.match = findEndpoint(context.endpoints, { method, path: target.path }, context.version);
  } catch (error) {
    if (!(error instanceof ToolkitError)) throw error;
    result.message = error.message;
    result.hints = error.hints;
    result.problems.push({ path: 'path', message: error.message });
    return result;
  }
  const endpoint = result.match.endpoint;
  const raw = context.detail.endpoints[endpointKey(endpoint.method, endpoint.path)] ?? null;
  result.raw = raw;
  if (endpoint.deprecated) result.warnings.push(`${endpoint.method} ${endpoint.path} is deprecated in spec ${context.version}`);
  const components = context.detail.components;

  const parameters = (raw?.parameters ?? []).map((p) => deref(p, components)).filter(isObject);
  checkPathParameters(result, result.match, parameters, components);
  checkQuery(result, request, endpoint, parameters, components);
  checkBody(result, request, endpoint, raw, context);

  const label = `${endpoint.method} ${endpoint.path}${endpoint.operationId ? ` (${endpoint.operationId})` : ''}`;
  if (result.problems.length === 0) {
    result.message = `matches ${label} in spec ${context.version}${request.body === undefined ? '' : '; the body is valid'}`;
  } else {
    const count = result.problems.length;
    result.message = `${count} problem${count === 1 ? '' : 's'} against ${label} in spec ${context.version}: ${result.problems
      .slice(0, 3)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ')}${count > 3 ? '; …' : ''}`;
  }
  return result;
}

/** Path parameters: concrete, not placeholders, and valid against the spec (`GET /api_keys/zzz` fails its pattern). */
function checkPathParameters(result: RequestCheck, match: EndpointMatch, parameters: Obj[], components: SpecDetail['components']): void {
  const endpoint = match.endpoint;
  const placeholders = [...endpoint.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string).filter((name) => !(name in match.pathParams));
  for (const name of placeholders) result.problems.push({ path: `path.${name}`, message: `path parameter {${name}} needs a concrete value (e.g. /users/user_123, not /users/{user_id})` });
  for (const [name, value] of Object.entries(match.pathParams)) {
    if (value.trim() === '') result.problems.push({ path: `path.${name}`, message: 'path parameter is empty' });
    // The toolkit's own examples print `<user_id>`; a template gives `{user_id}`: neither is an id.
    else if (/^<[^>]*>$|^\{[^}]*\}$/.test(value.trim())) result.problems.push({ path: `path.${name}`, message: `fill in ${name}: ${value} is a placeholder, not an id` });
  }

  // Path parameters are checked like query ones: `GET /api_keys/zzz` fails the spec's pattern.
  for (const parameter of parameters.filter((p) => p.in === 'path' && typeof p.name === 'string')) {
    const name = parameter.name as string;
    const value = match.pathParams[name];
    if (value === undefined || value.trim() === '' || result.problems.some((p) => p.path === `path.${name}`)) continue;
    const schema = deref(parameter.schema, components);
    for (const problem of validateValue(typedQueryValue(value, schema), schema, components)) result.problems.push({ ...problem, path: problem.path.replace(/^\$/, `path.${name}`) });
  }
}

/** Query parameters: no control characters, known names, values valid against their schemas. */
function checkQuery(result: RequestCheck, request: GuardRequest, endpoint: EndpointSummary, parameters: Obj[], components: SpecDetail['components']): void {
  // What a person reads and a server parses must be the same text: no controls or bidi overrides
  // in a query name or value, or in a body key (a metadata key that clears the approval screen).
  for (const [name, value] of result.query) {
    if (CONTROL_OR_BIDI.test(name)) result.problems.push({ path: `query.${escapeControls(name)}`, message: 'the query parameter name holds a control or bidirectional-override character: refused' });
    else if (CONTROL_OR_BIDI.test(value)) result.problems.push({ path: `query.${name}`, message: 'the value holds a control or bidirectional-override character: refused' });
  }
  for (const path of unsafeKeys(request.body)) result.problems.push({ path, message: 'the body key holds a control or bidirectional-override character: refused' });
  const queryParameters = parameters.filter((p) => p.in === 'query' && typeof p.name === 'string');
  const given = new Map<string, string[]>();
  for (const [name, value] of result.query) given.set(name, [...(given.get(name) ?? []), value]);
  for (const parameter of queryParameters) {
    const name = parameter.name as string;
    const values = given.get(name) ?? given.get(`${name}[]`);
    if (values === undefined) {
      if (parameter.required === true) result.problems.push({ path: `query.${name}`, message: 'required query parameter is missing' });
      continue;
    }
    const schema = deref(parameter.schema, components);
    if (isObject(schema) && schema.type === 'array') {
      const typed = values.map((v) => typedQueryValue(v, deref(schema.items, components)));
      for (const problem of validateValue(typed, schema, components)) result.problems.push({ ...problem, path: problem.path.replace(/^\$/, `query.${name}`) });
    } else {
      if (values.length > 1) result.warnings.push(`query parameter ${name} is given ${values.length} times; Clerk reads one value`);
      for (const value of values) {
        for (const problem of validateValue(typedQueryValue(value, schema), schema, components)) result.problems.push({ ...problem, path: problem.path.replace(/^\$/, `query.${name}`) });
      }
    }
  }
  const knownQuery = new Set(queryParameters.map((p) => p.name as string));
  for (const name of given.keys()) {
    if (!knownQuery.has(name) && !knownQuery.has(name.replace(/\[\]$/, ''))) result.warnings.push(`query parameter ${name} is not in the spec for ${endpoint.method} ${endpoint.path}`);
  }

}

/** The body: none where the endpoint takes none, and valid JSON against its schema where it takes JSON. */
function checkBody(result: RequestCheck, request: GuardRequest, endpoint: EndpointSummary, raw: EndpointRaw | null, context: GuardContext): void {
  const components = context.detail.components;
  const requestBody = deref(raw?.requestBody ?? null, components);
  if (!isObject(requestBody)) {
    if (request.body !== undefined) result.problems.push({ path: '$', message: `${endpoint.method} ${endpoint.path} takes no request body` });
  } else if (request.body === undefined) {
    if (requestBody.required === true) result.problems.push({ path: '$', message: 'a request body is required (give it with -d JSON, -d @file or -d -)' });
  } else {
    const content = isObject(requestBody.content) ? requestBody.content : {};
    const jsonType = Object.keys(content).find((type) => /^application\/(.+\+)?json/.test(type));
    const media = jsonType ? content[jsonType] : undefined;
    if (isObject(media) && media.schema !== undefined) {
      result.problems.push(...validateValue(request.body, media.schema, components));
      for (const path of deprecatedProperties(request.body, media.schema, components)) result.warnings.push(`${path} is deprecated in spec ${context.version}`);
    } else if (jsonType === undefined && Object.keys(content).length > 0) {
      result.warnings.push(`${endpoint.method} ${endpoint.path} takes ${Object.keys(content).join(' or ')}; the body was not validated against it`);
    }
  }

}

/**
 * A read checked against the spec, for the executor: the problems of its path and query, and the
 * closest endpoints when none matches. A read is never refused for these (Clerk may know better),
 * except by the caller for what is certain to go wrong.
 */
export function checkRead(request: GuardRequest, spec: GuardSpec, env: Record<string, string | undefined>): { endpoint: EndpointSummary | null; problems: SchemaProblem[]; warnings: string[]; message: string; hints: string[] } {
  const context: GuardContext = { endpoints: spec.endpoints, detail: spec.detail, version: spec.version, env, keyInfo: describeSecretKey(null).info, admin: false, yes: false, interactive: false };
  const checked = checkRequest(request, context);
  return { endpoint: checked.match?.endpoint ?? null, problems: checked.problems, warnings: checked.warnings, message: checked.message, hints: checked.hints };
}
