// Plain JSON values as the toolkit meets them: parsed specs, request bodies, answers.

export type Obj = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
