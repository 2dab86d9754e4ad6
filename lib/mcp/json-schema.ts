// The JSON Schemas of bapi-mcp's tools, and the check of a tool call's arguments against them. Only the
// keywords the tools use are understood (type, enum, properties, required, additionalProperties,
// items, anyOf, minimum, maximum, minLength); an unknown keyword is not enforced, so a schema here
// must use no other. A schema of `{}` accepts anything: the guard checks a request body itself.

export type JsonSchema = {
  type?: string | string[];
  enum?: readonly unknown[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  description?: string;
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(wanted: string, actual: string): boolean {
  return wanted === actual || (wanted === 'number' && actual === 'integer');
}

/** The first way `value` breaks `schema`, as `where: what`, or null when it holds. */
export function schemaProblem(schema: JsonSchema, value: unknown, where = 'arguments'): string | null {
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const wanted = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!wanted.some((type) => typeMatches(type, actual))) return `${where}: expected ${wanted.join(' or ')}, got ${actual}`;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) return `${where}: must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${where}: must be at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${where}: must be at most ${schema.maximum}`;
  }
  if (typeof value === 'string' && schema.minLength !== undefined && value.length < schema.minLength) return `${where}: must not be empty`;
  if (schema.anyOf !== undefined && !schema.anyOf.some((option) => schemaProblem(option, value, where) === null)) {
    return `${where}: ${schema.anyOf.map((option) => schemaProblem(option, value, where)?.replace(`${where}: `, '')).join('; or ')}`;
  }
  if (actual === 'array' && schema.items !== undefined) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      const problem = schemaProblem(schema.items, items[i], `${where}[${i}]`);
      if (problem) return problem;
    }
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) return `${where}.${name}: required`;
    for (const [name, child] of Object.entries(object)) {
      const declared = schema.properties?.[name];
      if (declared) {
        const problem = schemaProblem(declared, child, `${where}.${name}`);
        if (problem) return problem;
      } else if (schema.additionalProperties === false) {
        return `${where}.${name}: not an argument of this tool`;
      } else if (typeof schema.additionalProperties === 'object') {
        const problem = schemaProblem(schema.additionalProperties, child, `${where}.${name}`);
        if (problem) return problem;
      }
    }
  }
  return null;
}
