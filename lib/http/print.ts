// What bapi-curl prints of an answer: the body (pretty on a terminal, as received in a pipe, through
// jq with --jq), the pages of --paginate as NDJSON or one array, and the dry run. The front-end's
// rendering: the pipeline before it returns data.
import { EXIT, HttpStatusError, ToolkitError } from '../core/errors.js';
import { isObject } from '../core/values.js';
import { colorEnabled, colorsFor, writeLine, type Colors, type IO, type OutStream } from '../core/io.js';
import type { ApiCall } from '../request/args.js';
import { buildRequestUrl } from '../request/url.js';
import type { EndpointRaw, SpecDetail } from '../spec/index.js';
import type { HttpClient, HttpResponse } from './client.js';
import type { CallOptions, ExecuteDeps } from './execute.js';
import { openJq, type JqStream } from './jq.js';
import { pagePlan } from './page-plan.js';
import { countQueryOf, groupDigits, paginate, progressLine } from './paginate.js';
import { errorSummary, parseBody, renderBody, renderHead } from './response.js';

/** Writes to a stream and waits when it asks us to (a slow reader must not make us buffer pages). */
export async function emit(stream: OutStream, text: string): Promise<void> {
  if (text === '') return;
  const ok = stream.write(text);
  const events = stream as OutStream & { once?: (event: string, listener: () => void) => unknown };
  if (ok === false && typeof events.once === 'function') await new Promise<void>((resolve) => events.once!('drain', resolve));
}


export async function printResponse(options: CallOptions, io: IO, response: HttpResponse): Promise<number> {
  const pretty = io.stdout.isTTY === true;
  if (options.include) await emit(io.stdout, renderHead(response));
  if (response.status >= 400) {
    await emit(io.stdout, renderBody(response, pretty));
    throw new HttpStatusError(errorSummary(response), response.status);
  }
  const type = response.headers['content-type'];
  if (options.jq !== undefined && response.body.length > 0 && (type === undefined || /json/i.test(type))) {
    // jq parses the body itself (and says so when it is not JSON); parsing it here too would double the cost.
    const jq = await openJq(options.jq, (text) => io.stdout.write(text), { pretty, env: io.env });
    await jq.write(response.body.toString('utf8'));
    await jq.end();
    return EXIT.ok;
  }
  const parsed = parseBody(response);
  if (!parsed.ok && response.body.length > 0) {
    await emit(io.stdout, renderBody(response, false));
    throw new ToolkitError(`HTTP ${response.status}, but ${parsed.reason}`, { hints: ['The answer was printed as received.'] });
  }
  if (options.jq !== undefined && parsed.ok) {
    const jq = await openJq(options.jq, (text) => io.stdout.write(text), { pretty, env: io.env });
    await jq.write(response.body.toString('utf8'));
    await jq.end();
    return EXIT.ok;
  }
  if (pretty && parsed.ok) {
    const text = JSON.stringify(parsed.value, null, 2);
    await emit(io.stdout, `${colorEnabled(io.stdout, io.env) ? colorJson(text, colorsFor(io.stdout, io.env)) : text}\n`);
    return EXIT.ok;
  }
  // As received, with the final newline a pipe's reader expects (as gh and jq print it).
  const text = response.body.toString('utf8');
  await emit(io.stdout, text === '' || text.endsWith('\n') ? text : `${text}\n`);
  return EXIT.ok;
}

