// A validator for the OpenAPI 3.0 schema dialect Clerk's specs use: `$ref` into components, types,
// `nullable`, required, enums, additionalProperties, allOf/oneOf/anyOf, bounds, and formats checked
// loosely. Each problem is reported at its JSON path (`$.email_address[0]`).
import { distance } from '../core/args.js';
import { isObject, type Obj } from '../core/values.js';

export interface SchemaProblem {
  path: string;
  message: string;
  /** The schema keyword that failed (`maximum`, `additionalProperties`, …), for callers that act on one kind. */
  keyword?: string;
}

type Components = Record<string, Record<string, unknown>>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Resolves a local `$ref` (`#/components/schemas/User`); undefined when it points nowhere. */
export function resolveRef(ref: string, components: Components): unknown {
  const match = /^#\/components\/([^/]+)\/(.+)$/.exec(ref);
  if (!match) return undefined;
  const section = components[match[1] as string];
  const name = (match[2] as string).replace(/~1/g, '/').replace(/~0/g, '~');
  return isObject(section) ? section[name] : undefined;
}

/** Follows a chain of `$ref`s (at most 8) to the object they name. */
export function deref(value: unknown, components: Components): unknown {
  let current = value;
  for (let i = 0; i < 8 && isObject(current) && typeof current.$ref === 'string'; i++) current = resolveRef(current.$ref, components);
  return current;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

/** A calendar date that exists: 2025-02-30 does not (Date.parse would roll it over to March). */
function realDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
  return day <= days;
}

// RFC 3339: date "T" time, with "t"/"z" allowed in lower case, seconds required, an offset or Z.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const offsetHours = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinutes = m[10] === undefined ? 0 : Number(m[10]);
  return realDate(year!, month!, day!) && hour! <= 23 && minute! <= 59 && second! <= 60 && offsetHours <= 23 && offsetMinutes <= 59;
}

/** An absolute URI: a scheme, and no white space or control characters anywhere (RFC 3986). */
function isUri(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value) || /[\u0000-\u001f\u007f"<>\\^`{|}]/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

const FORMAT_CHECKS: Record<string, (value: string) => boolean> = {
  // RFC 5321 allows a quoted local part, spaces and @ included: "quoted local"@example.com.
  email: (v) => /^(?:"(?:[^"\\\r\n]|\\.)+"|[^\s@"]+)@[^\s@]+$/.test(v),
  'date-time': isDateTime,
  date: (v) => /^(\d{4})-(\d{2})-(\d{2})$/.test(v) && realDate(Number(v.slice(0, 4)), Number(v.slice(5, 7)), Number(v.slice(8, 10))),
  uri: isUri,
  url: isUri,
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
};

interface State {
  components: Components;
  /** `$ref`s being expanded at the current value, to stop a schema that refers to itself. */
  refsAtValue: Set<string>;
  /** Property names declared by sibling `allOf` branches, so `additionalProperties: false` in one branch does not reject them. */
  siblingProperties: Set<string>;
}

function propertyNames(schema: unknown, components: Components, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (!isObject(schema)) return names;
  if (typeof schema.$ref === 'string') {
    if (seen.has(schema.$ref)) return names;
    seen.add(schema.$ref);
    return propertyNames(resolveRef(schema.$ref, components), components, seen);
  }
  if (isObject(schema.properties)) for (const name of Object.keys(schema.properties)) names.add(name);
  for (const keyword of ['allOf', 'oneOf', 'anyOf'] as const) {
    const branches = schema[keyword];
    if (Array.isArray(branches)) for (const branch of branches) for (const name of propertyNames(branch, components, seen)) names.add(name);
  }
  return names;
}

