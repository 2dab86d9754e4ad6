#!/usr/bin/env node
import { colorsFor, parseFlags, runMain, writeLine, type IO } from '../lib/cli.js';
import { UsageError } from '../lib/errors.js';
import { tagCounts, visibleEndpoints } from '../lib/spec-index.js';
import { SPEC_ENV_HELP, SPEC_FLAG_SPEC, SPEC_FLAGS_HELP, selectSpec, specOptionsFrom, type SpecOptions } from '../lib/spec-select.js';
import { packageVersion } from '../lib/version.js';

export const USAGE = `Usage: api-specs-context [options]

The context to read before anything else: the Backend API spec versions, the latest (or the pinned
one), and the tags of the selected version with their endpoint counts. Makes sure that version is
downloaded and indexed, so the other commands answer at once.

Options:
  --json               one JSON document: {api, source, versions, latest, selected, tags, endpoints}
  --shell              print export lines for eval "$(api-specs-context --shell)": CLERK_API_VERSION,
                       CLERK_API_VERSIONS, CLERK_API_LATEST_VERSION
${SPEC_FLAGS_HELP}
  -h, --help           show this help
  -V, --version        show the toolkit's version

Environment:
${SPEC_ENV_HELP}

Exit codes:
  0 ok · 2 usage error or unknown version · 5 spec source unreachable and nothing cached

Examples:
  api-specs-context
  api-specs-context --api-version 2025-04-10
  api-specs-context --json | jq -r '.tags[].name'
  CLERK_SPECS_SOURCE=~/src/openapi-specs api-specs-context --offline
  eval "$(api-specs-context --shell)" && echo "$CLERK_API_VERSION"
`;

export interface Options {
  json: boolean;
  shell: boolean;
  spec: SpecOptions;
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, {
    string: [...SPEC_FLAG_SPEC.string],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'json', 'shell', 'help', 'version'],
    alias: { h: 'help', V: 'version' },
  });
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  if (flags._.length > 0) throw new UsageError(`unexpected argument: ${flags._[0]}`, { hints: ['Run api-specs-context --help for usage.'] });
  if (flags.json && flags.shell) throw new UsageError('--json and --shell are two different outputs: choose one');
  return { json: flags.json === true, shell: flags.shell === true, spec: specOptionsFrom(flags, env) };
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (options === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (options === 'version') {
    writeLine(io.stdout, packageVersion());
    return 0;
  }
  const selected = await selectSpec(options.spec, io);
  if (options.shell) {
    const exports: Array<[string, string]> = [
      ['CLERK_API_VERSION', selected.version],
      ['CLERK_API_VERSIONS', selected.versions.join(' ')],
      ['CLERK_API_LATEST_VERSION', selected.latest],
    ];
    for (const [name, value] of exports) writeLine(io.stdout, `export ${name}=${shellQuote(value)}`);
    return 0;
  }
  const tags = tagCounts(selected.summary, options.spec.includePlatform);
  const endpoints = visibleEndpoints(selected.summary, options.spec.includePlatform).length;
  if (options.json) {
    const document = {
      api: 'bapi',
      source: selected.source,
      versions: selected.versions,
      latest: selected.latest,
      selected: selected.version,
      pinned: selected.pinned,
      tags,
      endpoints,
    };
    writeLine(io.stdout, JSON.stringify(document, null, 2));
    return 0;
  }
  const c = colorsFor(io.stdout, io.env);
  const lines = [`${c.bold('AVAILABLE VERSIONS:')} ${selected.versions.join(', ')}`, `${c.bold('LATEST VERSION:')} ${selected.latest}`];
  if (selected.pinned) {
    const by = argv.some((arg) => arg.startsWith('--api-version')) ? '--api-version' : 'CLERK_API_VERSION';
    lines.push(`${c.bold('SELECTED VERSION:')} ${selected.version} (pinned by ${by})`);
  } else if (selected.version !== selected.latest) {
    lines.push(`${c.bold('SELECTED VERSION:')} ${selected.version}`);
  }
  lines.push('', `${c.bold('TAGS:')} (${tags.length} tags, ${endpoints} endpoints in ${selected.version})`);
  for (const tag of tags) lines.push(`  - ${tag.name} (${tag.endpoints})`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

runMain('api-specs-context', import.meta.url, main);
