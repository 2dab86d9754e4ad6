// Turning spec text into an object: JSON when it looks like JSON (fast), YAML otherwise. `yaml` is
// imported only here and only when needed, so commands that read the index never load it.
import { SpecError } from '../core/errors.js';
import { FileShapeError, readBoundedFile } from '../core/fs-atomic.js';

/** The largest spec accepted: Clerk's Backend API specs are under 1 MB; a 50 MB YAML file takes minutes and gigabytes to parse. */
export const MAX_SPEC_BYTES = 16 * 1024 * 1024;

export function specTooLarge(label: string, size: number): SpecError {
  return new SpecError(`${label} is ${(size / 1024 / 1024).toFixed(1)} MB; specs larger than ${MAX_SPEC_BYTES / 1024 / 1024} MB are refused`, {
    hints: ["Clerk's Backend API specs are under 1 MB: is this the right file?"],
  });
}

export async function parseSpecText(text: string, label: string): Promise<Record<string, unknown>> {
  if (text.length > MAX_SPEC_BYTES) throw specTooLarge(label, Buffer.byteLength(text));
  let value: unknown;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new SpecError(`${label} is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const { parse } = await import('yaml');
    try {
      value = parse(text, { prettyErrors: true });
    } catch (error) {
      const first = (error as Error).message.split('\n')[0];
      throw new SpecError(`${label} is not valid YAML: ${first}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpecError(`${label} is not an OpenAPI document (expected a mapping at the top)`);
  }
  const spec = value as Record<string, unknown>;
  if (typeof spec.paths !== 'object' || spec.paths === null) {
    throw new SpecError(`${label} is not an OpenAPI document: it has no \`paths\``, {
      hints: ['Pass a Backend API spec such as bapi/2025-11-10.yml from clerk/openapi-specs.'],
    });
  }
  return spec;
}

/** A spec file's bytes: a regular file of at most MAX_SPEC_BYTES (a device or a directory is refused, not read forever). */
export function readSpecFile(path: string, label = path): Buffer {
  try {
    return readBoundedFile(path, MAX_SPEC_BYTES);
  } catch (error) {
    if (!(error instanceof FileShapeError)) throw error;
    if (error.reason === 'too-large') throw specTooLarge(label, error.size);
    throw new SpecError(`${label} is not a regular file`);
  }
}
