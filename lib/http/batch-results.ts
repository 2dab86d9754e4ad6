// A batch's results: one line's result as printed, and the tally that counts them and prints them
// in line order.
import { isObject } from '../core/values.js';
import type { BatchLine } from '../guard/batch-verdict.js';
import type { HttpResponse } from './client.js';
import { groupDigits } from './paginate.js';
import { parseBody, traceIdOf } from './response.js';

/** One line's result, as printed. */
export interface BatchResult {
  line: number;
  method: string;
  path: string;
  status: number | null;
  clerk_trace_id: string | null;
  body?: unknown;
  error?: { code: string; message: string; long_message?: string };
  /** Finished in an earlier run (--resume): not sent again. */
  skipped?: true;
  /** In flight when an earlier run stopped: what a GET says of it now. */
  check?: { status: number | null; clerk_trace_id: string | null };
}

/** A run's results: counted, and printed in line order as soon as every earlier line's is (null: not sent, left for --resume). */
export class Tally {
  ok = 0;
  failed = 0;
  unknown = 0;
  skipped = 0;
  notSent = 0;
  private finished = 0;
  private nextToPrint = 0;
  private readonly waiting = new Map<number, BatchResult | null>();

  constructor(
    private readonly total: number,
    private readonly print: (result: BatchResult, index: number) => void,
    private readonly progress: (finished: number) => void,
  ) {}

  settle(index: number, result: BatchResult | null): void {
    if (result === null) this.notSent++;
    else {
      if (result.skipped) this.skipped++;
      if (result.error) {
        this.failed++;
        if (result.error.code === 'unknown_outcome') this.unknown++;
      } else this.ok++;
    }
    this.waiting.set(index, result);
    this.finished++;
    while (this.nextToPrint < this.total && this.waiting.has(this.nextToPrint)) {
      const ready = this.waiting.get(this.nextToPrint) ?? null;
      this.waiting.delete(this.nextToPrint);
      if (ready !== null) this.print(ready, this.nextToPrint);
      this.nextToPrint++;
    }
    this.progress(this.finished);
  }

  summary(notSentWhy: string): string {
    const parts = [`${groupDigits(this.ok)} ok`, `${this.failed} failed${this.unknown > 0 ? ` (${this.unknown} unknown: in flight when a run stopped, or a POST/PATCH without an answer; not resent)` : ''}`];
    if (this.skipped > 0) parts.push(`${this.skipped} of them done in an earlier run`);
    if (this.notSent > 0) parts.push(`${this.notSent} not sent${notSentWhy}: run the same command with --resume to send them`);
    return parts.join(', ');
  }
}

/** A line's answer as a result: the body, or Clerk's first error (code, message, long_message). */
export function resultOf(line: BatchLine, response: HttpResponse): BatchResult {
  const parsed = parseBody(response);
  const value = parsed.ok ? parsed.value : response.body.length > 0 ? response.body.toString('utf8') : null;
  const trace = traceIdOf(response, parsed.ok ? parsed.value : undefined);
  const base = { line: line.line, method: line.method, path: line.path, status: response.status, clerk_trace_id: trace };
  if (response.status < 400) return { ...base, body: value };
  const first = isObject(value) && Array.isArray(value.errors) && isObject(value.errors[0]) ? value.errors[0] : null;
  return {
    ...base,
    error: {
      code: typeof first?.code === 'string' ? first.code : `http_${response.status}`,
      message: typeof first?.message === 'string' ? first.message : `HTTP ${response.status}`,
      ...(typeof first?.long_message === 'string' ? { long_message: first.long_message } : {}),
    },
  };
}
