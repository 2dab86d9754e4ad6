// The readable form of an endpoint's detail: a header, parameters and body as field trees (name, type,
// required, description, enum), responses, and ready-to-run commands. Also the text form of --diff.
import type { Colors } from '../core/io.js';
import type { EndpointDiff } from './diff.js';
import type { EndpointDetail, ParameterDetail } from './detail.js';
import { COMPONENT_KEY, CYCLE_KEY } from './resolve.js';
import { isObject } from '../core/values.js';

type Obj = Record<string, unknown>;

const plain: Colors = { bold: (s) => s, dim: (s) => s, red: (s) => s, yellow: (s) => s, green: (s) => s, cyan: (s) => s };

export function componentName(ref: unknown): string {
  return typeof ref === 'string' ? (ref.split('/').pop() ?? ref) : '';
}

function oneLine(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '';
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function variants(schema: Obj): { word: string; list: Obj[] } | null {
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(schema[key])) return { word: key === 'oneOf' ? 'one of' : 'any of', list: (schema[key] as unknown[]).filter(isObject) };
  }
  return null;
}

/** A short type label: `string`, `integer (int64)`, `EmailAddress[]`, `User`, `one of: A | B`. */
export function typeLabel(schema: unknown): string {
  if (!isObject(schema)) return 'any';
  if (typeof schema[CYCLE_KEY] === 'string') return `${componentName(schema[CYCLE_KEY])} (recursive, shown above)`;
  const component = componentName(schema[COMPONENT_KEY]);
  const choice = variants(schema);
  if (choice && schema.type === undefined) {
    const names = choice.list.map((v) => typeLabel(v));
    return `${choice.word}: ${names.join(' | ')}`;
  }
  let type = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null').join(' | ') : typeof schema.type === 'string' ? schema.type : '';
  if (type === 'array') {
    const items = schema.items;
    if (isObject(items) && typeof items[CYCLE_KEY] === 'string') return `${componentName(items[CYCLE_KEY])}[] (recursive, shown above)`;
    return `${typeLabel(items)}[]`;
  }
  if (type === '' && (isObject(schema.properties) || Array.isArray(schema.allOf))) type = 'object';
  if (type === 'object' && component) return component;
  if (type === '') return component || 'any';
  if (typeof schema.format === 'string') type += ` (${schema.format})`;
  return type;
}

function isNullable(schema: Obj): boolean {
  return schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null'));
}

/** An object schema's properties with the ones every `allOf` member contributes. */
function objectProperties(schema: Obj): { properties: Array<[string, Obj]>; required: Set<string> } {
  const properties = new Map<string, Obj>();
  const required = new Set<string>();
  const collect = (node: Obj): void => {
    if (Array.isArray(node.allOf)) for (const member of node.allOf) if (isObject(member)) collect(member);
    if (isObject(node.properties)) for (const [name, child] of Object.entries(node.properties)) if (isObject(child)) properties.set(name, child);
    if (Array.isArray(node.required)) for (const name of node.required) if (typeof name === 'string') required.add(name);
  };
  collect(schema);
  return { properties: [...properties], required };
}

interface TreeOptions {
  colors: Colors;
  maxDepth: number;
  /** Names and types only: no descriptions, enums or defaults (--depth 0). */
  brief?: boolean;
  /** Set when a tree was cut at maxDepth, so the caller can say so once. */
  cut?: { value: boolean };
}

function fieldLines(name: string, schema: Obj, isRequired: boolean, indent: string, depth: number, options: TreeOptions, out: string[]): void {
  const { colors } = options;
  const flags = [isRequired ? colors.yellow('required') : '', isNullable(schema) ? 'nullable' : '', schema.deprecated === true ? colors.red('deprecated') : '', schema.readOnly === true ? 'read-only' : '']
    .filter((f) => f !== '')
    .join(', ');
  out.push(`${indent}${colors.bold(name)}  ${colors.cyan(typeLabel(schema))}${flags ? `  ${flags}` : ''}`);
  if (options.brief) return;
  const more = `${indent}    `;
  const description = oneLine(schema.description);
  if (description) out.push(`${more}${colors.dim(description)}`);
  if (Array.isArray(schema.enum)) out.push(`${more}enum: ${schema.enum.map(show).join(' | ')}`);
  else if (schema.type === 'array' && isObject(schema.items) && Array.isArray(schema.items.enum)) out.push(`${more}items enum: ${schema.items.enum.map(show).join(' | ')}`);
  if (schema.default !== undefined) out.push(`${more}default: ${show(schema.default)}`);
  children(schema, `${indent}  `, depth + 1, options, out);
}

