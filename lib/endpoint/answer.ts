// Answering "what is this endpoint?": the endpoint from the arguments or stdin, matched in the
// selected spec, resolved once per version and kept, then printed as text, --json, --yaml or a --diff
// against another version. A template path's answer is kept in the store, so an fzf preview or an
// agent's loop costs one read. The explorers' and other front-ends' one entry: describeEndpoint.
import { colorEnabled, colorsFor, readStdin, unreadSpecNotice, writeLine, type IO } from '../core/io.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import { visibleEndpoints, type SpecDetail } from '../spec/index.js';
import { selectOtherVersion, selectSpec, selectVersion, type SelectedSpec, type SpecOptions } from '../spec/select.js';
import { buildEndpointDetail, endpointDocument, rawEndpoint, type EndpointDetail } from './detail.js';
import { findEndpoint, matchEndpoint, parseEndpointRecord, type EndpointInput, type EndpointMatch } from './match.js';
import { renderEndpointText } from './render.js';

/** One question about an endpoint, as extract-endpoint-detail's arguments give it. */
export interface EndpointQuestion {
  /** The endpoint from the arguments; null when it is to be read from stdin. */
  endpoint: EndpointInput | null;
  format: 'text' | 'json' | 'yaml';
  diff: string | null;
  depth: number | null;
  spec: SpecOptions;
}

async function readEndpoint(io: IO): Promise<EndpointInput> {
  const text = await readStdin(io);
  if (text === null) {
    throw new UsageError('missing METHOD PATH', {
      hints: ['Give them as arguments (extract-endpoint-detail GET /users), or pipe a line of extract-tag-endpoints.', 'Run extract-endpoint-detail --help for usage.'],
    });
  }
  return parseEndpointRecord(text);
}

/** The match in the selected spec; a hidden platform endpoint gets a hint to show it. */
function locate(selected: SelectedSpec, input: EndpointInput, includePlatform: boolean): EndpointMatch {
  try {
    return findEndpoint(visibleEndpoints(selected.summary, includePlatform), input, selected.version);
  } catch (error) {
    if (error instanceof NotFoundError && !includePlatform && matchEndpoint(selected.summary.endpoints, input)) {
      throw new NotFoundError(error.message, { hints: ['It is one of Clerk\'s platform endpoints: add --include-platform.'] });
    }
    throw error;
  }
}

function detailOf(detail: SpecDetail, match: EndpointMatch, version: string, annotate: boolean): EndpointDetail {
  const raw = rawEndpoint(detail, match.endpoint.method, match.endpoint.path);
  if (!raw) throw new Error(`the index of ${version} lists ${match.endpoint.method} ${match.endpoint.path} but has no detail for it`);
  return buildEndpointDetail(raw, detail.components, version, { annotate });
}

async function printDiff(selected: SelectedSpec, input: EndpointInput, options: EndpointQuestion, io: IO, otherVersion: string): Promise<number> {
  const other = await selectOtherVersion(selected, otherVersion, io);
  const include = options.spec.includePlatform;
  const here = matchEndpoint(visibleEndpoints(selected.summary, include), input);
  // The template is the stable name across versions; fall back to what the user typed.
  const thereInput = here ? { method: here.endpoint.method, path: here.endpoint.path } : input;
  const there = matchEndpoint(visibleEndpoints(other.summary, include), thereInput) ?? matchEndpoint(visibleEndpoints(other.summary, include), input);
  if (!here && !there) locate(selected, input, include);
  const { diffEndpoint } = await import('./diff.js');
  const a = here ? detailOf(await selected.loadDetail(), here, selected.version, false) : null;
  const b = there ? detailOf(await other.loadDetail(), there, other.version, false) : null;
  const diff = diffEndpoint(a, b, selected.version, other.version);
  if (options.format === 'json') {
    writeLine(io.stdout, JSON.stringify(diff, null, 2));
  } else {
    const { renderDiffText } = await import('./render.js');
    io.stdout.write(renderDiffText(diff, colorsFor(io.stdout, io.env)));
  }
  return 0;
}

/** Prints the answer to `options` on io.stdout; returns the exit code. */
export async function describeEndpoint(options: EndpointQuestion, io: IO): Promise<number> {
  const input = options.endpoint ?? (await readEndpoint(io));
  const stdinSpec = options.spec.spec === '-' ? await readStdin(io) : null;
  const selection = await selectVersion(options.spec, io, stdinSpec);
  if (options.endpoint !== null && selection) {
    const unread = unreadSpecNotice(io, 'extract-endpoint-detail', selection.entry.version);
    if (unread) writeLine(io.stderr, unread);
  }
  // The same question (endpoint as asked, options, version, colour, base URL) prints the same answer:
  // kept in the store for template paths, so a repeated call (an fzf preview, an agent loop) is one read.
  // Concrete paths are answered fresh: their examples carry the ids, and there is no end to those.
  const question = JSON.stringify([input.method, input.path, options.format, options.depth, options.spec.includePlatform, colorEnabled(io.stdout, io.env), io.env.CLERK_API_URL ?? null]);
  const answerName = (version: string) => `endpoint-detail output ${version} ${question}`;
  if (selection && options.diff === null && options.format !== 'yaml') {
    const kept = selection.store.peekMemo<{ text: string }>(selection.entry.sha, answerName(selection.entry.version));
    if (kept) {
      io.stdout.write(kept.text);
      return 0;
    }
  }
  const selected = await selectSpec(options.spec, io, stdinSpec, selection);
  if (options.diff !== null) return printDiff(selected, input, options, io, options.diff);

  if (options.format === 'yaml') {
    const match = locate(selected, input, options.spec.includePlatform);
    const raw = rawEndpoint(await selected.loadDetail(), match.endpoint.method, match.endpoint.path);
    const { stringify } = await import('yaml');
    const document = { [match.endpoint.path]: { [match.endpoint.method.toLowerCase()]: raw?.operation ?? {} } };
    io.stdout.write(stringify(document, { lineWidth: 0, aliasDuplicateObjects: false }));
    return 0;
  }
  const answer = await selected.memo(
    answerName(selected.version),
    async () => answerFor(selected, input, options, io),
    (computed) => computed.template,
  );
  io.stdout.write(answer.text);
  return 0;
}


async function answerFor(selected: SelectedSpec, input: EndpointInput, options: EndpointQuestion, io: IO): Promise<{ text: string; template: boolean }> {
  const match = locate(selected, input, options.spec.includePlatform);
  const template = Object.keys(match.pathParams).length === 0 && match.query.length === 0;
  const annotate = options.format === 'text';
  // Resolving an endpoint's schemas is most of this command's work: done once per endpoint and version.
  const { method, path } = match.endpoint;
  const resolved = await selected.memo(`endpoint-detail ${method} ${path} ${selected.version}${annotate ? ' annotated' : ''}`, async () =>
    detailOf(await selected.loadDetail(), match, selected.version, annotate),
  );
  const document = endpointDocument(resolved, { pathParams: match.pathParams, query: match.query }, io.env.CLERK_API_URL);
  if (options.format === 'json') return { text: `${JSON.stringify(document, null, 2)}\n`, template };
  const text = renderEndpointText(document, {
    colors: colorsFor(io.stdout, io.env),
    commands: [document.examples.bapiCurl, document.examples.curl],
    sdk: document.sdk,
    ...(options.depth !== null ? { maxDepth: options.depth, responseDepth: options.depth } : {}),
  });
  return { text, template };
}
