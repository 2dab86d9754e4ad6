#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { colorsFor, writeLine, type IO } from '../lib/core/io.js';
import { parseFlags, stringFlag } from '../lib/core/args.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { UsageError } from '../lib/core/errors.js';
import { brokerSocket, type BrokerStatus } from '../lib/custody/protocol.js';
import { tagCounts, visibleEndpoints } from '../lib/spec/index.js';
import { SPEC_ENV_HELP, SPEC_FLAGS_HELP, selectSpec, specOptionsFrom, type SpecOptions } from '../lib/spec/select.js';

export const USAGE = `Usage: api-specs-context [options]

The context to read before anything else: the Backend API spec versions, the latest (or the pinned
one), and the tags of the selected version with their endpoint counts. Makes sure that version is
downloaded and indexed, so the other commands answer at once.

Options:
  --json               one JSON document: {api, source, versions, latest, selected, tags, endpoints,
                       broker} (broker: null, or {socket, status} of a key-custody broker in use)
  --shell              print export lines for eval "$(api-specs-context --shell)": CLERK_API_VERSION,
                       CLERK_API_VERSIONS, CLERK_API_LATEST_VERSION
  --shell-init SHELL   print the shell integration for eval "$(api-specs-context --shell-init bash)"
                       (or zsh): completion, plus the helpers bapi-write and bapi-browse
  --completion SHELL   print only the completion script for the seven commands, bapi-write and
                       bapi-browse (bash or zsh)
${SPEC_FLAGS_HELP}
  -h, --help           show this help
  -V, --version        show the toolkit's version

Environment:
${SPEC_ENV_HELP}
  NO_COLOR             no colour on stdout even on a terminal

Exit codes:
  0 ok · 1 runtime failure · 2 usage error or unknown version · 5 spec source unreachable and
  nothing cached

Examples:
  api-specs-context
  api-specs-context --api-version 2025-04-10
  api-specs-context --json | jq -r '.tags[].name'
  CLERK_SPECS_SOURCE=~/src/openapi-specs api-specs-context --offline
  eval "$(api-specs-context --shell)" && echo "$CLERK_API_VERSION"
  eval "$(api-specs-context --shell-init bash)"   # in ~/.bashrc; zsh: --shell-init zsh in ~/.zshrc
`;

export interface Options {
  json: boolean;
  shell: boolean;
  spec: SpecOptions;
  /** --completion / --shell-init SHELL, or the hidden --complete WORDS... that completion calls. */
  integration?: { kind: 'completion' | 'shell-init'; shell: string } | { kind: 'complete'; words: string[] };
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['api-specs-context']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  if (flags.complete) return { json: false, shell: false, spec: { offline: true, refresh: false, includePlatform: false }, integration: { kind: 'complete', words: flags._.map(String) } };
  for (const kind of ['completion', 'shell-init'] as const) {
    const shell = stringFlag(flags, kind);
    if (shell === undefined) continue;
    if (flags._.length > 0 || flags.json || flags.shell) throw new UsageError(`--${kind} prints a shell script and takes no other output option`);
    return { json: false, shell: false, spec: specOptionsFrom(flags, env), integration: { kind, shell } };
  }
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
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  if (options.integration) return shellIntegration(options.integration, io);
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
  const broker = await custody(io);
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
      broker,
    };
    writeLine(io.stdout, JSON.stringify(document, null, 2));
    return 0;
  }
  const c = colorsFor(io.stdout, io.env);
  const lines = [`${c.bold('AVAILABLE VERSIONS:')} ${selected.versions.join(', ')}`, `${c.bold('LATEST VERSION:')} ${selected.latest}`];
  if (selected.pinned) {
    const by = argv.some((arg) => arg.startsWith('--api-version')) ? '--api-version' : 'CLERK_API_VERSION';
    lines.push(`${c.bold('SELECTED VERSION:')} ${selected.version} (pinned by ${by})`);
    if (selected.version < selected.latest) {
      lines.push(`${c.bold('NEWER VERSION:')} ${selected.latest}: see what changes with extract-tag-endpoints --api-version ${selected.version} --diff ${selected.latest}`);
    }
  } else if (selected.version !== selected.latest) {
    lines.push(`${c.bold('SELECTED VERSION:')} ${selected.version}`);
  }
  if (broker) {
    const held = broker.status ? `pid ${broker.status.pid}, key ${broker.status.key.masked}, scopes: ${broker.status.scopes ?? 'none'}` : 'not answering: nothing can be sent until it runs';
    lines.push(`${c.bold('KEY CUSTODY:')} a broker at ${broker.socket} (${held}); writes wait for the person at its terminal`);
  }
  lines.push('', `${c.bold('TAGS:')} (${tags.length} tags, ${endpoints} endpoints in ${selected.version})`);
  for (const tag of tags) lines.push(`  - ${tag.name} (${tag.endpoints})`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The key-custody broker clients here use, and what it says of itself; null when there is none. */
async function custody(io: IO): Promise<{ socket: string; status: BrokerStatus | null } | null> {
  const found = brokerSocket(io.env, io.cwd);
  if (!found) return null;
  const { brokerStatus } = await import('../lib/custody/client.js');
  return { socket: found.path, status: await brokerStatus(found.path) };
}

// The shell integration's code is loaded only when asked for, so the usual start-up stays cheap.
async function shellIntegration(integration: NonNullable<Options['integration']>, io: IO): Promise<number> {
  if (integration.kind === 'complete') {
    const { complete, renderCompletion } = await import('../lib/cli/completion.js');
    try {
      io.stdout.write(renderCompletion(await complete(integration.words, io)));
    } catch {
      // A completion that fails offers nothing; it never prints into the user's command line.
    }
    return 0;
  }
  const { completionScript, parseShell, shellInit } = await import('../lib/cli/completion-shell.js');
  const shell = parseShell(integration.shell, `--${integration.kind}`);
  io.stdout.write(integration.kind === 'completion' ? completionScript(shell) : shellInit(shell));
  return 0;
}

runMain('api-specs-context', import.meta.url, main);