/** The fields inside a schema (an object's properties, an array's items, a choice's variants). */
function children(schema: Obj, indent: string, depth: number, options: TreeOptions, out: string[]): void {
  if (typeof schema[CYCLE_KEY] === 'string') return;
  let node = schema;
  while (node.type === 'array' && isObject(node.items)) node = node.items;
  const { properties, required } = objectProperties(node);
  const choice = variants(node);
  if (properties.length === 0 && !choice) return;
  if (depth > options.maxDepth) {
    if (options.cut) options.cut.value = true;
    return;
  }
  for (const [name, child] of properties) fieldLines(name, child, required.has(name), indent, depth, options, out);
  if (choice && choice.list.length > 0) {
    choice.list.forEach((variant, i) => {
      out.push(`${indent}${options.colors.dim(`${choice.word} #${i + 1}:`)} ${options.colors.cyan(typeLabel(variant))}`);
      children(variant, `${indent}  `, depth + 1, options, out);
    });
  }
}

/** A schema as an indented field tree, one line per field plus its description, enum and default. */
export function schemaTree(schema: unknown, indent: string, options: Partial<TreeOptions> = {}): string[] {
  const out: string[] = [];
  if (!isObject(schema)) return out;
  children(schema, indent, 1, { colors: options.colors ?? plain, maxDepth: options.maxDepth ?? Infinity, ...(options.cut ? { cut: options.cut } : {}), ...(options.brief ? { brief: true } : {}) }, out);
  return out;
}

const LOCATIONS: Array<[string, string]> = [
  ['path', 'Path parameters'],
  ['query', 'Query parameters'],
  ['header', 'Header parameters'],
  ['cookie', 'Cookie parameters'],
];

function parameterLines(parameters: ParameterDetail[], options: TreeOptions, out: string[]): void {
  for (const [location, title] of LOCATIONS) {
    const list = parameters.filter((p) => p.in === location);
    if (list.length === 0) continue;
    out.push('', options.colors.bold(`${title}:`));
    for (const p of list) {
      const schema: Obj = isObject(p.schema) ? { ...p.schema } : {};
      if (p.description) schema.description = p.description;
      if (p.deprecated) schema.deprecated = true;
      fieldLines(p.name, schema, p.required, '  ', 1, options, out);
    }
  }
}

export interface RenderDetailOptions {
  colors?: Colors;
  /** Field tree depth of parameters and request body (default: all). */
  maxDepth?: number;
  /** Field tree depth of responses (default: 1, top-level fields). */
  responseDepth?: number;
  /** Ready commands to print at the end. */
  commands?: string[];
  /** The SDK calls that send this request, printed after the commands ([] says there is none). */
  sdk?: Array<{ package: string; version: string; example: string; alsoSends?: string[]; unversioned?: true }>;
}

/** The readable text of an endpoint's detail (built with `annotate` so component names show). */
export function renderEndpointText(detail: EndpointDetail, options: RenderDetailOptions = {}): string {
  const colors = options.colors ?? plain;
  // --depth 0: the top-level names and types, nothing else.
  const brief = options.maxDepth === 0;
  const tree: TreeOptions = { colors, maxDepth: brief ? 1 : (options.maxDepth ?? Infinity), brief };
  const out: string[] = [];
  out.push(colors.bold(`${detail.method} ${detail.path}`) + (detail.operationId ? `  ${colors.cyan(detail.operationId)}` : ''));
  if (detail.summary) out.push(detail.summary);
  const facts = [`spec ${detail.version}`, detail.tags.length > 0 ? `tags: ${detail.tags.join(', ')}` : ''];
  if (detail.deprecated) facts.push(colors.red('DEPRECATED'));
  out.push(colors.dim(facts.filter((f) => f !== '').join(' · ')));
  if (detail.description && detail.description !== detail.summary) out.push('', detail.description);

  parameterLines(detail.parameters, tree, out);

  const body = detail.requestBody;
  if (body) {
    const facts = [body.contentTypes.join(', ') || 'no content type', body.required ? 'required' : 'optional'];
    out.push('', colors.bold(`Request body (${facts.join(', ')}):`));
    if (body.description) out.push(`  ${colors.dim(oneLine(body.description))}`);
    const lines = schemaTree(body.schema, '  ', tree);
    if (lines.length > 0) out.push(...lines);
    else if (isObject(body.schema)) out.push(`  ${colors.cyan(typeLabel(body.schema))}`);
  }

  const statuses = Object.keys(detail.responses);
  if (statuses.length > 0) {
    out.push('', colors.bold('Responses:'));
    const responseTree: TreeOptions = { colors, maxDepth: brief ? 1 : (options.responseDepth ?? 1), cut: { value: false }, brief };
    for (const status of statuses) {
      const response = detail.responses[status];
      if (!response) continue;
      const schema = response.schema;
      const label = isObject(schema) ? `  ${colors.cyan(typeLabel(schema))}` : '';
      const paint = /^2/.test(status) ? colors.green : /^[45]/.test(status) ? colors.red : (s: string) => s;
      out.push(`  ${paint(status)}  ${oneLine(response.description) || '-'}${label}`);
      // Error responses all share Clerk's error shape; their trees would only repeat it (see --json).
      if (/^[23]/.test(status)) out.push(...schemaTree(schema, '    ', responseTree));
    }
    if (responseTree.cut?.value) out.push(colors.dim(`  (response fields shown ${responseTree.maxDepth} level${responseTree.maxDepth === 1 ? '' : 's'} deep: --depth N or --json for more)`));
  }

  if (detail.components.length > 0) out.push('', colors.dim(`Components: ${detail.components.map((ref) => ref.replace(/^#\/components\//, '')).join(', ')}`));
  if (options.commands && options.commands.length > 0) {
    out.push('', colors.bold('Try it:'));
    for (const command of options.commands) out.push(...command.split('\n').map((line) => `  ${line}`));
  }
  if (options.sdk) {
    if (options.sdk.length === 0) out.push('', colors.dim('SDK: no @clerk/backend method sends this request; use bapi-curl, or clerkClient\'s request helper.'));
    else {
      out.push('', colors.bold(`SDK (${options.sdk[0]?.package} ${options.sdk[0]?.version}):`));
      for (const equivalent of options.sdk) {
        out.push(`  ${equivalent.example}`);
        if (equivalent.alsoSends) out.push(colors.dim(`    also sends ${equivalent.alsoSends.join(', ')}: each counts against the rate limit`));
        if (equivalent.unversioned) out.push(colors.dim('    the SDK sends it without the /v1 prefix'));
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** The text of --diff: one line per change, `!` marking the ones that may break a caller. */
export function renderDiffText(diff: EndpointDiff, colors: Colors = plain): string {
  const out = [colors.bold(`${diff.method} ${diff.path}: ${diff.from} → ${diff.to}`)];
  if (diff.changes.length === 0) out.push('  no changes');
  for (const change of diff.changes) {
    const sign = change.change === 'added' ? colors.green('+') : change.change === 'removed' ? colors.red('-') : colors.yellow('~');
    out.push(`  ${sign} ${change.message}${change.breaking ? `  ${colors.red('(breaking)')}` : ''}`);
  }
  const breaking = diff.changes.filter((c) => c.breaking).length;
  if (diff.changes.length > 0) out.push(colors.dim(`${diff.changes.length} change${diff.changes.length === 1 ? '' : 's'}, ${breaking} possibly breaking`));
  return `${out.join('\n')}\n`;
}
