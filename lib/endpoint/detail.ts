// One endpoint in full, as `extract-endpoint-detail --json` prints it: the index's raw operation with
// every `$ref` resolved, plus ready-to-run example commands. Pure: the spec detail comes in.
import { sdkEquivalents, type SdkEquivalent } from './sdk.js';
import { SchemaResolver } from './resolve.js';
import { isObject } from '../core/values.js';
import { endpointKey, type EndpointRaw, type SpecDetail } from '../spec/index.js';

export interface ParameterDetail {
  name: string;
  in: string;
  required: boolean;
  description: string;
  deprecated: boolean;
  schema: unknown;
}

export interface RequestBodyDetail {
  required: boolean;
  /** The preferred content type (JSON when offered). */
  contentType: string;
  /** Every content type the endpoint accepts. */
  contentTypes: string[];
  description: string;
  schema: unknown;
}

export interface ResponseDetail {
  description: string;
  contentType: string | null;
  schema: unknown;
}

export interface EndpointDetail {
  method: string;
  path: string;
  operationId: string | null;
  summary: string;
  description: string;
  tags: string[];
  deprecated: boolean;
  parameters: ParameterDetail[];
  requestBody: RequestBodyDetail | null;
  responses: Record<string, ResponseDetail>;
  components: string[];
  /** The spec version this detail comes from. */
  version: string;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function preferredContentType(types: string[]): string | undefined {
  return types.find((t) => t === 'application/json') ?? types.find((t) => /[/+]json\b/.test(t)) ?? types[0];
}

export interface DetailOptions {
  /** Adds `$component` (the reference) to schemas that came from a component; for text rendering only. */
  annotate?: boolean;
}

/** The detail of one raw endpoint of the index, every `$ref` resolved. */
export function buildEndpointDetail(raw: EndpointRaw, components: SpecDetail['components'], version: string, options: DetailOptions = {}): EndpointDetail {
  const resolver = new SchemaResolver(components, { annotate: options.annotate === true });

  const parameters: ParameterDetail[] = [];
  for (const rawParameter of raw.parameters) {
    const parameter = resolver.resolve(rawParameter);
    if (!isObject(parameter)) continue;
    const location = text(parameter.in);
    parameters.push({
      name: text(parameter.name),
      in: location,
      required: parameter.required === true || location === 'path',
      description: text(parameter.description).trim(),
      deprecated: parameter.deprecated === true,
      schema: parameter.schema ?? null,
    });
  }

  let requestBody: RequestBodyDetail | null = null;
  if (raw.requestBody !== null && raw.requestBody !== undefined) {
    const body = resolver.resolve(raw.requestBody);
    if (isObject(body)) {
      const content = isObject(body.content) ? body.content : {};
      const contentTypes = Object.keys(content);
      const contentType = preferredContentType(contentTypes);
      const media = contentType === undefined ? undefined : content[contentType];
      requestBody = {
        required: body.required === true,
        contentType: contentType ?? '',
        contentTypes,
        description: text(body.description).trim(),
        schema: isObject(media) ? (media.schema ?? null) : null,
      };
    }
  }

  const responses: Record<string, ResponseDetail> = {};
  for (const [status, rawResponse] of Object.entries(raw.responses)) {
    const response = resolver.resolve(rawResponse);
    if (!isObject(response)) continue;
    const content = isObject(response.content) ? response.content : {};
    const contentType = preferredContentType(Object.keys(content)) ?? null;
    const media = contentType === null ? undefined : content[contentType];
    responses[status] = {
      description: text(response.description).trim(),
      contentType,
      schema: isObject(media) ? (media.schema ?? null) : null,
    };
  }

  return {
    method: raw.method,
    path: raw.path,
    operationId: raw.operationId,
    summary: raw.summary,
    description: raw.description.trim(),
    tags: raw.tags,
    deprecated: raw.deprecated,
    parameters,
    requestBody,
    responses,
    components: resolver.components(),
    version,
  };
}

/** The raw endpoint for a method and template path, or undefined. */
export function rawEndpoint(detail: SpecDetail, method: string, path: string): EndpointRaw | undefined {
  return detail.endpoints[endpointKey(method, path)];
}

// ---- Example commands ---------------------------------------------------------------------------

/** Quotes a word for POSIX shells when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function firstType(schema: Record<string, unknown>): string | undefined {
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.type)) return schema.type.find((t): t is string => typeof t === 'string' && t !== 'null');
  if (isObject(schema.properties)) return 'object';
  return undefined;
}

/** A placeholder value for a schema: its example, enum or default when given, else a typed stand-in. */
export function sampleValue(schema: unknown, name: string, depth = 0): unknown {
  if (!isObject(schema)) return `<${name}>`;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.default !== undefined && schema.default !== null) return schema.default;
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    const first = Array.isArray(schema[key]) ? (schema[key] as unknown[])[0] : undefined;
    if (first !== undefined && firstType(schema) === undefined) return sampleValue(first, name, depth);
  }
  switch (firstType(schema)) {
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return depth > 4 ? [] : [sampleValue(schema.items, name, depth + 1)];
    case 'object':
      return depth > 4 ? {} : sampleObject(schema, depth + 1);
    default:
      return `<${name}>`;
  }
}

