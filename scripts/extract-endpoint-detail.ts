#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { parseFlags } from '../lib/core/args.js';
import { UsageError } from '../lib/core/errors.js';
import type { IO } from '../lib/core/io.js';
import { describeEndpoint, type EndpointQuestion } from '../lib/endpoint/answer.js';
import { parseEndpointArgs } from '../lib/endpoint/match.js';
import { normalizeDiffVersion, SPEC_ENV_HELP, SPEC_FLAGS_HELP, specOptionsFrom } from '../lib/spec/select.js';

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
  --diff VERSION       what changes for this endpoint from the selected version to VERSION (or latest):
                       parameters, body fields and their required-ness, responses (with --json:
                       {method, path, from, to, status, breaking, changes:[...]})
  --depth N            text output: show field trees N levels deep (default: request all,
                       responses 1); 0 shows the top-level names and types only
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
  extract-tag-endpoints Users | fzf --delimiter '\\t' --nth 1,2 | extract-endpoint-detail
  extract-endpoint-detail PATCH /users/{user_id} --api-version 2025-04-10 --diff 2025-11-10
  extract-endpoint-detail DELETE /users/{user_id} --yaml
`;

export function parseArgs(argv: string[], env: IO['env']): EndpointQuestion | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['extract-endpoint-detail']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  if (flags.json && flags.yaml) throw new UsageError('--json and --yaml are two different outputs: choose one');
  const rawDiff = flags.diff as string | undefined;
  if (rawDiff === '') throw new UsageError('--diff needs a version, e.g. --diff 2025-11-10 or --diff latest');
  if (rawDiff !== undefined && flags.yaml) throw new UsageError('--diff prints changes as text or --json, not --yaml');
  const rawDepth = flags.depth as string | undefined;
  let depth: number | null = null;
  if (rawDepth !== undefined) {
    if (!/^\d+$/.test(rawDepth)) throw new UsageError(`--depth needs a number (0 for names and types only), got ${JSON.stringify(rawDepth)}`);
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
    diff: rawDiff === undefined ? null : normalizeDiffVersion(rawDiff),
    depth,
    spec,
  };
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  return describeEndpoint(options, io);
}

runMain('extract-endpoint-detail', import.meta.url, main);
