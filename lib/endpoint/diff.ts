// What changes for one endpoint between two spec versions: parameters, request body fields and their
// required-ness, responses and their fields, or the endpoint itself appearing or disappearing.
// Pure: two resolved details (or null where a version lacks the endpoint) in, a list of changes out.
import type { EndpointDetail, ParameterDetail } from './detail.js';
import { CYCLE_KEY, deepEqual } from './resolve.js';
import { isObject } from '../core/values.js';

export type ChangeKind = 'endpoint' | 'parameter' | 'body' | 'body-field' | 'response' | 'response-field';

export interface EndpointChange {
  kind: ChangeKind;
  change: 'added' | 'removed' | 'changed';
  /** Parameter `in:name`, a field path (`email_address[]`, `verification.status`), a status code, or the endpoint. */
  name: string;
  /** What differs, for `changed`: `required`, `type`, `enum`, `nullable`, `deprecated`, `contentType`. */
  aspect?: string;
  from?: unknown;
  to?: unknown;
  /** True when a call that worked with the old version may fail, or a reader of the response may break. */
  breaking: boolean;
  message: string;
}

export interface EndpointDiff {
  method: string;
  /** The template in the newer-selected version when it exists, else the other one. */
  path: string;
  from: string;
  to: string;
  status: 'unchanged' | 'changed' | 'added' | 'removed';
  breaking: boolean;
  changes: EndpointChange[];
}

export interface FieldInfo {
  type: string;
  required: boolean;
  nullable: boolean;
  enum: unknown[] | null;
  /** The enum of an array's items (`email_address_identification_status[]`). */
  itemsEnum: unknown[] | null;
  deprecated: boolean;
  /** format, default, bounds, lengths, pattern, additionalProperties: each a caller may depend on. */
  constraints: Record<string, unknown>;
}

const CONSTRAINTS = ['format', 'default', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'additionalProperties'] as const;

/** The constraints a schema sets (additionalProperties as `closed`/`open`, an object schema counted as open). */
export function constraintsOf(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONSTRAINTS) {
    const value = schema[key];
    if (value === undefined) continue;
    out[key] = key === 'additionalProperties' ? (value === false ? 'closed' : 'open') : value;
  }
  return out;
}

/**
 * The rules: tightening what may be sent breaks a writer (a request), loosening what may come back
 * breaks a reader (a response). A changed default changes what an unchanged call does: it breaks a
 * writer. A changed format or pattern breaks both.
 */
function constraintBreaks(key: string, from: unknown, to: unknown, reading: boolean): boolean {
  const tighter = (() => {
    if (from === undefined) return to !== undefined && key !== 'default' && !(key === 'additionalProperties' && to === 'open');
    if (to === undefined) return false;
    if (key === 'minimum' || key === 'minLength' || key === 'minItems' || key === 'exclusiveMinimum') return Number(to) > Number(from);
    if (key === 'maximum' || key === 'maxLength' || key === 'maxItems' || key === 'exclusiveMaximum') return Number(to) < Number(from);
    if (key === 'additionalProperties') return to === 'closed';
    return true;
  })();
  if (key === 'default') return !reading;
  if (key === 'format' || key === 'pattern') return from !== undefined && to !== undefined ? true : reading ? to === undefined : tighter;
  return reading ? !tighter && from !== undefined : tighter;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function constraintChanges(kind: ChangeKind, name: string, label: string, a: Record<string, unknown>, b: Record<string, unknown>, reading: boolean): EndpointChange[] {
  const changes: EndpointChange[] = [];
  for (const key of CONSTRAINTS) {
    const from = a[key];
    const to = b[key];
    if (deepEqual(from, to)) continue;
    const what = from === undefined ? `${key} ${show(to)} added` : to === undefined ? `${key} ${show(from)} removed` : `${key} ${show(from)} → ${show(to)}`;
    changes.push({ kind, change: 'changed', name, aspect: key, from, to, breaking: constraintBreaks(key, from, to, reading), message: `${label}: ${what}` });
  }
  return changes;
}

function typeOf(schema: Record<string, unknown>): string {
  if (typeof schema[CYCLE_KEY] === 'string') return `cycle:${String(schema[CYCLE_KEY]).split('/').pop()}`;
  if (Array.isArray(schema.type)) return schema.type.filter((t) => t !== 'null').join('|');
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.oneOf)) return 'oneOf';
  if (Array.isArray(schema.anyOf)) return 'anyOf';
  if (Array.isArray(schema.allOf) || isObject(schema.properties)) return 'object';
  return 'any';
}

