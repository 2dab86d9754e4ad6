// --paginate: follows limit/offset until a short page, for list endpoints that answer with an array
// or with {data, total_count}. Items are handed on page by page as they arrive, so memory stays flat
// however many there are; the next page is requested while the current one is being written.
import { setStatusLine, terminalWidth, type OutStream } from '../core/io.js';
import { PaginationError } from '../core/errors.js';
import type { HttpResponse } from './client.js';
import { parseBody } from './response.js';

export const DEFAULT_PAGE_LIMIT = 100;
/** A walk stops after this many pages (with Clerk's largest pages, 50 million items): a server that never ends a list must not keep us forever. */
export const MAX_PAGES = 100_000;

export interface PageItems {
  /** Each item as compact JSON. */
  items: string[];
  totalCount: number | null;
}

/**
 * The top-level items of a JSON array text, each as its own text, without parsing them: parsing and
 * re-serialising every item is most of --paginate's CPU time. Null when the text is not a well
 * nested array of one-line items (pretty-printed, truncated), so the caller parses instead.
 */
export function splitArrayItems(text: string): string[] | null {
  let start = 0;
  const length = text.length;
  while (start < length && isSpace(text.charCodeAt(start))) start++;
  if (text.charCodeAt(start) !== 0x5b /* [ */) return null;
  const items: string[] = [];
  let depth = 0;
  let itemStart = start + 1;
  for (let i = start; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Jump to the closing quote: one not preceded by an odd number of backslashes.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return null;
        let backslashes = 0;
        for (let k = j - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x5b || c === 0x7b /* [ { */) {
      depth++;
    } else if (c === 0x5d || c === 0x7d /* ] } */) {
      depth--;
      if (depth === 0) {
        const last = text.slice(itemStart, i).trim();
        if (last !== '') items.push(last);
        else if (items.length > 0) return null;
        for (let k = i + 1; k < length; k++) if (!isSpace(text.charCodeAt(k))) return null;
        return items.every((item) => item !== '' && !/[\n\r]/.test(item)) ? items : null;
      }
      if (depth < 0) return null;
    } else if (c === 0x2c /* , */ && depth === 1) {
      items.push(text.slice(itemStart, i).trim());
      itemStart = i + 1;
    }
  }
  return null;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The items of one list page; a ToolkitError when the answer is not a list. */
export function pageItems(response: HttpResponse): PageItems {
  const type = response.headers['content-type'];
  if (type === undefined || /json/i.test(type)) {
    const fast = splitArrayItems(response.body.toString('utf8'));
    if (fast !== null) return { items: fast, totalCount: null };
  }
  const parsed = parseBody(response);
  if (!parsed.ok) throw new PaginationError(`cannot paginate: ${parsed.reason}`);
  const value = parsed.value;
  if (Array.isArray(value)) return { items: value.map((item) => JSON.stringify(item)), totalCount: null };
  if (value !== null && typeof value === 'object' && Array.isArray((value as { data?: unknown }).data)) {
    const total = (value as { total_count?: unknown }).total_count;
    return {
      items: ((value as { data: unknown[] }).data).map((item) => JSON.stringify(item)),
      totalCount: typeof total === 'number' ? total : null,
    };
  }
  throw new PaginationError('cannot paginate: the answer is neither an array nor a {data, total_count} page', {
    hints: ['--paginate is for list endpoints such as GET /users or GET /organizations.'],
  });
}

export interface PaginateOptions {
  /** Query without limit/offset; they are added per page. */
  query: Array<[string, string]>;
  limit: number;
  offset: number;
  fetchPage(query: Array<[string, string]>): Promise<HttpResponse>;
  /** Receives each page's items, in order; awaited before the next page's items are handed on. */
  onItems(items: string[]): Promise<void>;
  /** Called after each page's items are handed on: items so far, and the total when the API tells it. */
  onProgress?(items: number, totalCount: number | null): void;
  /** Stop after this many items (--max-items). */
  maxItems?: number;
  /** Follow this cursor parameter (`starting_after`) with the last item's id, instead of offset. */
  cursor?: string;
  /** The cursor's value for the first page (the user's own `starting_after`). */
  startAfter?: string;
}

export interface PaginateResult {
  pages: number;
  items: number;
  /** The answer that stopped the walk with an HTTP error, if any. */
  failed: HttpResponse | null;
}

/** Splits limit/offset off a query: the user's values start the walk. */
export function pageWindow(query: Array<[string, string]>, defaultLimit: number): { query: Array<[string, string]>; limit: number; offset: number } {
  let limit = defaultLimit;
  let offset = 0;
  const rest: Array<[string, string]> = [];
  for (const [name, value] of query) {
    if (name === 'limit' && /^\d+$/.test(value) && Number(value) > 0) limit = Number(value);
    else if (name === 'offset' && /^\d+$/.test(value)) offset = Number(value);
    else rest.push([name, value]);
  }
  return { query: rest, limit, offset };
}

export async function paginate(options: PaginateOptions): Promise<PaginateResult> {
  const { limit } = options;
  let cursorValue: string | null = options.startAfter ?? null;
  // Offset pages name their position; cursor pages name the last item seen (the first page, none).
  const request = (offset: number) =>
    options.fetchPage(
      options.cursor
        ? [...options.query, ['limit', String(limit)], ...(cursorValue === null ? [] : [[options.cursor, cursorValue] as [string, string]])]
        : [...options.query, ['limit', String(limit)], ['offset', String(offset)]],
    );
  let offset = options.offset;
  let pages = 0;
  let count = 0;
  let pending: Promise<HttpResponse> | null = request(offset);
  let previous: string[] | null = null;
  while (pending !== null) {
    const response: HttpResponse = await pending;
    pending = null;
    if (response.status >= 400) return { pages, items: count, failed: response };
    const { items, totalCount } = pageItems(response);
    // A server that ignores offset answers the same full page for ever.
    if (previous !== null && items.length > 0 && items.length === previous.length && items[0] === previous[0] && items.at(-1) === previous.at(-1)) {
      throw new PaginationError(`the API answered the same page twice (at offset ${offset}); stopped after ${count} items`, {
        hints: ['The endpoint may not support offset pagination; ask for one page with -q limit=N instead.'],
      });
    }
    previous = items;
    pages++;
    const room = (options.maxItems ?? Infinity) - count;
    if (items.length >= room) {
      const kept = items.slice(0, room);
      if (kept.length > 0) await options.onItems(kept);
      count += kept.length;
      options.onProgress?.(count, totalCount);
      return { pages, items: count, failed: null };
    }
    if (pages > MAX_PAGES) throw new PaginationError(`stopped after ${MAX_PAGES} pages (${count} items): the list did not end`);
    offset += items.length;
    if (options.cursor && items.length > 0) cursorValue = lastId(items.at(-1) as string);
    const more = items.length >= limit && (totalCount === null || offset < totalCount) && (!options.cursor || cursorValue !== null);
    // Ask for the next page now, so the network works while this one is written out.
    if (more) {
      pending = request(offset);
      // Handled when awaited on the next turn; until then a failure must not count as unhandled.
      pending.catch(() => undefined);
    }
    if (items.length > 0) await options.onItems(items);
    count += items.length;
    options.onProgress?.(count, totalCount);
  }
  return { pages, items: count, failed: null };
}

/** The `id` of an item's JSON text, or null. */
function lastId(item: string): string | null {
  try {
    const value = JSON.parse(item) as { id?: unknown };
    return typeof value.id === 'string' ? value.id : null;
  } catch {
    return null;
  }
}

export type DrainableStream = OutStream & { once?(event: string, listener: () => void): unknown };

export interface ProgressLine {
  /** Drawn at all: stderr is a terminal. */
  readonly on: boolean;
  update(items: number, totalCount: number | null): void;
  /** Erases the line, if shown: before other output to the same terminal. */
  clear(): void;
  /** Erases the line for good: notices are lines of their own again. */
  end(): void;
  /** `stream`, erasing the line before each write when it is a terminal too, so output and the line never mix. */
  around(stream: DrainableStream): DrainableStream;
}

// What a page asks that its count endpoint (GET /users/count) does not take: the page, not the filter.
const FILTERS_NOT_COUNTED = new Set(['limit', 'offset', 'order_by', 'starting_after', 'paginated']);

/** A list query's filters, as its count endpoint takes them. */
export function countQueryOf(query: Array<[string, string]>): Array<[string, string]> {
  return query.filter(([name]) => !FILTERS_NOT_COUNTED.has(name));
}

/** 12345 → "12 345". */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/**
 * `fetched 12 000 items…` on stderr while --paginate walks, redrawn in place with `\r` at most every
 * `intervalMs` and erased with spaces at the end (no escape sequence, so NO_COLOR and dumb terminals
 * are fine). Only when stderr is a terminal: a log or a pipe never gets it.
 */
export function progressLine(stderr: OutStream, options: { now?: () => number; intervalMs?: number; render?: (items: number, totalCount: number | null) => string } = {}): ProgressLine {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 100;
  const on = stderr.isTTY === true;
  let shown = 0;
  // The terminal's cursor is in the middle of an output line: drawing now would overwrite it.
  let midLine = false;
  // The first draw waits one interval too: a walk of a page or two finishes without a flicker.
  let last = now();
  let text = '';
  const clear = (): void => {
    if (shown === 0) return;
    stderr.write(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
  const draw = (full: string): void => {
    const width = terminalWidth(stderr, {});
    // Wider than the terminal, the line would wrap and \r would redraw only its last row.
    const line = full.length < width ? full : `${full.slice(0, width - 2)}…`;
    stderr.write(`\r${line}${' '.repeat(Math.max(0, shown - line.length))}`);
    shown = Math.max(shown, line.length);
  };
  const status = {
    showing: () => shown > 0,
    // A rate-limit wait or a retry, after the count it holds up: gone at the next redraw.
    note: (notice: string) => draw(`${text} (${notice.replace(/^bapi-curl: /, '')})`),
  };
  if (on) setStatusLine(stderr, status);
  return {
    on,
    update(items, totalCount) {
      if (!on || midLine || now() - last < intervalMs) return;
      last = now();
      text = options.render ? ` ${options.render(items, totalCount)}` : ` fetched ${groupDigits(items)}${totalCount === null ? '' : ` of ${groupDigits(totalCount)}`} items…`;
      draw(text);
    },
    clear,
    end() {
      clear();
      if (on) setStatusLine(stderr, null);
    },
    around(stream) {
      // Output to a file or a pipe does not disturb the line; only output to the terminal must erase it.
      if (!on || stream.isTTY !== true) return stream;
      const wrapped: DrainableStream = {
        isTTY: stream.isTTY,
        write(chunk: string) {
          clear();
          if (chunk.length > 0) midLine = !chunk.endsWith('\n');
          return stream.write(chunk);
        },
      };
      if (stream.once) wrapped.once = stream.once.bind(stream);
      return wrapped;
    },
  };
}
