// Advice for requests that set Clerk metadata: the three kinds and who can read or write each, the
// one this request uses and whether its keys fit there, and whether the endpoint replaces or merges.
import { isObject, type Obj } from '../core/values.js';

export type MetadataField = 'public_metadata' | 'private_metadata' | 'unsafe_metadata';

export interface MetadataType {
  field: MetadataField;
  readableBy: string;
  writableBy: string;
  useFor: string;
}

export const METADATA_TYPES: readonly MetadataType[] = [
  {
    field: 'public_metadata',
    readableBy: 'Frontend and Backend (and session tokens that include it)',
    writableBy: 'Backend only',
    useFor: 'non-sensitive data the UI may show: role, plan name, onboarding state, feature flags',
  },
  {
    field: 'private_metadata',
    readableBy: 'Backend only',
    writableBy: 'Backend only',
    useFor: 'internal or sensitive data: IDs in other systems (stripe_customer_id), entitlements, notes',
  },
  {
    field: 'unsafe_metadata',
    readableBy: 'Frontend and Backend',
    writableBy: 'Frontend (the signed-in user, freely) and Backend',
    useFor: 'user-editable preferences collected in the UI; never trust it for authorization',
  },
];

export const METADATA_FIELDS: readonly MetadataField[] = METADATA_TYPES.map((t) => t.field);

export type MetadataSemantics = 'replace' | 'replace-field' | 'merge' | 'create' | 'other';

export interface MetadataAdvice {
  /** The metadata fields the body sets, in the table's order. */
  fields: MetadataField[];
  types: readonly MetadataType[];
  semantics: MetadataSemantics;
  /** One sentence on what this endpoint does with the metadata objects. */
  semanticsMessage: string;
  /** Problems with the keys or values chosen: each is a warning the guard reports. */
  warnings: string[];
  /** Fields whose previous contents this request discards (replace semantics). */
  replaces: MetadataField[];
}

// Key names that mean a secret or an internal identifier: fine in private_metadata, not elsewhere.
const SECRET_KEY = /(secret|passw(or)?d|passwd|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|stripe|customer[_-]?id|billing|ssn|social[_-]?security|credit[_-]?card|card[_-]?number|cvv|iban|bank[_-]?account|tax[_-]?id|session[_-]?id|auth[_-]?code|otp|pin$)/i;
// Key names that grant something: must not be writable by the user, so never in unsafe_metadata.
const PRIVILEGE_KEY = /^(is[_-]?)?(admin|role|roles|permission|permissions|plan|tier|subscription|entitlements?|credits?|verified|approved|banned|paid|premium|superuser|staff|scopes?)$/i;
// Values that look like credentials, checked without ever printing them.
const SECRET_VALUE = /^(sk|rk)_(test|live)_|^-----BEGIN [A-Z ]*PRIVATE KEY|^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.|^(ghp|gho|ghs|github_pat|xox[abpr])_|^AKIA[0-9A-Z]{16}$/;

function walk(value: unknown, path: string, visit: (key: string, path: string, value: unknown) => void, depth = 0): void {
  if (depth > 6) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${path}[${i}]`, visit, depth + 1));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const itemPath = `${path}.${key}`;
    visit(key, itemPath, item);
    walk(item, itemPath, visit, depth + 1);
  }
}

function semanticsOf(method: string, template: string): { semantics: MetadataSemantics; message: string } {
  const upper = method.toUpperCase();
  const isMetadataEndpoint = /\/metadata$/.test(template);
  const owner = template.replace(/\/metadata$/, '');
  if (isMetadataEndpoint && upper === 'PATCH') {
    return {
      semantics: 'merge',
      message: `${upper} ${template} deep-merges: keys you send are added or overwritten, other keys are kept; set a key to null to remove it.`,
    };
  }
  if (isMetadataEndpoint && upper === 'PUT') {
    return {
      semantics: 'replace-field',
      message: `${upper} ${template} replaces each metadata field you send wholesale: keys not in the body are removed from that field; fields you omit are kept. Use PATCH ${template} to merge.`,
    };
  }
  if (upper === 'PATCH' || upper === 'PUT') {
    return {
      semantics: 'replace',
      message: `${upper} ${template} replaces each metadata object you send as a whole: any existing key not in the body is lost. Read, spread, write; or use PATCH ${owner}/metadata, which deep-merges.`,
    };
  }
  if (upper === 'POST' && !/\{[^}]+\}$/.test(template) && !/\/(verify|revoke|ban|lock)/.test(template)) {
    return { semantics: 'create', message: `${upper} ${template} sets the initial metadata of the new resource.` };
  }
  return { semantics: 'other', message: `${upper} ${template} stores this metadata as given; see the endpoint's description for where it ends up.` };
}