function isNullable(schema: Record<string, unknown>): boolean {
  return schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null'));
}

function required(schema: Record<string, unknown>): Set<string> {
  return new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
}

/** Every field of a resolved schema by path, down to `maxDepth` levels. */
export function flattenFields(schema: unknown, maxDepth = 8): Map<string, FieldInfo> {
  const out = new Map<string, FieldInfo>();
  const visit = (node: unknown, prefix: string, depth: number): void => {
    if (!isObject(node) || depth > maxDepth) return;
    const members = Array.isArray(node.allOf) ? node.allOf.filter(isObject) : [];
    for (const member of members) visit(member, prefix, depth);
    for (const key of ['oneOf', 'anyOf'] as const) {
      const variants = Array.isArray(node[key]) ? (node[key] as unknown[]) : [];
      // Variants' fields are compared as one union: a field is there if some variant has it.
      for (const variant of variants) visit(variant, prefix, depth);
    }
    if (isObject(node.items)) visit(node.items, `${prefix}[]`, depth + 1);
    if (!isObject(node.properties)) return;
    const needed = required(node);
    for (const [name, child] of Object.entries(node.properties)) {
      if (!isObject(child)) continue;
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const info: FieldInfo = {
        type: typeOf(child),
        required: needed.has(name),
        nullable: isNullable(child),
        enum: Array.isArray(child.enum) ? child.enum : null,
        itemsEnum: isObject(child.items) && Array.isArray(child.items.enum) ? child.items.enum : null,
        deprecated: child.deprecated === true,
        constraints: constraintsOf(child),
      };
      const seen = out.get(path);
      out.set(path, seen ? { ...info, required: seen.required || info.required } : info);
      visit(child, path, depth + 1);
    }
  };
  visit(schema, '', 0);
  return out;
}

function compareEnum(a: unknown[] | null, b: unknown[] | null): { removed: unknown[]; added: unknown[] } | null {
  if (deepEqual(a, b)) return null;
  const before = a ?? [];
  const after = b ?? [];
  return {
    removed: a && b ? before.filter((x) => !after.some((y) => deepEqual(x, y))) : [],
    added: a && b ? after.filter((x) => !before.some((y) => deepEqual(x, y))) : [],
  };
}

function parentField(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot < 0 ? '' : path.slice(0, dot)).replace(/(\[\])+$/, '');
}

/** `reading`: the fields are read by the caller (a response), so removals break; else written (a request). */
function diffFields(kind: 'body-field' | 'response-field', a: Map<string, FieldInfo>, b: Map<string, FieldInfo>, where: string, reading: boolean): EndpointChange[] {
  const changes: EndpointChange[] = [];
  const label = `${where} field`;
  // A field added or removed as a whole is one change, not one per nested field.
  const whole: string[] = [];
  const inside = (path: string): boolean => whole.some((p) => path.startsWith(`${p}.`) || path.startsWith(`${p}[]`));
  for (const [path, before] of a) {
    if (inside(path)) continue;
    const after = b.get(path);
    if (!after) {
      whole.push(path);
      changes.push({ kind, change: 'removed', name: path, breaking: true, message: `${label} ${path} removed` });
      continue;
    }
    if (before.type !== after.type) {
      changes.push({ kind, change: 'changed', name: path, aspect: 'type', from: before.type, to: after.type, breaking: true, message: `${label} ${path}: type ${before.type} → ${after.type}` });
    }
    if (!reading && before.required !== after.required) {
      changes.push({
        kind, change: 'changed', name: path, aspect: 'required', from: before.required, to: after.required,
        breaking: after.required, message: `${label} ${path}: ${after.required ? 'now required' : 'no longer required'}`,
      });
    }
    if (before.nullable !== after.nullable) {
      changes.push({
        kind, change: 'changed', name: path, aspect: 'nullable', from: before.nullable, to: after.nullable,
        breaking: reading ? after.nullable : !after.nullable, message: `${label} ${path}: ${after.nullable ? 'now nullable' : 'no longer nullable'}`,
      });
    }
    if (before.deprecated !== after.deprecated) {
      changes.push({ kind, change: 'changed', name: path, aspect: 'deprecated', from: before.deprecated, to: after.deprecated, breaking: false, message: `${label} ${path}: ${after.deprecated ? 'deprecated' : 'no longer deprecated'}` });
    }
    for (const [aspect, from, to] of [['enum', before.enum, after.enum], ['items enum', before.itemsEnum, after.itemsEnum]] as const) {
      const enums = compareEnum(from, to);
      if (!enums) continue;
      const parts = [...enums.added.map((v) => `+${show(v)}`), ...enums.removed.map((v) => `-${show(v)}`)];
      // A reader may not know a new value; a writer may be sending a value that is gone.
      const narrowed = enums.removed.length > 0 || (from === null && to !== null);
      changes.push({
        kind, change: 'changed', name: path, aspect, from, to,
        breaking: reading ? enums.added.length > 0 : narrowed,
        message: `${label} ${path}: ${aspect} ${parts.length > 0 ? parts.join(' ') : `${show(from)} → ${show(to)}`}`,
      });
    }
    changes.push(...constraintChanges(kind, path, `${label} ${path}`, before.constraints, after.constraints, reading));
  }
  for (const [path, after] of b) {
    if (a.has(path) || inside(path)) continue;
    whole.push(path);
    const parent = parentField(path);
    // A new required field inside a new optional object only binds those who send the object.
    const breaking = !reading && after.required && (parent === '' || a.has(parent));
    changes.push({
      kind, change: 'added', name: path, to: after, breaking,
      message: `${label} ${path} added (${after.type}${reading ? '' : after.required ? ', required' : ', optional'})`,
    });
  }
  return changes;
}

