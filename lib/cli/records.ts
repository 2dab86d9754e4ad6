// Output of the listing commands: tab-separated records whose first fields never move (for cut, awk
// and fzf), one JSON document, or NDJSON. Kept free of heavy imports: the listings start fast.
import { UsageError } from '../core/errors.js';
import type { EndpointSummary, TagCount } from '../spec/index.js';

export type RecordFormat = 'text' | 'json' | 'ndjson';

export function recordFormat(flags: Record<string, unknown>): RecordFormat {
  if (flags.json === true && flags.ndjson === true) throw new UsageError('--json and --ndjson cannot be combined');
  return flags.json === true ? 'json' : flags.ndjson === true ? 'ndjson' : 'text';
}

/** One field of a tab-separated record: no tabs or line breaks inside, so records stay one per line. */
export function cleanField(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ').trim();
}

export function firstLine(value: string): string {
  return cleanField(value.trim().split(/\r?\n/, 1)[0] ?? '');
}

function render<T>(items: T[], format: RecordFormat, toJson: (item: T) => unknown, toLine: (item: T) => string[]): string {
  if (format === 'json') return `${JSON.stringify(items.map(toJson), null, 2)}\n`;
  const lines = items.map((item) => (format === 'ndjson' ? JSON.stringify(toJson(item)) : toLine(item).map(cleanField).join('\t')));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** `NAME⇥COUNT⇥DESCRIPTION` (first line of the description), or {name, description, endpoints}. */
export function renderTags(tags: TagCount[], format: RecordFormat): string {
  return render(
    tags,
    format,
    (t) => ({ name: t.name, description: t.description, endpoints: t.endpoints }),
    (t) => [t.name, String(t.endpoints), firstLine(t.description)],
  );
}

export function endpointRecord(e: EndpointSummary): Record<string, unknown> {
  return { method: e.method, path: e.path, operationId: e.operationId, summary: e.summary, tags: e.tags, deprecated: e.deprecated };
}

/** `METHOD⇥PATH⇥operationId⇥summary` (a deprecated endpoint's summary says so), or the JSON records. */
export function renderEndpoints(endpoints: EndpointSummary[], format: RecordFormat): string {
  return render(endpoints, format, endpointRecord, (e) => [
    e.method,
    e.path,
    e.operationId ?? '-',
    `${e.deprecated ? '[deprecated] ' : ''}${firstLine(e.summary)}`,
  ]);
}

/** When every endpoint of a spec is a platform one and they are hidden: the line that says so (else null). */
export function platformOnlyHint(summary: { endpoints: Array<{ platform?: boolean }> }, includePlatform: boolean, version: string): string | null {
  if (includePlatform || summary.endpoints.length === 0 || summary.endpoints.some((e) => !e.platform)) return null;
  return `all ${summary.endpoints.length} endpoints of spec ${version} are platform endpoints, hidden by default: add --include-platform`;
}