export async function runPaginated(
  options: CallOptions,
  deps: ExecuteDeps,
  client: HttpClient,
  base: URL,
  call: ApiCall,
  headers: Record<string, string>,
  raw: EndpointRaw | undefined,
  detail: SpecDetail | null,
  endpoints: Array<{ method: string; path: string }>,
  matchedPath: string | null,
): Promise<number> {
  const { io } = deps;
  const progress = progressLine(io.stderr);
  const stdout = progress.around(io.stdout);
  const pretty = io.stdout.isTTY === true;
  const plan = pagePlan(call, raw, detail, endpoints, matchedPath, options.concurrency ?? 4);
  if (plan.note) writeLine(io.stderr, `bapi-curl: note: ${plan.note}`);
  const window = plan.window;
  const useCursor = plan.cursor;
  let jq: JqStream | null = null;
  const slurped: string[] | null = options.slurp && options.jq !== undefined ? [] : null;
  if (options.jq !== undefined && slurped === null) {
    jq = await openJq(options.jq, (text) => stdout.write(text), { pretty, env: io.env });
  }
  let first = true;
  if (options.slurp && slurped === null) await emit(stdout, '[');
  const fetchPage = (query: Array<[string, string]>) => client.send({ method: 'GET', url: buildRequestUrl(base, call.path, query), headers, body: null });
  const onItems = async (items: string[]) => {
    if (slurped) slurped.push(...items);
    else if (jq) await jq.write(items.join('\n'));
    else if (options.slurp) {
      await emit(stdout, `${first ? '\n' : ',\n'}${items.join(',\n')}`);
      first = false;
    } else await emit(stdout, `${items.join('\n')}\n`);
  };
  const started = Date.now();
  // One cursor knows no total: on a terminal, the count endpoint gives the progress line one.
  let counted: number | null = null;
  if (progress.on && plan.split === null && plan.count !== null) {
    client.send({ method: 'GET', url: buildRequestUrl(base, plan.count, countQueryOf(window.query)), headers, body: null }).then(
      (response) => {
        const parsed = response.status === 200 ? parseBody(response) : null;
        if (parsed?.ok && isObject(parsed.value) && typeof parsed.value.total_count === 'number') counted = parsed.value.total_count;
      },
      () => undefined,
    );
  }
  const onProgress = (items: number, totalCount: number | null) => {
    const total = totalCount ?? counted;
    progress.update(items, total === null ? null : Math.min(total, options.maxItems ?? Infinity));
  };
  const walk = plan.split
    ? (await import('./split-walk.js')).splitWalk({
        query: window.query,
        limit: window.limit,
        concurrency: options.concurrency ?? 4,
        adaptive: options.concurrency === undefined,
        ...(options.maxItems !== undefined ? { maxItems: options.maxItems } : {}),
        fetchList: fetchPage,
        fetchCount: (query) => client.send({ method: 'GET', url: buildRequestUrl(base, plan.split as string, query), headers, body: null }),
        onItems,
        onProgress,
        onNote: (text) => (options.verbose ? writeLine(io.stderr, `bapi-curl: ${text}`) : undefined),
      })
    : paginate({
        query: window.query,
        limit: window.limit,
        offset: window.offset,
        fetchPage,
        ...(options.maxItems !== undefined ? { maxItems: options.maxItems } : {}),
        ...(useCursor ? { cursor: 'starting_after' } : {}),
        ...(plan.startAfter !== null ? { startAfter: plan.startAfter } : {}),
        onItems,
        onProgress,
      });
  let result: Awaited<typeof walk>;
  try {
    result = await walk.finally(() => progress.end());
  } catch (error) {
    // What jq was given so far is printed, and its process ends: left open, it waits for input for ever.
    if (jq) await jq.end().catch(() => undefined);
    throw error;
  }
  if (options.slurp && slurped === null) await emit(stdout, first ? ']\n' : '\n]\n');
  if (jq) await jq.end();
  if (slurped) {
    const stream = await openJq(options.jq as string, (text) => stdout.write(text), { pretty, env: io.env });
    await stream.write(`[${slurped.join(',')}]`);
    await stream.end();
  }
  if (result.failed) {
    throw new HttpStatusError(`${errorSummary(result.failed)} (after ${result.items} items in ${result.pages} pages)`, result.failed.status);
  }
  // The status line is gone: on a terminal, one line says what the walk did.
  if (progress.on) writeLine(io.stderr, `bapi-curl: ${groupDigits(result.items)} items in ${groupDigits(result.pages)} pages, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return EXIT.ok;
}

/** Indented JSON with keys, strings and literals coloured, for a terminal. */
export function colorJson(text: string, c: Colors): string {
  return text.replace(/("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, (match, string: string | undefined, colon: string | undefined, literal: string | undefined, number: string | undefined) => {
    if (string !== undefined) return colon !== undefined ? `${c.cyan(string)}${colon}` : c.green(string);
    if (literal !== undefined) return c.yellow(literal);
    if (number !== undefined) return c.yellow(number);
    return match;
  });
}
