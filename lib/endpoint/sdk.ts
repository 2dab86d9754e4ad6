// The @clerk/backend call that sends an endpoint's request, from specs/sdk.json (recorded by `make
// sdk-map` from what each method of the package sends). Matched on method and path shape, so one map
// serves every spec version; an endpoint no SDK method sends says so. The example is a call that
// runs as printed: each argument of the kind the method's .d.ts declares, the path's ids where the
// method reads them (a positional id, or a property of its params), and the body's required fields.
import { readPackageData } from '../core/package-data.js';
import { isObject } from '../core/values.js';

export interface SdkEquivalent {
  package: string;
  version: string;
  /** `clerkClient.users.updateUserMetadata(userId, params)` */
  call: string;
  /** A filled-in call: `await clerkClient.users.updateUserMetadata('user_123', { publicMetadata: {} })` */
  example: string;
  /** Other requests the same call sends (each counts against the rate limit). */
  alsoSends?: string[];
  /** The SDK sends it without the API's /v1 prefix. */
  unversioned?: true;
}

interface SdkParam {
  name: string;
  kind: 'string' | 'number' | 'boolean' | 'array' | 'object';
  optional: boolean;
}

interface SdkMapFile {
  package: string;
  version: string;
  methods: Array<{ call: string; params: SdkParam[]; method: string; path: string; from: Record<string, string>; unversioned?: true; alsoSends?: string[] }>;
}

let cached: SdkMapFile | null | undefined;

function loadSdkMap(): SdkMapFile | null {
  if (cached !== undefined) return cached;
  cached = readPackageData<SdkMapFile>('sdk.json');
  return cached;
}

/** `/users/{user_id}/metadata` and `/users/{userId}/metadata` have one shape; so do `{provider}` and `oauth_{provider}`. */
function shape(path: string): string {
  return path
    .replace(/\/+$/, '')
    .split('/')
    .map((segment) => (segment.includes('{') ? '{}' : segment))
    .join('/');
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A sample value for a path parameter named like `user_id` → 'user_123'. */
function sampleId(name: string): string {
  const base = name.replace(/Id$|_id$|ID$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const prefix: Record<string, string> = { user: 'user', organization: 'org', session: 'sess', invitation: 'inv', client: 'client', membership: 'orgmem' };
  return `'${prefix[base] ?? base}_123'`;
}

/** A value of the field's type that a reader recognises as a placeholder and that runs. */
function sampleValue(schema: unknown): string {
  if (!isObject(schema)) return "'value'";
  if (Array.isArray(schema.enum) && typeof schema.enum[0] === 'string') return `'${schema.enum[0]}'`;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return '1';
  if (type === 'boolean') return 'true';
  if (type === 'array') return '[]';
  if (type === 'object' || isObject(schema.properties)) return '{}';
  return "'value'";
}

/**
 * The body's required fields (else its first two), camel-cased as the SDK takes them, with sample
 * values. Metadata only for a method about metadata: the SDK sends updateUser's or updateOrganization's
 * metadata elsewhere (a deprecated PUT …/metadata), not with the request the example is for.
 */
function bodyFields(schema: unknown, metadata: boolean): string[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const properties = schema.properties;
  const usable = (name: string) => Object.hasOwn(properties, name) && (metadata || !/_metadata$/.test(name));
  const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string' && usable(r)) : [];
  const chosen = (required.length > 0 ? required : Object.keys(properties).filter(usable).slice(0, 2)).slice(0, 4);
  return chosen.map((name) => `${camel(name)}: ${sampleValue(properties[name])}`);
}

/**
 * The SDK calls that send `method path` (a spec template), with an example filled in from the
 * endpoint's path parameters and request body fields. [] when none does (or no map is installed).
 */
export function sdkEquivalents(method: string, path: string, bodySchema: unknown = null): SdkEquivalent[] {
  const map = loadSdkMap();
  if (!map || !Array.isArray(map.methods)) return [];
  const wanted = shape(path);
  const specParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  return map.methods
    .filter((m) => m.method === method.toUpperCase() && shape(m.path) === wanted)
    .map((m) => {
      const sdkParams = [...m.path.matchAll(/\{([^}]+)\}/g)].map((p) => p[1] as string);
      const idOf = (name: string) => sampleId(specParams[sdkParams.indexOf(name)] ?? name);
      const withBody = method.toUpperCase() !== 'GET' && method.toUpperCase() !== 'DELETE';
      const lastObject = m.params.map((p) => p.kind).lastIndexOf('object');
      const args = m.params.map((param, index) => {
        const positional = Object.entries(m.from).find(([, source]) => source === param.name);
        if (param.kind === 'string') return positional ? idOf(positional[0]) : param.optional ? null : `'${param.name}_123'`;
        if (param.kind === 'number') return param.optional ? null : '1';
        if (param.kind === 'boolean') return param.optional ? null : 'true';
        // An object (or each item of an array): the path's ids it carries, then the body's fields.
        const prefix = param.kind === 'array' ? `${param.name}[0].` : `${param.name}.`;
        const ids = Object.entries(m.from).filter(([, source]) => source.startsWith(prefix)).map(([name, source]) => `${source.slice(prefix.length)}: ${idOf(name)}`);
        const fields = withBody && index === (lastObject >= 0 ? lastObject : m.params.findIndex((p) => p.kind === 'array')) ? bodyFields(param.kind === 'array' && isObject(bodySchema) ? bodySchema.items : bodySchema, /Metadata$/.test(m.call)) : [];
        const entries = [...ids, ...fields];
        if (entries.length === 0 && param.optional) return null;
        const object = entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}';
        return param.kind === 'array' ? `[${object}]` : object;
      });
      // Optional arguments left out from the end; one left out before a given one is `undefined`.
      while (args.length > 0 && args.at(-1) === null) args.pop();
      return {
        package: map.package,
        version: map.version,
        call: `clerkClient.${m.call}(${m.params.map((p) => p.name).join(', ')})`,
        example: `await clerkClient.${m.call}(${args.map((a) => a ?? 'undefined').join(', ')})`,
        ...(m.alsoSends ? { alsoSends: m.alsoSends } : {}),
        ...(m.unversioned ? { unversioned: true as const } : {}),
      };
    });
}
