// The version report: what changes, endpoint by endpoint, from the selected spec version to another
// (`extract-tag-endpoints [TAG] --diff VERSION`): endpoints added, removed and changed, each change
// classified as breaking or not. Two indexes and their resolved endpoints, kept in the store, so a
// warm report of the whole API is one read.
import type { SelectedSpec } from '../spec/select.js';
import { endpointKey, visibleEndpoints, type EndpointSummary } from '../spec/index.js';
import { buildEndpointDetail, rawEndpoint, type EndpointDetail } from './detail.js';
import { diffEndpoint, type EndpointChange } from './diff.js';

export interface VersionReportEntry {
  status: 'added' | 'removed' | 'changed';
  method: string;
  path: string;
  operationId: string | null;
  breaking: boolean;
  changes: EndpointChange[];
}

export interface VersionReport {
  from: string;
  to: string;
  tag: string | null;
  endpoints: VersionReportEntry[];
}

async function resolved(selected: SelectedSpec, endpoint: EndpointSummary): Promise<EndpointDetail | null> {
  const detail = await selected.loadDetail();
  const raw = rawEndpoint(detail, endpoint.method, endpoint.path);
  return raw ? buildEndpointDetail(raw, detail.components, selected.version, { annotate: false }) : null;
}

/** The report from `selected` to `other`, for every visible endpoint or those of `tag`. */
export async function versionReport(selected: SelectedSpec, other: SelectedSpec, tag: string | null, includePlatform: boolean): Promise<VersionReport> {
  return selected.memo(`version-report v1 ${other.version} ${other.summary.sha} ${tag ?? '*'} ${includePlatform}`, async () => {
    const pick = (summary: SelectedSpec['summary']) => visibleEndpoints(summary, includePlatform).filter((e) => tag === null || e.tags.includes(tag));
    const before = new Map(pick(selected.summary).map((e) => [endpointKey(e.method, e.path), e]));
    const after = new Map(pick(other.summary).map((e) => [endpointKey(e.method, e.path), e]));
    const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
    const endpoints: VersionReportEntry[] = [];
    for (const key of keys) {
      const a = before.get(key);
      const b = after.get(key);
      const diff = diffEndpoint(a ? await resolved(selected, a) : null, b ? await resolved(other, b) : null, selected.version, other.version);
      if (diff.status === 'unchanged') continue;
      const summary = (b ?? a) as EndpointSummary;
      endpoints.push({ status: diff.status, method: summary.method, path: summary.path, operationId: summary.operationId, breaking: diff.breaking, changes: diff.changes });
    }
    return { from: selected.version, to: other.version, tag, endpoints };
  });
}

/** `STATUS⇥METHOD⇥PATH⇥BREAKING⇥summary`, one line per endpoint: stable for cut and fzf. */
export function renderReportLines(report: VersionReport): string {
  return report.endpoints
    .map((e) => {
      const messages = e.changes.map((c) => c.message);
      const summary = messages.slice(0, 3).join('; ') + (messages.length > 3 ? `; … (${messages.length} changes)` : '');
      return [e.status, e.method, e.path, e.breaking ? 'breaking' : '-', summary.replace(/[\t\n]/g, ' ')].join('\t');
    })
    .map((line) => `${line}\n`)
    .join('');
}
