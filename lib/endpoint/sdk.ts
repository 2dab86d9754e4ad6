// The @clerk/backend call that sends an endpoint's request, from specs/sdk.json (generated from the
// package itself by `make sdk-map`). Matched on method and path shape, so one map serves every spec
// version; an endpoint no SDK method sends says so.
import { readPackageData } from '../core/package-data.js';
import { isObject } from '../core/values.js';

export interface SdkEquivalent {
  package: string;
  version: string;
  /** `clerkClient.users.updateUserMetadata(userId, params)` */
  call: string;
  /** A filled-in call: `await clerkClient.users.updateUserMetadata('user_123', { publicMetadata: {} })` */
  example: string;
}

interface SdkMapFile {
  package: string;
  version: string;
  methods: Array<{ call: string; args: string[]; method: string; path: string }>;
}

let cached: SdkMapFile | null | undefined;

function loadSdkMap(): SdkMapFile | null {
  if (cached !== undefined) return cached;
  cached = readPackageData<SdkMapFile>('sdk.json');
  return cached;
}

/** `/users/{user_id}/metadata` and `/users/{userId}/metadata` have one shape. */
function shape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}').replace(/\/+$/, '');
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

function bodyFields(schema: unknown): string[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
  const names = Object.keys(schema.properties);
  const chosen = required.length > 0 ? required : names.slice(0, 2);
  return chosen.slice(0, 4);
}

/**
 * The SDK calls that send `method path` (a spec template), with an example filled in from the
 * endpoint's path parameters and request body fields. [] when none does (or no map is installed).
 */
export function sdkEquivalents(method: string, path: string, bodySchema: unknown = null): SdkEquivalent[] {
  const map = loadSdkMap();
  if (!map) return [];
  const wanted = shape(path);
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  return map.methods
    .filter((m) => m.method === method.toUpperCase() && shape(m.path) === wanted)
    .map((m) => {
      const sdkParams = [...m.path.matchAll(/\{([^}]+)\}/g)].map((p) => p[1] as string);
      const fields = bodyFields(bodySchema);
      const object = (extra: string[]) => {
        const entries = [...extra, ...fields.map((f) => `${camel(f)}: …`)];
        return entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}';
      };
      const args = m.args.map((arg) => {
        const at = sdkParams.indexOf(arg);
        if (at >= 0) return sampleId(pathParams[at] ?? arg);
        // A params object carries the path's ids the positional arguments do not.
        const idsInParams = sdkParams.filter((p) => !m.args.includes(p)).map((p) => `${p}: ${sampleId(pathParams[sdkParams.indexOf(p)] ?? p)}`);
        return /^(params|options|body|data)$/i.test(arg) || arg === m.args.at(-1) ? object(idsInParams) : arg;
      });
      return {
        package: map.package,
        version: map.version,
        call: `clerkClient.${m.call}(${m.args.join(', ')})`,
        example: `await clerkClient.${m.call}(${args.join(', ')})`,
      };
    });
}
