// A cursor walk with more than one cursor in flight, for lists that can be cut by creation time
// (GET /users: created_at_after/created_at_before beside starting_after, and a /count beside it).
// The first page comes as in a sequential walk; then the list's size (GET …/count) and its far end
// (one item in the other order) tell how to cut the rest into time ranges, each followed with its
// own cursor, several at once. Ranges are disjoint and printed in order, so the output is exactly
// what a sequential walk prints: the same items, once each, in the same order. Only the range being
// printed streams; the ones after it are held (up to a bound) until their turn.
import { PaginationError } from '../core/errors.js';
import type { HttpResponse } from './client.js';
import { countQueryOf, MAX_PAGES, pageItems, type PaginateResult } from './paginate.js';

export interface SplitWalkOptions {
  /** The query without limit/offset: the user's filters and order_by. */
  query: Array<[string, string]>;
  limit: number;
  /** Cursors in flight at once. */
  concurrency: number;
  /**
   * The concurrency is the default, not the user's: when the first page comes back within
   * FAST_PAGE_MS, one cursor (the API is near: the walk is bound by this machine's parsing and
   * writing more than by waiting, and each cursor in flight costs memory).
   */
  adaptive?: boolean;
  maxItems?: number;
  fetchList(query: Array<[string, string]>): Promise<HttpResponse>;
  /** The count endpoint for the same filters (GET /users/count). */
  fetchCount(query: Array<[string, string]>): Promise<HttpResponse>;
  onItems(items: string[]): Promise<void>;
  onProgress?(items: number, totalCount: number | null): void;
  /** Told when the walk goes sequential after all (a count or probe it could not use). */
  onNote?(text: string): void;
  /** The clock that times the first page (tests). */
  now?: () => number;
}

/**
 * What ranges not yet printed may hold, in characters of item text, all together: beyond it their
 * walks wait for their turn, so memory stays flat whatever the list's size (100 000 users of ~2 KB
 * are 200 MB of text; a few pages of them are enough to keep the cursors busy).
 */
const HOLD_CHARS = 4 * 1024 * 1024;
/**
 * Ranges of about this many pages: small enough that the ranges after the one being printed hold
 * little while they wait (their pages fit in HOLD_CHARS), large enough that the short page ending
 * each range adds few requests (about one in PAGES_PER_RANGE + 1).
 */
const PAGES_PER_RANGE = 3;
/** At most this many time ranges. */
const MAX_RANGES = 128;
/**
 * A first page this fast means the API is near (a local fake; Clerk over TLS is slower): measured
 * here, 100 000 users took 4.3 s with one cursor at 112 MB, 1.9 s with two at up to 154 MB.
 */
const FAST_PAGE_MS = 40;

interface Item {
  text: string;
  id: string | null;
  createdAt: number | null;
}

function parseItem(text: string): Item {
  try {
    const value = JSON.parse(text) as { id?: unknown; created_at?: unknown };
    return { text, id: typeof value.id === 'string' ? value.id : null, createdAt: typeof value.created_at === 'number' ? value.created_at : null };
  } catch {
    return { text, id: null, createdAt: null };
  }
}

interface Range {
  /** Query for this range; null for range 0, which continues the first page's cursor unchanged. */
  query: Array<[string, string]> | null;
  /** Range 0 stops at the first item outside [low, high). */
  low: number;
  high: number;
  pages: string[][];
  done: boolean;
  failed: HttpResponse | null;
  /** Wakes this range's walk when it may hold more (its turn came, or items were printed). */
  wake: (() => void) | null;
  /** Characters of item text held for this range. */
  held: number;
}

export async function splitWalk(options: SplitWalkOptions): Promise<PaginateResult> {
  return new SplitWalk(options).run();
}

/** One walk's state: the ranges, which one is printed (head), and where to stop. */
class SplitWalk {
  private readonly limit: number;
  private readonly descending: boolean;
  private readonly firstQuery: Array<[string, string]>;
  private emitted = 0;
  private pagesFetched = 0;
  private totalCount: number | null = null;
  private concurrency: number;
  private ranges: Range[] = [];
  private head = 0;
  private stopAfter = Infinity;
  private printing: Promise<void> = Promise.resolve();
  private firstItems: string[] = [];
  private lastId: string | null = null;