function parameterId(p: ParameterDetail): string {
  return `${p.in}:${p.name}`;
}

function schemaType(schema: unknown): string {
  return isObject(schema) ? typeOf(schema) : 'any';
}

function diffParameters(a: ParameterDetail[], b: ParameterDetail[]): EndpointChange[] {
  const changes: EndpointChange[] = [];
  const after = new Map(b.map((p) => [parameterId(p), p]));
  const before = new Map(a.map((p) => [parameterId(p), p]));
  for (const [id, p] of before) {
    const q = after.get(id);
    const label = `${p.in} parameter ${p.name}`;
    if (!q) {
      changes.push({ kind: 'parameter', change: 'removed', name: id, breaking: true, message: `${label} removed` });
      continue;
    }
    if (p.required !== q.required) {
      changes.push({ kind: 'parameter', change: 'changed', name: id, aspect: 'required', from: p.required, to: q.required, breaking: q.required, message: `${label}: ${q.required ? 'now required' : 'no longer required'}` });
    }
    const ta = schemaType(p.schema);
    const tb = schemaType(q.schema);
    if (ta !== tb) changes.push({ kind: 'parameter', change: 'changed', name: id, aspect: 'type', from: ta, to: tb, breaking: true, message: `${label}: type ${ta} → ${tb}` });
    // The enum of the parameter, and of its items (an array parameter: `enrollment_mode[]`), as for body fields.
    const enumOf = (schema: unknown, items: boolean): unknown[] | null => {
      const at = isObject(schema) && items ? schema.items : schema;
      return isObject(at) && Array.isArray(at.enum) ? at.enum : null;
    };
    for (const [aspect, items] of [['enum', false], ['items enum', true]] as const) {
      const ea = enumOf(p.schema, items);
      const eb = enumOf(q.schema, items);
      const enums = compareEnum(ea, eb);
      if (!enums) continue;
      const parts = [...enums.added.map((v) => `+${show(v)}`), ...enums.removed.map((v) => `-${show(v)}`)];
      changes.push({
        kind: 'parameter', change: 'changed', name: id, aspect, from: ea, to: eb, breaking: enums.removed.length > 0 || (ea === null && eb !== null),
        message: `${label}: ${aspect} ${parts.length > 0 ? parts.join(' ') : `${show(ea)} → ${show(eb)}`}`,
      });
    }
    if (isObject(p.schema) && isObject(q.schema)) changes.push(...constraintChanges('parameter', id, label, constraintsOf(p.schema), constraintsOf(q.schema), false));
    if (p.deprecated !== q.deprecated) {
      changes.push({ kind: 'parameter', change: 'changed', name: id, aspect: 'deprecated', from: p.deprecated, to: q.deprecated, breaking: false, message: `${label}: ${q.deprecated ? 'deprecated' : 'no longer deprecated'}` });
    }
  }
  for (const [id, q] of after) {
    if (before.has(id)) continue;
    changes.push({ kind: 'parameter', change: 'added', name: id, breaking: q.required, message: `${q.in} parameter ${q.name} added (${q.required ? 'required' : 'optional'})` });
  }
  return changes;
}

