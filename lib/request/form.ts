// Multipart fields (--form): parsed as curl does, each file read once, and bound for the guard by the
// SHA-256 of the bytes that are sent.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { crypto } from '../core/builtins.js';
import { UsageError } from '../core/errors.js';
import { plainObject, splitPair } from './body.js';

export interface FormField {
  name: string;
  /** A plain value, or the path of a file to upload (from `k=@file`). */
  value?: string;
  file?: string;
  /** The file's content type (`k=@file;type=image/png`, else guessed from its extension). */
  type?: string;
}

/** A form field with its file read: the bytes that are hashed for the approval are the bytes sent. */
export interface LoadedFormField extends FormField {
  content?: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  pdf: 'application/pdf',
  json: 'application/json',
  txt: 'text/plain',
  csv: 'text/csv',
  pem: 'application/x-pem-file',
};

/** `k=v`, `k=@file` or `k=@file;type=image/png` (curl's form). */
export function parseFormField(raw: string, cwd: string): FormField {
  const [name, value] = splitPair(raw, '--form');
  if (!value.startsWith('@')) return { name, value };
  const typed = /^(.*);type=([A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+)$/.exec(value.slice(1));
  const file = resolve(cwd, typed ? (typed[1] as string) : value.slice(1));
  const extension = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  return { name, file, type: typed ? (typed[2] as string) : (CONTENT_TYPES[extension] ?? 'application/octet-stream') };
}

/** Reads each form file once (so what is hashed for the approval is what is sent). */
export function loadForm(form: FormField[]): LoadedFormField[] {
  return form.map((field) => {
    if (field.file === undefined) return field;
    try {
      return { ...field, content: readFileSync(field.file) };
    } catch (error) {
      throw new UsageError(`--form ${field.name}=@${field.file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  });
}

/**
 * What the guard sees, and the approval binds, of a multipart request: each field's value, and for a
 * file its path, type, size and the SHA-256 of its content. A file edited after approval no longer matches.
 */
export function formBinding(form: LoadedFormField[]): Record<string, string> {
  const sha256 = (data: Buffer) => crypto().createHash('sha256').update(data).digest('hex');
  const body = plainObject() as Record<string, string>;
  for (const field of form) {
    body[field.name] = field.content !== undefined
      ? `@${field.file} (${field.type ?? 'application/octet-stream'}, ${field.content.length} bytes, sha256:${sha256(field.content)})`
      : (field.value ?? '');
  }
  return body;
}
