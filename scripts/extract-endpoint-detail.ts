#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { colorEnabled, colorsFor, readStdin, writeLine, type IO } from '../lib/core/io.js';
import { parseFlags } from '../lib/core/args.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { buildEndpointDetail, endpointDocument, rawEndpoint, type EndpointDetail } from '../lib/endpoint/detail.js';
import { findEndpoint, matchEndpoint, parseEndpointArgs, parseEndpointRecord, type EndpointInput, type EndpointMatch } from '../lib/endpoint/match.js';
import { NotFoundError, UsageError } from '../lib/core/errors.js';
import { renderEndpointText } from '../lib/endpoint/render.js';
import { visibleEndpoints, type SpecDetail } from '../lib/spec/index.js';
import {
  normalizeVersion,
  SPEC_ENV_HELP,
  SPEC_FLAGS_HELP,
  selectOtherVersion,
  selectSpec,
  selectVersion,
  specOptionsFrom,
  type SelectedSpec,
  type SpecOptions,
} from '../lib/spec/select.js';

export const USAGE = `Usage: extract-endpoint-detail METHOD PATH [options]
       … | extract-endpoint-detail [options]

One endpoint in full: summary, description, parameters, request body and responses as field trees
(name, type, required, description, enum), every $ref resolved, and a ready bapi-curl command with
its plain curl equivalent.

METHOD and PATH may come in either order; PATH may be the spec's template (/users/{user_id}), a
concrete path (/users/user_123), with or without /v1, or a full https://api.clerk.com/v1/... URL.
Without them (or with -), the endpoint is read from stdin: a METHOD<TAB>PATH… line as printed by
extract-tag-endpoints, or JSON {"method", "path"}.

Options:
  --json               one JSON document: {method, path, operationId, summary, description, tags,
                       deprecated, parameters, requestBody, responses, components, version, examples}
                       (a reference cycle appears as {"$cycle": "#/components/schemas/Name"})
  --yaml               the endpoint's operation exactly as written in the spec ($refs intact)
  --diff VERSION       what changes for this endpoint from the selected version to VERSION:
                       parameters, body fields and their required-ness, responses (with --json:
                       {method, path, from, to, status, breaking, changes:[...]})
  --depth N            text output: show field trees N levels deep (default: request all,
                       responses 1)
${SPEC_FLAGS_HELP}
  -h, --help           show this help
  -V, --version        show the toolkit's version

Environment:
${SPEC_ENV_HELP}
  CLERK_API_URL        base URL shown in the curl command (default https://api.clerk.com)
  NO_COLOR             no colour on stdout even on a terminal

Exit codes:
  0 ok · 1 runtime failure · 2 usage error, unknown endpoint (the closest ones are named) or version
  5 spec source unreachable and nothing cached

Examples:
  extract-endpoint-detail POST /users
  extract-endpoint-detail /users/user_123 patch --json | jq '.requestBody.schema.properties | keys'
  extract-endpoint-detail GET 'https://api.clerk.com/v1/users?limit=5'
  extract-tag-endpoints Users | fzf | extract-endpoint-detail
  extract-endpoint-detail PATCH /users/{user_id} --api-version 2025-04-10 --diff 2025-11-10
  extract-endpoint-detail DELETE /users/{user_id} --yaml
`;

export interface Options {
  /** The endpoint from the arguments; null when it is to be read from stdin. */
  endpoint: EndpointInput | null;
  format: 'text' | 'json' | 'yaml';
  diff: string | null;
  depth: number | null;
  spec: SpecOptions;
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['extract-endpoint-detail']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  if (flags.json && flags.yaml) throw new UsageError('--json and --yaml are two different outputs: choose one');
  const rawDiff = flags.diff as string | undefined;
  if (rawDiff === '') throw new UsageError('--diff needs a version, e.g. --diff 2025-11-10');
  if (rawDiff !== undefined && flags.yaml) throw new UsageError('--diff prints changes as text or --json, not --yaml');
  const rawDepth = flags.depth as string | undefined;
  let depth: number | null = null;
  if (rawDepth !== undefined) {
    if (!/^\d+$/.test(rawDepth) || Number(rawDepth) < 1) throw new UsageError(`--depth needs a positive number, got ${JSON.stringify(rawDepth)}`);
    depth = Number(rawDepth);
  }
  const words = flags._.map(String);
  const fromStdin = words.length === 0 || (words.length === 1 && words[0] === '-');
  const spec = specOptionsFrom(flags, env);
  if (fromStdin && spec.spec === '-') {
    throw new UsageError('stdin cannot carry both the endpoint and the spec (--spec -)', { hints: ['Give METHOD PATH as arguments.'] });
  }
  return {
    endpoint: fromStdin ? null : parseEndpointArgs(words),
    format: flags.json ? 'json' : flags.yaml ? 'yaml' : 'text',
    diff: rawDiff === undefined ? null : normalizeVersion(rawDiff),
    depth,
    spec,
  };
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

async function printDiff(selected: SelectedSpec, input: EndpointInput, options: Options, io: IO, otherVersion: string): Promise<number> {
  const other = await selectOtherVersion(selected, otherVersion, io);
  const include = options.spec.includePlatform;
  const here = matchEndpoint(visibleEndpoints(selected.summary, include), input);
  // The template is the stable name across versions; fall back to what the user typed.
  const thereInput = here ? { method: here.endpoint.method, path: here.endpoint.path } : input;
  const there = matchEndpoint(visibleEndpoints(other.summary, include), thereInput) ?? matchEndpoint(visibleEndpoints(other.summary, include), input);
  if (!here && !there) locate(selected, input, include);
  const { diffEndpoint } = await import('../lib/endpoint/diff.js');
  const a = here ? detailOf(await selected.loadDetail(), here, selected.version, false) : null;
  const b = there ? detailOf(await other.loadDetail(), there, other.version, false) : null;
  const diff = diffEndpoint(a, b, selected.version, other.version);
  if (options.format === 'json') {
    writeLine(io.stdout, JSON.stringify(diff, null, 2));
  } else {
    const { renderDiffText } = await import('../lib/endpoint/render.js');
    io.stdout.write(renderDiffText(diff, colorsFor(io.stdout, io.env)));
  }
  return 0;
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  const input = options.endpoint ?? (await readEndpoint(io));
  const stdinSpec = options.spec.spec === '-' ? await readStdin(io) : null;
  const selection = await selectVersion(options.spec, io, stdinSpec);
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

async function answerFor(selected: SelectedSpec, input: EndpointInput, options: Options, io: IO): Promise<{ text: string; template: boolean }> {
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
    ...(options.depth !== null ? { maxDepth: options.depth, responseDepth: options.depth } : {}),
  });
  return { text, template };
}

runMain('extract-endpoint-detail', import.meta.url, main);