/** Advice on the metadata a request body sets; null when it sets none. Pure. */
export function adviseMetadata(method: string, template: string, body: unknown): MetadataAdvice | null {
  if (!isObject(body)) return null;
  const fields = METADATA_FIELDS.filter((field) => Object.hasOwn(body, field));
  if (fields.length === 0) return null;
  const { semantics, message } = semanticsOf(method, template);
  const warnings: string[] = [];
  for (const field of fields) {
    const value = body[field];
    if (value !== null && !isObject(value)) {
      warnings.push(`${field} must be a JSON object (or null to clear it); got ${Array.isArray(value) ? 'an array' : typeof value}`);
      continue;
    }
    walk(value, `$.${field}`, (key, path, item) => {
      if (typeof item === 'string' && SECRET_VALUE.test(item.trim())) {
        warnings.push(`${path} holds what looks like a credential: never store secrets in Clerk metadata${field === 'private_metadata' ? '' : `, and above all not in ${field}, which the frontend can read`}`);
      }
      if (field === 'private_metadata') return;
      if (SECRET_KEY.test(key)) {
        warnings.push(
          field === 'public_metadata'
            ? `${path}: \`${key}\` looks sensitive or internal, but public_metadata is readable by the frontend; put it in private_metadata`
            : `${path}: \`${key}\` looks sensitive, but unsafe_metadata is readable and writable by the user from the frontend; put it in private_metadata`,
        );
      } else if (field === 'unsafe_metadata' && PRIVILEGE_KEY.test(key)) {
        warnings.push(`${path}: \`${key}\` looks like it grants something, but the user can change unsafe_metadata from the frontend; put it in public_metadata (or private_metadata) and never authorize on unsafe_metadata`);
      }
    });
  }
  if (semantics === 'replace' || semantics === 'replace-field') {
    for (const field of fields) {
      if (body[field] === null || (isObject(body[field]) && Object.keys(body[field] as Obj).length === 0)) {
        warnings.push(`${field} is ${body[field] === null ? 'null' : 'empty'}: this clears every key it holds`);
      }
    }
  }
  const replaces = semantics === 'replace' || semantics === 'replace-field' ? [...fields] : [];
  if (semantics === 'replace') warnings.push(message);
  return { fields, types: METADATA_TYPES, semantics, semanticsMessage: message, warnings, replaces };
}

/**
 * The three-kinds table as aligned text lines, for people. Narrower than its columns (a terminal of
 * 80), each kind is a block of its own with the values wrapped to the width.
 */
export function metadataTable(highlight: readonly MetadataField[] = [], width = Infinity): string[] {
  const header = ['field', 'readable by', 'writable by', 'use for'];
  const rows = METADATA_TYPES.map((t) => [t.field, t.readableBy, t.writableBy, t.useFor]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const mark = (field: MetadataField) => (highlight.includes(field) ? '>' : ' ');
  const line = (cells: string[], first: string) => `${first} ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`;
  const table = [line(header, ' '), ...rows.map((r) => line(r, mark(r[0] as MetadataField)))];
  if (table.every((row) => row.length <= width)) return table;
  const blocks: string[] = [];
  for (const type of METADATA_TYPES) {
    blocks.push(`${mark(type.field)} ${type.field}`);
    for (const [label, value] of [['readable by', type.readableBy], ['writable by', type.writableBy], ['use for', type.useFor]] as const) {
      const lead = `    ${label.padEnd(11)}  `;
      wrapWords(value, Math.max(20, width - lead.length)).forEach((part, i) => blocks.push(`${i === 0 ? lead : ' '.repeat(lead.length)}${part}`));
    }
  }
  return blocks;
}

/** Text in lines of at most `width` characters, broken between words (a longer word stands alone). */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  if (current !== '') lines.push(current);
  return lines;
}