/** The required fields of an object schema with placeholder values. */
function sampleObject(schema: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
  const out: Record<string, unknown> = {};
  for (const name of required) out[name] = sampleValue(properties[name], name, depth);
  return out;
}

function isBinary(schema: unknown): boolean {
  return isObject(schema) && (schema.format === 'binary' || schema.format === 'base64') && firstType(schema) === 'string';
}

export interface ExampleRequest {
  method: string;
  /** Path with concrete values where given, `<name>` placeholders for the other path parameters. */
  path: string;
  query: Array<[string, string]>;
  contentType: string | null;
  /** A JSON body with the required fields (placeholders), or null. */
  json: Record<string, unknown> | null;
  /** multipart fields: [name, value] where a value `@<name>` stands for a file. */
  form: Array<[string, string]>;
}

export interface ExampleInput {
  /** Concrete path parameter values the user gave. */
  pathParams?: Record<string, string>;
  /** Query pairs the user gave (a URL's query string). */
  query?: Array<[string, string]>;
}

/** The request a user would start from: given values kept, required parameters and fields as placeholders. */
export function exampleRequest(detail: EndpointDetail, input: ExampleInput = {}): ExampleRequest {
  const values = input.pathParams ?? {};
  const path = detail.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    return value === undefined ? `<${name}>` : encodeURIComponent(value);
  });
  const query: Array<[string, string]> = [...(input.query ?? [])];
  for (const parameter of detail.parameters) {
    if (parameter.in !== 'query' || !parameter.required || query.some(([k]) => k === parameter.name)) continue;
    const value = sampleValue(parameter.schema, parameter.name);
    query.push([parameter.name, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  const body = detail.requestBody;
  let json: Record<string, unknown> | null = null;
  const form: Array<[string, string]> = [];
  if (body && isObject(body.schema)) {
    if (/multipart\/form-data|x-www-form-urlencoded/.test(body.contentType)) {
      const properties = isObject(body.schema.properties) ? body.schema.properties : {};
      const required = Array.isArray(body.schema.required) ? body.schema.required.filter((r): r is string => typeof r === 'string') : [];
      // A file is the point of a multipart body: show it even where the spec leaves it optional.
      const binary = Object.keys(properties).filter((name) => isBinary(properties[name]) && !required.includes(name));
      for (const name of [...required, ...binary]) {
        const schema = properties[name];
        if (isBinary(schema)) form.push([name, `@<${name}>`]);
        else {
          const value = sampleValue(schema, name);
          form.push([name, typeof value === 'string' ? value : JSON.stringify(value)]);
        }
      }
    } else if (/json/.test(body.contentType)) {
      json = sampleObject(body.schema);
    }
  }
  return { method: detail.method, path, query, contentType: body?.contentType || null, json, form };
}

function queryString(query: Array<[string, string]>): string {
  // Placeholders stay readable: only the characters a URL cannot carry are escaped.
  return query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%3C/g, '<').replace(/%3E/g, '>')}`).join('&');
}

/** A ready `bapi-curl` command line for the example request. */
export function bapiCurlCommand(example: ExampleRequest, version: string): string {
  const words = ['bapi-curl', example.method, shellQuote(example.path)];
  for (const [k, v] of example.query) words.push('-q', shellQuote(`${k}=${v}`));
  if (example.json !== null) words.push('-d', shellQuote(JSON.stringify(example.json)));
  for (const [k, v] of example.form) words.push('--form', shellQuote(`${k}=${v}`));
  words.push('--api-version', version);
  return words.join(' ');
}

/** The plain `curl` equivalent; the key is read from $CLERK_SECRET_KEY by the shell, never written out. */
export function curlCommand(example: ExampleRequest, version: string, baseUrl = 'https://api.clerk.com'): string {
  let base = baseUrl.replace(/\/+$/, '');
  if (!/\/v1$/.test(base)) base += '/v1';
  const url = `${base}${example.path}${example.query.length > 0 ? `?${queryString(example.query)}` : ''}`;
  const lines = [`curl -sS -X ${example.method} ${shellQuote(url)}`, `-H "Authorization: Bearer $CLERK_SECRET_KEY"`, `-H ${shellQuote(`Clerk-API-Version: ${version}`)}`];
  if (example.json !== null) {
    lines.push(`-H ${shellQuote('Content-Type: application/json')}`, `-d ${shellQuote(JSON.stringify(example.json))}`);
  }
  for (const [k, v] of example.form) lines.push(`-F ${shellQuote(`${k}=${v}`)}`);
  return lines.join(' \\\n  ');
}

export interface EndpointDocument extends EndpointDetail {
  /** Ready commands for this endpoint: given path values kept, placeholders for required ones. */
  examples: { bapiCurl: string; curl: string };
  /** The @clerk/backend calls that send this request; [] when no SDK method does. */
  sdk: SdkEquivalent[];
}

/** What `extract-endpoint-detail --json` prints: the detail plus ready commands. */
export function endpointDocument(detail: EndpointDetail, input: ExampleInput = {}, baseUrl?: string): EndpointDocument {
  const example = exampleRequest(detail, input);
  return {
    ...detail,
    examples: { bapiCurl: bapiCurlCommand(example, detail.version), curl: curlCommand(example, detail.version, baseUrl) },
    sdk: sdkEquivalents(detail.method, detail.path, detail.requestBody?.schema ?? null),
  };
}
