// How --paginate walks a list endpoint, from its spec: the page size, Clerk's cursor or offsets, and
// whether time ranges can be walked at once. Planning only: the dry run shows it, the walk follows it.
import { isObject } from '../core/values.js';
import { hasGet } from '../endpoint/match.js';
import { deref } from '../endpoint/validate.js';
import type { EndpointRaw, SpecDetail } from '../spec/index.js';
import { DEFAULT_PAGE_LIMIT, pageWindow } from './paginate.js';

/** True when the endpoint takes the query parameter `name`. */
function hasQueryParameter(raw: EndpointRaw | undefined, components: SpecDetail['components'], name: string): boolean {
  return (raw?.parameters ?? []).some((parameter) => {
    const resolved = deref(parameter, components);
    return isObject(resolved) && resolved.in === 'query' && resolved.name === name;
  });
}

/** The limit parameter's maximum for this endpoint (a page as large as Clerk allows). */
function pageLimitFor(raw: EndpointRaw | undefined, components: SpecDetail['components']): number {
  for (const parameter of raw?.parameters ?? []) {
    const resolved = deref(parameter, components);
    if (isObject(resolved) && resolved.name === 'limit' && resolved.in === 'query') {
      const schema = deref(resolved.schema, components);
      if (isObject(schema) && typeof schema.maximum === 'number' && schema.maximum > 0) return schema.maximum;
    }
  }
  return DEFAULT_PAGE_LIMIT;
}

export interface PagePlan {
  /** The query without limit/offset (plus paginated=true where it applies), the page size and the first offset. */
  window: { query: Array<[string, string]>; limit: number; offset: number };
  /** Follow starting_after instead of offset. */
  cursor: boolean;
  /** The count endpoint's path when more than one cursor can be in flight (GET /users beside /users/count); else null. */
  split: string | null;
  /** Why the walk goes by offset, when the endpoint has a cursor. */
  note: string | null;
  /** The first page's query, as sent. */
  firstQuery: Array<[string, string]>;
  /** The user's own `starting_after`: where the cursor walk starts (taken out of the query, so it is not sent twice). */
  startAfter: string | null;
  /** The count endpoint's path for a walk from the start (the progress line's total); else null. */
  count: string | null;
}

/**
 * How --paginate walks this endpoint: Clerk's cursor (`starting_after`) where the endpoint has one
 * and the ordering allows it (large offsets slow down and time out); an explicit offset, or another
 * ordering, keeps offset pages. `paginated=true` where the endpoint takes it, so pages say their
 * total. Time ranges walked at once where the list can be cut by creation time and counted.
 */
export function pagePlan(call: { path: string; query: Array<[string, string]> }, raw: EndpointRaw | undefined, detail: SpecDetail | null, endpoints: Array<{ method: string; path: string }>, matchedPath: string | null, concurrency: number): PagePlan {
  const has = (name: string) => detail !== null && hasQueryParameter(raw, detail.components, name);
  const window = pageWindow(call.query, detail ? pageLimitFor(raw, detail.components) : DEFAULT_PAGE_LIMIT);
  if (has('paginated') && !window.query.some(([name]) => name === 'paginated')) window.query.push(['paginated', 'true']);
  const orderBy = call.query.find(([name]) => name === 'order_by')?.[1];
  const offsetGiven = call.query.some(([name]) => name === 'offset');
  const cursorExists = has('starting_after');
  const cursor = cursorExists && !offsetGiven && (orderBy === undefined || /^[+-]?created_at$/.test(orderBy));
  const note = cursorExists && !cursor ? `${offsetGiven ? 'an offset was given' : `order_by=${orderBy} cannot use the starting_after cursor`}: paging by offset, which slows down for large offsets` : null;
  const countPath = matchedPath === null ? null : `${matchedPath}/count`;
  const fromTheStart = !offsetGiven && !call.query.some(([name]) => name === 'starting_after');
  const count = countPath !== null && hasGet(endpoints, countPath) && fromTheStart ? `${call.path.replace(/\?.*$/, '').replace(/\/+$/, '')}/count` : null;
  const split = cursor && concurrency > 1 && has('created_at_after') && has('created_at_before') ? count : null;
  let startAfter: string | null = null;
  if (cursor) {
    startAfter = window.query.find(([name]) => name === 'starting_after')?.[1] ?? null;
    window.query = window.query.filter(([name]) => name !== 'starting_after');
  }
  const position: Array<[string, string]> = !cursor ? [['offset', String(window.offset)]] : startAfter === null ? [] : [['starting_after', startAfter]];
  const firstQuery: Array<[string, string]> = [...window.query, ['limit', String(window.limit)], ...position];
  return { window, cursor, split, note, firstQuery, startAfter, count };
}