function validate(value: unknown, schema: unknown, path: string, state: State, problems: SchemaProblem[]): void {
  if (schema === true || schema === undefined || schema === null) return;
  if (schema === false) {
    problems.push({ path, message: 'no value is allowed here' });
    return;
  }
  if (!isObject(schema)) return;

  if (typeof schema.$ref === 'string') {
    const ref = schema.$ref;
    if (state.refsAtValue.has(ref)) return;
    const target = resolveRef(ref, state.components);
    if (target === undefined) {
      problems.push({ path, message: `the schema refers to ${ref}, which the spec does not define` });
      return;
    }
    const refsAtValue = new Set(state.refsAtValue).add(ref);
    validate(value, target, path, { ...state, refsAtValue }, problems);
    return;
  }
  // From here on the value changes at each step down, so earlier refs may be expanded again.
  const nested: State = { ...state, refsAtValue: new Set(), siblingProperties: new Set() };

  if (value === null && (schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null')))) return;
  if (value === null && Array.isArray(schema.enum) && schema.enum.includes(null)) return;

  validateComposition(value, schema, path, state, problems);

  const types = Array.isArray(schema.type) ? schema.type.filter((t): t is string => typeof t === 'string') : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length > 0 && !types.some((type) => matchesType(value, type))) {
    const expected = types.join(' or ');
    problems.push({ path, message: `expected ${expected}${schema.nullable === true ? ' or null' : ''}, got ${typeOf(value)}` });
    return;
  }

  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    problems.push({ path, message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}; got ${short(value)}` });
  }

  if (typeof value === 'string') validateString(value, schema, path, problems);
  if (typeof value === 'number') validateNumber(value, schema, path, problems);
  if (Array.isArray(value)) validateArray(value, schema, path, nested, problems);
  if (isObject(value)) validateObject(value, schema, path, state, nested, problems);
}


/** allOf (with its branches' properties known to each other), oneOf/anyOf (read as anyOf, a discriminator honoured) and not. */
function validateComposition(value: unknown, schema: Obj, path: string, state: State, problems: SchemaProblem[]): void {
  if (Array.isArray(schema.allOf)) {
    const known = new Set(state.siblingProperties);
    for (const branch of schema.allOf) for (const name of propertyNames(branch, state.components)) known.add(name);
    if (isObject(schema.properties)) for (const name of Object.keys(schema.properties)) known.add(name);
    for (const branch of schema.allOf) validate(value, branch, path, { ...state, siblingProperties: known }, problems);
  }

  // oneOf is checked as anyOf: Clerk's alternatives often overlap, and the server decides between them.
  for (const keyword of ['oneOf', 'anyOf'] as const) {
    const branches = schema[keyword];
    if (!Array.isArray(branches) || branches.length === 0) continue;
    let candidates = branches;
    const discriminator = isObject(schema.discriminator) ? schema.discriminator : null;
    if (discriminator && typeof discriminator.propertyName === 'string' && isObject(value)) {
      const tag = value[discriminator.propertyName];
      const mapping = isObject(discriminator.mapping) ? discriminator.mapping : {};
      const mapped = typeof tag === 'string' ? mapping[tag] : undefined;
      if (typeof mapped === 'string') candidates = [{ $ref: mapped }];
    }
    const attempts = candidates.map((branch) => {
      const found: SchemaProblem[] = [];
      validate(value, branch, path, state, found);
      return found;
    });
    if (attempts.some((found) => found.length === 0)) continue;
    const closest = attempts.reduce((best, found) => (found.length < best.length ? found : best));
    if (candidates.length === 1) problems.push(...closest);
    else {
      problems.push({ path, message: `matches none of the ${candidates.length} allowed alternatives (${keyword}); closest: ${closest[0]?.message ?? 'invalid'}${closest[0] && closest[0].path !== path ? ` at ${closest[0].path}` : ''}` });
    }
  }

  if (schema.not !== undefined) {
    const found: SchemaProblem[] = [];
    validate(value, schema.not, path, state, found);
    if (found.length === 0) problems.push({ path, message: 'matches a schema it must not match (not)' });
  }
}

function validateString(value: string, schema: Obj, path: string, problems: SchemaProblem[]): void {
  if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push({ path, message: `must be at least ${schema.minLength} characters long` });
  if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push({ path, message: `must be at most ${schema.maxLength} characters long` });
  if (typeof schema.pattern === 'string') {
    let pattern: RegExp | null = null;
    try {
      pattern = new RegExp(schema.pattern, 'u');
    } catch {
      pattern = null;
    }
    if (pattern && !pattern.test(value)) problems.push({ path, message: `must match the pattern ${schema.pattern}` });
  }
  const check = typeof schema.format === 'string' ? FORMAT_CHECKS[schema.format] : undefined;
  if (check && !check(value)) problems.push({ path, message: `is not a valid ${String(schema.format)}: ${short(value)}` });
}

function validateNumber(value: number, schema: Obj, path: string, problems: SchemaProblem[]): void {
  const exclusiveMin = schema.exclusiveMinimum;
  const exclusiveMax = schema.exclusiveMaximum;
  if (typeof schema.minimum === 'number') {
    if (exclusiveMin === true ? value <= schema.minimum : value < schema.minimum) problems.push({ path, message: `must be ${exclusiveMin === true ? 'greater than' : 'at least'} ${schema.minimum}` });
  }
  if (typeof schema.maximum === 'number') {
    if (exclusiveMax === true ? value >= schema.maximum : value > schema.maximum) problems.push({ path, message: `must be ${exclusiveMax === true ? 'less than' : 'at most'} ${schema.maximum}`, keyword: 'maximum' });
  }
  if (typeof exclusiveMin === 'number' && value <= exclusiveMin) problems.push({ path, message: `must be greater than ${exclusiveMin}` });
  if (typeof exclusiveMax === 'number' && value >= exclusiveMax) problems.push({ path, message: `must be less than ${exclusiveMax}`, keyword: 'maximum' });
  if (schema.format === 'int32' && (value < -(2 ** 31) || value > 2 ** 31 - 1)) problems.push({ path, message: 'is out of the int32 range' });
}

function validateArray(value: unknown[], schema: Obj, path: string, nested: State, problems: SchemaProblem[]): void {
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push({ path, message: `must have at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}` });
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push({ path, message: `must have at most ${schema.maxItems} items; got ${value.length}` });
  if (schema.uniqueItems === true) {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) problems.push({ path: childPath(path, i), message: 'duplicates an earlier item (uniqueItems)' });
      seen.add(key);
    });
  }
  if (schema.items !== undefined) value.forEach((item, i) => validate(item, schema.items, childPath(path, i), nested, problems));
}

function validateObject(value: Obj, schema: Obj, path: string, state: State, nested: State, problems: SchemaProblem[]): void {
  const properties = isObject(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name !== 'string' || Object.hasOwn(value, name)) continue;
      const property = properties[name];
      if (isObject(property) && property.readOnly === true) continue;
      problems.push({ path: childPath(path, name), message: 'is required' });
    }
  }
  for (const [name, item] of Object.entries(value)) {
    if (Object.hasOwn(properties, name)) {
      validate(item, properties[name], childPath(path, name), nested, problems);
    } else if (schema.additionalProperties === false) {
      if (state.siblingProperties.has(name)) continue;
      const known = Object.keys(properties);
      // A misspelt field (`frist_name`) is named with the one it likely meant.
      const meant = known.map((k) => ({ k, d: distance(name, k) })).filter((c) => c.d <= Math.max(1, Math.floor(c.k.length / 4))).sort((a, b) => a.d - b.d)[0];
      const hint = meant ? `; did you mean ${meant.k}?` : known.length > 0 ? ` (known: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})` : '';
      problems.push({ path: childPath(path, name), message: `is not an allowed property${hint}`, keyword: 'additionalProperties' });
    } else if (isObject(schema.additionalProperties)) {
      validate(item, schema.additionalProperties, childPath(path, name), nested, problems);
    }
  }
  if (typeof schema.minProperties === 'number' && Object.keys(value).length < schema.minProperties) problems.push({ path, message: `must have at least ${schema.minProperties} properties` });
  if (typeof schema.maxProperties === 'number' && Object.keys(value).length > schema.maxProperties) problems.push({ path, message: `must have at most ${schema.maxProperties} properties` });
}

/** Problems of `value` against an OpenAPI 3.0 `schema`; an empty array when it is valid. Pure. */
export function validateValue(value: unknown, schema: unknown, components: Components): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  validate(value, schema, '$', { components, refsAtValue: new Set(), siblingProperties: new Set() }, problems);
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Properties the value sets that the schema marks `deprecated`, as JSON paths (top level and nested objects). */
export function deprecatedProperties(value: unknown, schema: unknown, components: Components, path = '$', depth = 0): string[] {
  if (depth > 8 || !isObject(value)) return [];
  let resolved = schema;
  for (let i = 0; i < 8 && isObject(resolved) && typeof resolved.$ref === 'string'; i++) resolved = resolveRef(resolved.$ref, components);
  if (!isObject(resolved) || !isObject(resolved.properties)) return [];
  const found: string[] = [];
  for (const [name, item] of Object.entries(value)) {
    let property = resolved.properties[name];
    for (let i = 0; i < 8 && isObject(property) && typeof property.$ref === 'string'; i++) property = resolveRef(property.$ref, components);
    if (!isObject(property)) continue;
    if (property.deprecated === true) found.push(childPath(path, name));
    found.push(...deprecatedProperties(item, property, components, childPath(path, name), depth + 1));
  }
  return found;
}
