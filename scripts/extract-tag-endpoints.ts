#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { parseFlags } from '../lib/core/args.js';
import { readStdin, unreadSpecNotice, writeLine, type IO } from '../lib/core/io.js';
import { filterEndpoints, findTag, isHttpMethod } from '../lib/endpoint/match.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { NotFoundError, UsageError } from '../lib/core/errors.js';
import { platformOnlyHint, recordFormat, renderEndpoints, type RecordFormat } from '../lib/cli/records.js';
import { visibleEndpoints } from '../lib/spec/index.js';
import { renderReportLines, versionReport } from '../lib/endpoint/report.js';
import { normalizeDiffVersion, SPEC_ENV_HELP, SPEC_FLAGS_HELP, selectOtherVersion, selectSpec, specOptionsFrom, type SpecOptions } from '../lib/spec/select.js';

export const USAGE = `Usage: extract-tag-endpoints [TAG] [options]

The endpoints of one tag (all endpoints without TAG), one per line:
METHOD<TAB>PATH<TAB>operationId<TAB>summary
TAG is case-insensitive ("users", "email addresses"); words may be given unquoted. TAG - reads the
tag from stdin (the first field of the first line, as printed by extract-tags).

Options:
  --grep WORDS         keep endpoints whose path, summary, operationId or tag contain every word
                       (case-insensitive)
  --method M[,M...]    keep these HTTP methods only
  --json               one JSON array: [{method, path, operationId, summary, tags, deprecated}]
  --ndjson             one JSON object per line
  --diff VERSION       the version report instead: what changes for these endpoints from the
                       selected version to VERSION, one line per endpoint added, removed or
                       changed: STATUS<TAB>METHOD<TAB>PATH<TAB>BREAKING<TAB>summary (with --json:
                       {from, to, endpoints:[{status, method, path, operationId, breaking, changes}]})
  --breaking-only      with --diff: only the endpoints whose changes may break a caller
${SPEC_FLAGS_HELP}
  -h, --help           show this help
  -V, --version        show the toolkit's version

Environment:
${SPEC_ENV_HELP}

Exit codes:
  0 ok (also when nothing matches) · 1 runtime failure · 2 usage error, unknown tag or version
  5 spec source unreachable and nothing cached

Examples:
  extract-tag-endpoints Users
  extract-tag-endpoints users --method delete
  extract-tag-endpoints --grep metadata --json | jq -r '.[] | "\\(.method) \\(.path)"'
  extract-tags | fzf --delimiter '\\t' --nth 1 | extract-tag-endpoints - | fzf --sync --delimiter '\\t' --nth 1,2 | extract-endpoint-detail
  extract-tag-endpoints Organizations --api-version 2025-04-10 | cut -f1,2
  extract-tag-endpoints --api-version 2025-04-10 --diff latest --breaking-only
`;

export interface Options {
  /** --diff VERSION: the version report against that version. */
  diff: string | null;
  breakingOnly: boolean;
  tag: string | null;
  tagFromStdin: boolean;
  grep: string[];
  methods: string[];
  format: RecordFormat;
  spec: SpecOptions;
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['extract-tag-endpoints']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  const words = flags._.map(String);
  const tagFromStdin = words.length === 1 && words[0] === '-';
  const rawGrep = flags.grep as string | undefined;
  const rawMethod = flags.method as string | undefined;
  if (rawGrep === '') throw new UsageError('--grep needs a word');
  if (rawMethod === '') throw new UsageError('--method needs a method, e.g. --method GET');
  const methods = (rawMethod ?? '').split(/[\s,]+/).filter((m) => m !== '');
  for (const method of methods) {
    if (!isHttpMethod(method)) throw new UsageError(`unknown HTTP method: ${method}`, { hints: ['Use GET, POST, PUT, PATCH or DELETE.'] });
  }
  const spec = specOptionsFrom(flags, env);
  if (tagFromStdin && spec.spec === '-') throw new UsageError('stdin cannot carry both the tag (TAG -) and the spec (--spec -)');
  const rawDiff = flags.diff as string | undefined;
  if (rawDiff === '') throw new UsageError('--diff needs a version, e.g. --diff 2025-11-10 or --diff latest');
  if (flags['breaking-only'] === true && rawDiff === undefined) throw new UsageError('--breaking-only goes with --diff VERSION');
  return {
    diff: rawDiff === undefined ? null : normalizeDiffVersion(rawDiff),
    breakingOnly: flags['breaking-only'] === true,
    tag: words.length === 0 || tagFromStdin ? null : words.join(' '),
    tagFromStdin,
    grep: (rawGrep ?? '').toLowerCase().split(/\s+/).filter((w) => w !== ''),
    methods: methods.map((m) => m.toUpperCase()),
    format: recordFormat(flags),
    spec,
  };
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  let tagName = options.tag;
  if (options.tagFromStdin) {
    const text = await readStdin(io);
    tagName = text === null ? null : (text.trim().split(/\r?\n/, 1)[0] ?? '').split('\t', 1)[0]?.trim() || null;
    if (tagName === null) throw new UsageError('TAG - was given but stdin is empty');
  }
  const stdinSpec = options.spec.spec === '-' ? await readStdin(io) : null;
  const selected = await selectSpec(options.spec, io, stdinSpec);
  const unread = options.spec.spec === undefined && !options.tagFromStdin ? unreadSpecNotice(io, 'extract-tag-endpoints', selected.version) : null;
  if (unread) writeLine(io.stderr, unread);
  const visible = visibleEndpoints(selected.summary, options.spec.includePlatform);
  const hint = platformOnlyHint(selected.summary, options.spec.includePlatform, selected.version);
  if (hint) writeLine(io.stderr, `extract-tag-endpoints: ${hint}`);
  let tag: string | null = null;
  if (tagName !== null) {
    const names = selected.summary.tags.filter((t) => options.spec.includePlatform || !t.platform).map((t) => t.name);
    for (const e of visible) for (const t of e.tags) if (!names.includes(t)) names.push(t);
    try {
      tag = findTag(names, tagName, selected.version);
    } catch (error) {
      // `--grep user metadata`: the second word was taken for TAG.
      if (error instanceof NotFoundError && options.grep.length > 0) error.hints.unshift(`--grep takes one argument: to search for several words, quote them: --grep '${[...options.grep, tagName].join(' ')}'`);
      throw error;
    }
  }
  if (options.diff !== null) {
    const other = await selectOtherVersion(selected, options.diff, io);
    const report = await versionReport(selected, other, tag, options.spec.includePlatform);
    const shown = options.breakingOnly ? { ...report, endpoints: report.endpoints.filter((e) => e.breaking) } : report;
    io.stdout.write(options.format === 'json' ? `${JSON.stringify(shown, null, 2)}\n` : options.format === 'ndjson' ? shown.endpoints.map((e) => `${JSON.stringify(e)}\n`).join('') : renderReportLines(shown));
    if (shown.endpoints.length === 0) writeLine(io.stderr, `extract-tag-endpoints: nothing${options.breakingOnly ? ' breaking' : ''} changes${tag ? ` for tag ${tag}` : ''} from ${report.from} to ${report.to}`);
    return 0;
  }
  const endpoints = filterEndpoints(visible, tag, options.grep, options.methods);
  if (endpoints.length === 0 && (options.grep.length > 0 || options.methods.length > 0)) {
    writeLine(io.stderr, `extract-tag-endpoints: no endpoints${tag ? ` of tag ${tag}` : ''} match in spec version ${selected.version}`);
  }
  io.stdout.write(renderEndpoints(endpoints, options.format));
  return 0;
}

runMain('extract-tag-endpoints', import.meta.url, main);