  constructor(private readonly options: SplitWalkOptions) {
    this.limit = options.limit;
    this.descending = (options.query.find(([name]) => name === 'order_by')?.[1] ?? '-created_at').startsWith('-');
    this.firstQuery = [...options.query, ['limit', String(options.limit)]];
    this.concurrency = options.concurrency;
  }

  private room(): number {
    return (this.options.maxItems ?? Infinity) - this.emitted;
  }

  private async emit(items: string[]): Promise<boolean> {
    const kept = items.length > this.room() ? items.slice(0, this.room()) : items;
    if (kept.length > 0) await this.options.onItems(kept);
    this.emitted += kept.length;
    this.options.onProgress?.(this.emitted, this.totalCount);
    return this.room() > 0;
  }

  private result(failed: HttpResponse | null = null): PaginateResult {
    return { pages: this.pagesFetched, items: this.emitted, failed };
  }

  async run(): Promise<PaginateResult> {
    const { options } = this;
    // 1. The first page, as a sequential walk asks for it.
    const now = options.now ?? Date.now;
    const started = now();
    const first = await options.fetchList(this.firstQuery);
    this.pagesFetched++;
    if (options.adaptive === true && now() - started < FAST_PAGE_MS) {
      this.concurrency = 1;
      options.onNote?.(`the first page came back within ${FAST_PAGE_MS} ms: one cursor`);
    }
    if (first.status >= 400) return { pages: this.pagesFetched, items: 0, failed: first };
    this.firstItems = pageItems(first).items;
    if (!(await this.emit(this.firstItems)) || this.firstItems.length < this.limit) return this.result();
    const last = parseItem(this.firstItems.at(-1) as string);
    // Without an id there is no cursor to follow (as a sequential walk, it ends here).
    if (last.id === null) return this.result();
    this.lastId = last.id;
    if (last.createdAt === null) this.ranges = this.sequential('the items carry no created_at to cut the list by');
    else if (this.concurrency === 1) this.ranges = this.sequential('one cursor in flight');
    else this.ranges = await this.cut(last.createdAt);
    options.onProgress?.(this.emitted, this.totalCount);
    // 3. Each range walked with its own cursor; the one being printed streams, the others hold.
    let next = 0;
    const workers = Array.from({ length: Math.min(this.concurrency, this.ranges.length) }, async () => {
      for (;;) {
        const index = next++;
        if (index >= this.ranges.length || index > this.stopAfter) return;
        await this.walk(index);
      }
    });
    await Promise.all(workers);
    await this.print();
    return this.result(this.ranges.find((r) => r.failed !== null)?.failed ?? null);
  }

  private sequential(why: string): Range[] {
    this.options.onNote?.(`following one cursor: ${why}`);
    return [{ query: null, low: -Infinity, high: Infinity, pages: [], done: false, failed: null, wake: null, held: 0 }];
  }

  /** 2. How many there are (GET …/count), and where the list ends (one item in the other order): where to cut it. */
  private async cut(lastCreated: number): Promise<Range[]> {
    const { options, limit, descending } = this;
    const countQuery = countQueryOf(options.query);
    const probeQuery: Array<[string, string]> = [...options.query.filter(([name]) => name !== 'order_by'), ['order_by', descending ? '+created_at' : '-created_at'], ['limit', '1']];
    const [counted, probe] = await Promise.all([options.fetchCount(countQuery), options.fetchList(probeQuery)]);
    const total = counted.status === 200 ? (pageOf(counted) as { total_count?: unknown } | null)?.total_count : undefined;
    let far: Item | null = null;
    try {
      const first = probe.status === 200 ? pageItems(probe).items[0] : undefined;
      far = first === undefined ? null : parseItem(first);
    } catch {
      far = null;
    }
    if (typeof total !== 'number') return this.sequential(`the count answered HTTP ${counted.status}`);
    if (far === null || far.createdAt === null) return this.sequential('the far end of the list is unknown');
    this.totalCount = total;
    const remainingPages = Math.ceil(Math.max(0, total - this.firstItems.length) / limit);
    const [low, high] = descending ? [far.createdAt, lastCreated + 1] : [lastCreated, far.createdAt + 1];
    const count = Math.max(1, Math.min(MAX_RANGES, remainingPages, high - low, Math.max(this.concurrency * 2, Math.ceil(remainingPages / PAGES_PER_RANGE))));
    if (count < 2 || remainingPages < 3) return this.sequential('the rest is a page or two');
    // Boundaries in the order the walk prints: newest first when descending.
    const cuts = Array.from({ length: count + 1 }, (_, i) => Math.round(low + ((high - low) * i) / count));
    const spans: Array<[number, number]> = [];
    for (let i = 0; i < count; i++) if ((cuts[i + 1] as number) > (cuts[i] as number)) spans.push([cuts[i] as number, cuts[i + 1] as number]);
    if (descending) spans.reverse();
    const rest = options.query.filter(([name]) => name !== 'created_at_after' && name !== 'created_at_before');
    return spans.map(([from, to], i) => ({
      query: i === 0 ? null : [...rest, ['created_at_after', String(from - 1)], ['created_at_before', String(to)], ['limit', String(limit)]],
      low: from,
      high: to,
      pages: [],
      done: false,
      failed: null,
      wake: null,
      held: 0,
    }));
  }

