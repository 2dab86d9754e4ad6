#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { parseFlags } from '../lib/core/args.js';
import { readStdin, writeLine, type IO } from '../lib/core/io.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { UsageError } from '../lib/core/errors.js';
import { platformOnlyHint, recordFormat, renderTags, type RecordFormat } from '../lib/cli/records.js';
import { tagCounts } from '../lib/spec/index.js';
import { SPEC_ENV_HELP, SPEC_FLAGS_HELP, selectSpec, specOptionsFrom, type SpecOptions } from '../lib/spec/select.js';

export const USAGE = `Usage: extract-tags [options]

The tags of one Backend API spec version, one per line: NAME<TAB>COUNT<TAB>DESCRIPTION
(COUNT is the number of endpoints, DESCRIPTION the first line of the tag's description).
A spec piped on stdin is read instead of the store, as the old skill scripts did.

Options:
  --json               one JSON array: [{name, description, endpoints}]
  --ndjson             one JSON object per line
${SPEC_FLAGS_HELP}
  -h, --help           show this help
  -V, --version        show the toolkit's version

Environment:
${SPEC_ENV_HELP}

Exit codes:
  0 ok · 1 runtime failure · 2 usage error, unknown version or unreadable spec · 5 spec source
  unreachable and nothing cached

Examples:
  extract-tags
  extract-tags | fzf --delimiter '\\t' --nth 1 | cut -f1
  extract-tags --api-version 2025-04-10 --json | jq -r '.[] | select(.endpoints > 10) | .name'
  curl -s https://raw.githubusercontent.com/clerk/openapi-specs/main/bapi/2025-11-10.yml | extract-tags
  extract-tags --spec ./bapi.yml --ndjson
`;

export interface Options {
  format: RecordFormat;
  spec: SpecOptions;
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['extract-tags']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  if (flags._.length > 0) throw new UsageError(`unexpected argument: ${flags._[0]}`, { hints: ['Run extract-tags --help for usage.'] });
  return { format: recordFormat(flags), spec: specOptionsFrom(flags, env) };
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  // Without --spec FILE, a piped spec (`curl … | extract-tags`) is the input; an empty stdin is none.
  const stdinSpec = options.spec.spec === undefined || options.spec.spec === '-' ? await readStdin(io) : null;
  const selected = await selectSpec(options.spec, io, stdinSpec);
  // `curl … | extract-tags` whose curl printed nothing: say so rather than answer from the store silently.
  if (stdinSpec === null && options.spec.spec === undefined && io.stdin.isData === true) {
    writeLine(io.stderr, `extract-tags: stdin was empty, so no spec came through it (did the command before | fail?); these are the tags of spec ${selected.version} from the store`);
  }
  const hint = platformOnlyHint(selected.summary, options.spec.includePlatform, selected.version);
  if (hint) writeLine(io.stderr, `extract-tags: ${hint}`);
  io.stdout.write(renderTags(tagCounts(selected.summary, options.spec.includePlatform), options.format));
  return 0;
}

runMain('extract-tags', import.meta.url, main);