function diffBodies(a: EndpointDetail, b: EndpointDetail): EndpointChange[] {
  const x = a.requestBody;
  const y = b.requestBody;
  if (!x && !y) return [];
  if (!x && y) return [{ kind: 'body', change: 'added', name: 'requestBody', breaking: y.required, message: `request body added (${y.contentType}${y.required ? ', required' : ''})` }];
  if (x && !y) return [{ kind: 'body', change: 'removed', name: 'requestBody', breaking: true, message: 'request body removed' }];
  if (!x || !y) return [];
  const changes: EndpointChange[] = [];
  if (x.contentType !== y.contentType) {
    changes.push({ kind: 'body', change: 'changed', name: 'requestBody', aspect: 'contentType', from: x.contentType, to: y.contentType, breaking: true, message: `request body content type ${x.contentType} → ${y.contentType}` });
  }
  if (x.required !== y.required) {
    changes.push({ kind: 'body', change: 'changed', name: 'requestBody', aspect: 'required', from: x.required, to: y.required, breaking: y.required, message: `request body ${y.required ? 'now required' : 'no longer required'}` });
  }
  if (isObject(x.schema) && isObject(y.schema)) changes.push(...constraintChanges('body', 'requestBody', 'request body', constraintsOf(x.schema), constraintsOf(y.schema), false));
  changes.push(...diffFields('body-field', flattenFields(x.schema), flattenFields(y.schema), 'body', false));
  return changes;
}

function diffResponses(a: EndpointDetail, b: EndpointDetail): EndpointChange[] {
  const changes: EndpointChange[] = [];
  for (const [status, before] of Object.entries(a.responses)) {
    const after = b.responses[status];
    const success = /^2/.test(status);
    if (!after) {
      changes.push({ kind: 'response', change: 'removed', name: status, breaking: success, message: `response ${status} removed` });
      continue;
    }
    if (before.contentType !== after.contentType) {
      changes.push({ kind: 'response', change: 'changed', name: status, aspect: 'contentType', from: before.contentType, to: after.contentType, breaking: success, message: `response ${status} content type ${show(before.contentType)} → ${show(after.contentType)}` });
    }
    // Error bodies are Clerk's shared error shape; their fields only matter for success responses.
    if (success) changes.push(...diffFields('response-field', flattenFields(before.schema), flattenFields(after.schema), `response ${status}`, true));
  }
  for (const status of Object.keys(b.responses)) {
    if (!(status in a.responses)) changes.push({ kind: 'response', change: 'added', name: status, breaking: false, message: `response ${status} added` });
  }
  return changes;
}

/** The changes for one endpoint from version `from` (detail `a`) to version `to` (detail `b`). */
export function diffEndpoint(a: EndpointDetail | null, b: EndpointDetail | null, from: string, to: string): EndpointDiff {
  const any = (b ?? a) as EndpointDetail;
  if (!a && !b) throw new TypeError('diffEndpoint needs at least one side');
  const base = { method: any.method, path: any.path, from, to };
  if (!a) {
    return { ...base, status: 'added', breaking: false, changes: [{ kind: 'endpoint', change: 'added', name: `${any.method} ${any.path}`, breaking: false, message: `endpoint added in ${to}` }] };
  }
  if (!b) {
    return { ...base, status: 'removed', breaking: true, changes: [{ kind: 'endpoint', change: 'removed', name: `${any.method} ${any.path}`, breaking: true, message: `endpoint removed in ${to}` }] };
  }
  const changes: EndpointChange[] = [];
  const name = `${b.method} ${b.path}`;
  if (a.path !== b.path) changes.push({ kind: 'endpoint', change: 'changed', name, aspect: 'path', from: a.path, to: b.path, breaking: false, message: `path template ${a.path} → ${b.path}` });
  if (a.operationId !== b.operationId) changes.push({ kind: 'endpoint', change: 'changed', name, aspect: 'operationId', from: a.operationId, to: b.operationId, breaking: false, message: `operationId ${show(a.operationId)} → ${show(b.operationId)}` });
  if (a.deprecated !== b.deprecated) changes.push({ kind: 'endpoint', change: 'changed', name, aspect: 'deprecated', from: a.deprecated, to: b.deprecated, breaking: false, message: b.deprecated ? 'endpoint deprecated' : 'endpoint no longer deprecated' });
  changes.push(...diffParameters(a.parameters, b.parameters), ...diffBodies(a, b), ...diffResponses(a, b));
  return { ...base, status: changes.length === 0 ? 'unchanged' : 'changed', breaking: changes.some((c) => c.breaking), changes };
}