  /** Characters held by ranges other than the head, which must wait their turn to be printed. */
  private heldByOthers(): number {
    return this.ranges.reduce((sum, r, i) => (i === this.head ? sum : sum + r.held), 0);
  }

  private wakeAll(): void {
    for (const range of this.ranges) {
      const wake = range.wake;
      range.wake = null;
      wake?.();
    }
  }

  /** Prints what the head range holds, and the ranges after it as they finish, in order. */
  private print(): Promise<void> {
    this.printing = this.printing.then(async () => {
      while (this.head < this.ranges.length && this.head <= this.stopAfter) {
        const range = this.ranges[this.head] as Range;
        while (range.pages.length > 0) {
          const page = range.pages.shift() as string[];
          range.held -= size(page);
          if (!(await this.emit(page))) {
            this.stopAfter = -1;
            this.wakeAll();
            return;
          }
          this.wakeAll();
        }
        if (!range.done) return;
        this.head++;
        this.wakeAll();
      }
    });
    return this.printing;
  }

  /** One range's cursor walk: its pages held until its turn (within HOLD_CHARS), range 0 cut at range 1's start. */
  private async walk(index: number): Promise<void> {
    const range = this.ranges[index] as Range;
    let cursor: string | null = index === 0 ? this.lastId : null;
    // Range 0 goes on from the first page: a server that answers it again is caught at once.
    let previous: string[] | null = index === 0 ? this.firstItems : null;
    for (;;) {
      if (index > this.stopAfter) break;
      while (index !== this.head && this.heldByOthers() >= HOLD_CHARS && index <= this.stopAfter) await new Promise<void>((resolve) => (range.wake = resolve));
      if (index > this.stopAfter) break;
      const base = range.query ?? this.firstQuery;
      const response = await this.options.fetchList(cursor === null ? base : [...base, ['starting_after', cursor]]);
      this.pagesFetched++;
      if (this.pagesFetched > MAX_PAGES) throw new PaginationError(`stopped after ${MAX_PAGES} pages (${this.emitted} items): the list did not end`);
      if (response.status >= 400) {
        range.failed = response;
        this.stopAfter = Math.min(this.stopAfter, index);
        break;
      }
      let items = pageItems(response).items;
      if (previous !== null && items.length > 0 && items[0] === previous[0] && items.at(-1) === previous.at(-1)) {
        throw new PaginationError(`the API answered the same page twice; stopped after ${this.emitted} items`);
      }
      previous = items;
      const full = items.length >= this.limit;
      // Range 0 is the first page's cursor, unchanged: it ends where range 1 begins.
      const at = index === 0 && this.ranges.length > 1 ? firstOutside(items, range) : -1;
      if (at >= 0) items = items.slice(0, at);
      if (items.length > 0) {
        range.pages.push(items);
        range.held += size(items);
        cursor = parseItem(items.at(-1) as string).id;
      }
      if (!full || at >= 0 || cursor === null) break;
      if (index === this.head) void this.print();
    }
    range.done = true;
    await this.print();
  }
}

function size(page: string[]): number {
  return page.reduce((sum, item) => sum + item.length, 0);
}

/** The first item created outside the range, or -1 (sorted by creation: when the last item is inside, every item is). */
function firstOutside(items: string[], range: Range): number {
  const outOfRange = (text: string) => {
    const created = parseItem(text).createdAt;
    return created !== null && (created < range.low || created >= range.high);
  };
  return items.length > 0 && outOfRange(items.at(-1) as string) ? items.findIndex(outOfRange) : -1;
}

function pageOf(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return null;
  }
}
