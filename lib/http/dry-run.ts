// A dry run: the request as text, and an equivalent curl command that reads the key from
// $CLERK_SECRET_KEY. Rendering only; nothing here sends or decides.
import type { ApiCall } from '../request/args.js';

/** Single-quotes a value for POSIX shells. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function headerCase(name: string): string {
  if (name === 'clerk-api-version') return 'Clerk-API-Version';
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`);
}

/** The request as text and an equivalent curl command that reads the key from $CLERK_SECRET_KEY. */
export function renderDryRun(method: string, url: URL, headers: Record<string, string>, call: ApiCall, bodyText: string | null): string {
  const lines = [`${method} ${url.href}`];
  lines.push('Authorization: Bearer $CLERK_SECRET_KEY');
  for (const [name, value] of Object.entries(headers)) lines.push(`${headerCase(name)}: ${value}`);
  if (bodyText !== null) lines.push('', bodyText);
  if (call.form) {
    lines.push('');
    for (const field of call.form) lines.push(field.file !== undefined ? `${field.name}=@${field.file}` : `${field.name}=${field.value ?? ''}`);
  }
  const curl = ['curl', '-sS', '-X', method, shellQuote(url.href), '-H', '"Authorization: Bearer $CLERK_SECRET_KEY"'];
  for (const [name, value] of Object.entries(headers)) curl.push('-H', shellQuote(`${headerCase(name)}: ${value}`));
  if (bodyText !== null) curl.push('--data-raw', shellQuote(bodyText));
  for (const field of call.form ?? []) curl.push('-F', shellQuote(field.file !== undefined ? `${field.name}=@${field.file}` : `${field.name}=${field.value ?? ''}`));
  return `${lines.join('\n')}\n\n${curl.join(' ')}\n`;
}
