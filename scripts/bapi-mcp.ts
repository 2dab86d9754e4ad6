#!/usr/bin/env node
import { answerMetaRequest, isMetaRequest, runMain } from '../lib/cli/command.js';
import { COMMAND_FLAGS } from '../lib/cli/flags.js';
import { parseFlags } from '../lib/core/args.js';
import { UsageError } from '../lib/core/errors.js';
import type { IO } from '../lib/core/io.js';
import { McpProtocolServer } from '../lib/mcp/protocol.js';
import { defineServer } from '../lib/mcp/server.js';
import { BoundedStdioTransport } from '../lib/mcp/stdio.js';
import { enabledTools, patterns } from '../lib/mcp/toolsets.js';
import { SPEC_ENV_HELP, SPEC_FLAGS_HELP, specOptionsFrom, type SpecOptions } from '../lib/spec/select.js';

export const USAGE = `Usage: bapi-mcp [--read-only] [--tools PATTERNS] [--exclude-tools PATTERNS] [--api-version DATE] [options]

A stdio MCP server for agent hosts (Claude Code, Claude Desktop, Cursor, VS Code, Codex): Clerk's
Backend API with the spec at hand, and the guard in front of every write. It speaks MCP 2026-07-28
(per-request _meta, server/discover) and, after an initialize, 2025-11-25, 2025-06-18, 2025-03-26
and 2024-11-05. Tools:
  search_endpoints   tag / keyword / method → endpoints                          (read-only)
  describe_endpoint  one endpoint in full, every $ref resolved, and its SDK call    (read-only)
  call_api           a GET, with pagination up to max_items and a jq filter         (read-only)
  check_request      the guard's verdict; nothing sent, nothing approved            (read-only)
  write_api          POST/PUT/PATCH/DELETE behind the guard                        (destructive)
  list_webhook_events  Clerk's webhook event types, from the webhooks spec          (read-only)
  trigger_webhook    one event sent to the person's app, signed as Clerk signs it   (destructive)
A write that needs consent is confirmed by the person: the host asks them (elicitation), or the
result names a 'bapi-guard approve apr_…' command for them to run in their own terminal. No tool
argument can confirm anything. Every tool has an outputSchema and returns structuredContent (an
error: {error: {code, message, hints, exit_code, …}}); results are capped and say when they were cut.

Options:
  --read-only          expose no write tool (wins over --tools)
  --tools PATTERNS     only these tools: names, groups (explore: search_endpoints,
                       describe_endpoint; read: call_api, check_request; write: write_api;
                       webhooks: list_webhook_events, trigger_webhook) or * patterns, comma
                       separated or repeated; tools/list shows only these
  --exclude-tools PATTERNS
                       not these tools (after --tools)
  --webhook-url-allow PATTERN
                       trigger_webhook may also send to URLs this matches (* for any
                       characters; repeatable); by default only to localhost and 127.0.0.1
${SPEC_FLAGS_HELP}
  -h, --help           show this help
  -V, --version        show the toolkit's version

Environment:
  CLERK_SECRET_KEY     the secret key; else read from .env.local / .env up to the repository root.
                       Never in a tool result, a log or an error.
  CLERK_BAPI_BROKER    a key-custody broker's socket (bapi-guard serve; also found at its default
                       socket): every call goes through it, this server needs no key, and a write
                       that needs consent is answered in the broker's terminal, not by elicitation
  CLERK_API_URL        API base URL (default https://api.clerk.com)
  CLERK_WEBHOOK_SIGNING_SECRET  what trigger_webhook signs with (else from .env.local / .env)
  CLERK_BAPI_SCOPES    what writes may do without a person's approval (see bapi-guard --help)
  CLERK_BAPI_STATE_DIR approvals, audit.log and backups/ (default ~/.local/state/clerk-bapi)
${SPEC_ENV_HELP}

Exit codes:
  0 the client closed the connection · 1 the server failed (it says why on stderr) · 2 usage
  error · 3 (refused), 4 (needs a person) and 5 (network unreachable) come back as tool results
  with isError, never as the server's exit code

Examples:
  bapi-mcp
  bapi-mcp --read-only --api-version 2025-11-10
  bapi-mcp --tools explore,check_request
  bapi-mcp --include-platform
`;

export interface Options {
  readOnly: boolean;
  spec: SpecOptions;
  tools?: string[];
  excludeTools?: string[];
  webhookUrlAllow?: string[];
}

export function parseArgs(argv: string[], env: IO['env']): Options | 'help' | 'version' {
  const flags = parseFlags(argv, COMMAND_FLAGS['bapi-mcp']);
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  if (flags._.length > 0) throw new UsageError(`unexpected argument: ${flags._[0]}`, { hints: ['Run bapi-mcp --help for usage.'] });
  const readOnly = flags['read-only'] === true;
  const tools = patterns(flags.tools as string[]);
  const excludeTools = patterns(flags['exclude-tools'] as string[]);
  // An unknown name, or nothing left, is a usage error before anything is served.
  if (enabledTools({ readOnly, tools, exclude: excludeTools }).size === 0) throw new UsageError('--tools and --exclude-tools leave no tool to serve');
  const webhookUrlAllow = flags['webhook-url-allow'] as string[];
  return { readOnly, spec: specOptionsFrom(flags, env), ...(tools.length > 0 ? { tools } : {}), ...(excludeTools.length > 0 ? { excludeTools } : {}), ...(webhookUrlAllow.length > 0 ? { webhookUrlAllow } : {}) };
}

export async function main(argv: string[], io: IO): Promise<number> {
  const options = parseArgs(argv, io.env);
  if (isMetaRequest(options)) return answerMetaRequest(options, USAGE, io);
  const { readOnly, spec, tools, excludeTools, webhookUrlAllow } = options;
  const definition = defineServer({ readOnly, spec, ...(tools ? { tools } : {}), ...(excludeTools ? { excludeTools } : {}), ...(webhookUrlAllow ? { webhookUrlAllow } : {}) }, io.env, io.cwd);
  const transport = new BoundedStdioTransport();
  const server = new McpProtocolServer(definition, (message) => transport.send(message));
  transport.onmessage = (message) => server.handle(message);
  await new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    void transport.start();
  });
  server.close();
  return 0;
}

runMain('bapi-mcp', import.meta.url, main);
