// Turning spec text into an object: JSON when it looks like JSON (fast), YAML otherwise. `yaml` is
// imported only here and only when needed, so commands that read the index never load it.
import { SpecError } from './errors.js';

export async function parseSpecText(text: string, label: string): Promise<Record<string, unknown>> {
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
