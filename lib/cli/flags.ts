// Every command's flag definitions, in one side-effect-free module: each script parses its argv with
// its entry, and shell completion and the shell helpers are generated from the same entries, so they
// cannot drift. (Completion cannot import the scripts themselves: a bundle would run their main.)
import type { FlagSpec } from '../core/args.js';
import { SPEC_FLAG_SPEC } from '../spec/select.js';

export const COMMANDS = [
  'api-specs-context',
  'extract-tags',
  'extract-tag-endpoints',
  'extract-endpoint-detail',
  'bapi-guard',
  'bapi-curl',
  'bapi-mcp',
  'bapi-webhooks',
] as const;

export type CommandName = (typeof COMMANDS)[number];

export const COMMAND_FLAGS: Record<CommandName, FlagSpec> = {
  'api-specs-context': {
    string: [...SPEC_FLAG_SPEC.string, 'completion', 'shell-init'],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'json', 'shell', 'complete', 'help', 'version'],
    alias: { h: 'help', V: 'version' },
  },
  'extract-tags': {
    string: [...SPEC_FLAG_SPEC.string],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'json', 'ndjson', 'help', 'version'],
    alias: { h: 'help', V: 'version' },
  },
  'extract-tag-endpoints': {
    string: [...SPEC_FLAG_SPEC.string, 'grep', 'method', 'diff'],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'json', 'ndjson', 'breaking-only', 'help', 'version'],
    alias: { h: 'help', V: 'version' },
  },
  'extract-endpoint-detail': {
    string: [...SPEC_FLAG_SPEC.string, 'diff', 'depth'],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'json', 'yaml', 'help', 'version'],
    alias: { h: 'help', V: 'version' },
  },
  'bapi-guard': {
    string: [...SPEC_FLAG_SPEC.string, 'data', 'ttl', 'batch', 'key-command', 'socket', 'scopes'],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'admin', 'yes', 'json', 'no-wait', 'help', 'version'],
    repeatable: ['raw-field', 'field', 'query', 'form'],
    alias: { d: 'data', f: 'raw-field', F: 'field', q: 'query', y: 'yes', h: 'help', V: 'version' },
  },
  'bapi-curl': {
    string: [...SPEC_FLAG_SPEC.string, 'data', 'jq', 'timeout', 'wait-approval', 'method', 'max-items', 'batch', 'concurrency'],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'include', 'dry-run', 'paginate', 'slurp', 'admin', 'yes', 'no-backup', 'no-wait', 'verbose', 'resume', 'help', 'version'],
    repeatable: ['raw-field', 'field', 'query', 'form', 'header'],
    alias: { d: 'data', f: 'raw-field', F: 'field', q: 'query', H: 'header', i: 'include', y: 'yes', X: 'method', v: 'verbose', h: 'help', V: 'version' },
    explain: {
      s: 'not needed: bapi-curl shows no progress meter (errors still go to stderr)',
      silent: 'not needed: bapi-curl shows no progress meter (errors still go to stderr)',
      L: 'not needed: reads follow redirects by themselves, and a write never follows one',
      location: 'not needed: reads follow redirects by themselves, and a write never follows one',
      k: 'not supported: the key travels only over verified https (or http to this machine)',
      insecure: 'not supported: the key travels only over verified https (or http to this machine)',
      request: 'give the method first (bapi-curl POST /users), or with -X/--method',
      input: "gh's --input FILE: give the body with -d @FILE (or -d - for stdin)",
      limit: 'the page size is a query parameter here: -q limit=N; for more than one page, --paginate (with --max-items N to stop early)',
    },
  },
  'bapi-mcp': {
    string: [...SPEC_FLAG_SPEC.string],
    boolean: [...SPEC_FLAG_SPEC.boolean, 'read-only', 'help', 'version'],
    repeatable: ['tools', 'exclude-tools', 'webhook-url-allow'],
    alias: { h: 'help', V: 'version' },
  },
  'bapi-webhooks': {
    string: ['grep', 'url', 'secret', 'data', 'timeout', 'port', 'path', 'save', 'webhooks-version'],
    boolean: ['json', 'example', 'schema-only', 'dry-run', 'refresh', 'help', 'version'],
    repeatable: ['set', 'header'],
    alias: { H: 'header', h: 'help', V: 'version' },
  },
};

/** Flags that a user should not be offered (internal plumbing of the shell integration). */
export const HIDDEN_FLAGS: Partial<Record<CommandName, string[]>> = {
  'api-specs-context': ['complete'],
};
