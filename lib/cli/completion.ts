// Shell completion, answered here so bash and zsh share one implementation: the shell hands over the
// words of the command line (the last one being completed) and prints what comes back. Flags come from
// COMMAND_FLAGS; tags, methods, paths and versions from the store's index, offline, never from YAML.
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FlagSpec } from '../core/args.js';
import type { IO } from '../core/io.js';
import { COMMAND_FLAGS, COMMANDS, HIDDEN_FLAGS, type CommandName } from './flags.js';
import { isObject } from '../core/values.js';
import { matchEndpoint } from '../endpoint/match.js';
import { deref } from '../endpoint/validate.js';
import { endpointKey, visibleEndpoints, type EndpointSummary, type SpecDetail, type SpecSummary } from '../spec/index.js';
import { normalizeVersion, openStore, type SpecOptions } from '../spec/select.js';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
const METHODS = ['GET', ...WRITE_METHODS];

export interface Candidate {
  value: string;
  description?: string;
}

/** What the shell should do: offer these words, or fall back to its own file-name completion. */
export type Completion = { kind: 'words'; candidates: Candidate[] } | { kind: 'files' };

/** What the word under the cursor is. */
export type Slot =
  | { kind: 'flag'; command: CommandName; spec: FlagSpec; prefix: string; used: Set<string> }
  | { kind: 'value'; command: CommandName; flag: string; prefix: string; keep: string }
  | { kind: 'positional'; command: CommandName; index: number; previous: string[]; prefix: string }
  | { kind: 'none' };

export interface LineContext {
  slot: Slot;
  /** The positional words before the one being completed (METHOD and PATH, a tag's words). */
  positional: string[];
  apiVersion: string | undefined;
  includePlatform: boolean;
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

/** The shell functions of lib/shell/bapi.sh, completed as the command they wrap (bapi-browse with its own few flags). */
export const SHELL_FUNCTIONS: Record<string, { as: CommandName; flags?: FlagSpec }> = {
  'bapi-write': { as: 'bapi-curl' },
  'bapi-browse': { as: 'extract-tag-endpoints', flags: { string: ['api-version'], boolean: ['include-platform', 'help'] } },
};

/** Long name of a flag as typed (`-d` → data, `--api-version` → api-version), or null. */
function longName(spec: FlagSpec, typed: string): string | null {
  const name = typed.replace(/^-+/, '');
  if (!typed.startsWith('--')) return spec.alias?.[name] ?? (flagNames(spec).includes(name) ? name : null);
  return flagNames(spec).includes(name) ? name : null;
}

function flagNames(spec: FlagSpec): string[] {
  return [...(spec.string ?? []), ...(spec.repeatable ?? []), ...(spec.boolean ?? [])];
}

function takesValue(spec: FlagSpec, name: string): boolean {
  return (spec.string ?? []).includes(name) || (spec.repeatable ?? []).includes(name);
}

/**
 * Reads a command line as the command's own parser would. `words[0]` is the command; the last word
 * is the one being completed (possibly empty). bash splits `--flag=value` into `--flag`, `=`, `value`.
 */
export function analyzeLine(words: string[]): LineContext {
  const context: LineContext = { slot: { kind: 'none' }, positional: [], apiVersion: undefined, includePlatform: false };
  const typedCommand = (words[0] ?? '').split('/').pop() ?? '';
  const wrapped = Object.hasOwn(SHELL_FUNCTIONS, typedCommand) ? SHELL_FUNCTIONS[typedCommand] : undefined;
  const command = wrapped?.as ?? typedCommand;
  if (!isCommand(command) || words.length < 2) return context;
  const spec = wrapped?.flags ?? COMMAND_FLAGS[command];
  const current = words[words.length - 1] as string;
  const before = words.slice(1, -1);
  const positional: string[] = [];
  const used = new Set<string>();
  let pendingValue: string | null = null;
  let afterDashes = false;
  for (let i = 0; i < before.length; i++) {
    const word = before[i] as string;
    if (pendingValue !== null) {
      if (word === '=') continue;
      if (pendingValue === 'api-version') context.apiVersion = word;
      pendingValue = null;
      continue;
    }
    if (afterDashes || word === '-' || !word.startsWith('-') || /^-\d/.test(word)) {
      positional.push(word);
      continue;
    }
    if (word === '--') {
      afterDashes = true;
      continue;
    }
    const [typed, inlineValue] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
    const names = typed.startsWith('--') ? [longName(spec, typed)] : [...typed.slice(1)].map((c) => longName(spec, `-${c}`));
    for (const name of names) if (name) used.add(name);
    const last = names[names.length - 1];
    if (last === 'include-platform') context.includePlatform = true;
    if (last && takesValue(spec, last)) {
      if (inlineValue !== undefined) {
        if (last === 'api-version') context.apiVersion = inlineValue;
      } else pendingValue = last;
    }
  }
  context.positional = positional.map(unquoteWord);
  if (pendingValue !== null) {
    context.slot = { kind: 'value', command, flag: pendingValue, prefix: current, keep: '' };
  } else if (!afterDashes && current.startsWith('-')) {
    const at = current.indexOf('=');
    const name = at > 0 ? longName(spec, current.slice(0, at)) : null;
    context.slot =
      at > 0 && name && takesValue(spec, name)
        ? { kind: 'value', command, flag: name, prefix: current.slice(at + 1), keep: current.slice(0, at + 1) }
        : { kind: 'flag', command, spec, prefix: current, used };
  } else {
    context.slot = { kind: 'positional', command, index: positional.length, previous: context.positional, prefix: unquoteWord(current) };
  }
  return context;
}

/**
 * The word being completed as the command will see it: bash hands it over as typed, so a tag
 * completed to its common prefix (`Email\ `) or opened with a quote (`'Email A`) must be read
 * without its shell quoting, or nothing matches it any more.
 */
export function unquoteWord(word: string): string {
  if (word.startsWith("'")) return word.slice(1).replace(/'$/, '');
  if (word.startsWith('"')) return word.slice(1).replace(/"$/, '').replace(/\\([$`"\\])/g, '$1');
  return word.replace(/\\(.)/g, '$1');
}

function startsWithFold(value: string, prefix: string): boolean {
  return value.toLowerCase().startsWith(prefix.toLowerCase());
}

function flagCandidates(slot: Extract<Slot, { kind: 'flag' }>): Candidate[] {
  const { spec } = slot;
  const hidden = new Set(HIDDEN_FLAGS[slot.command] ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const offered = flagNames(spec).filter((name) => !hidden.has(name) && (repeatable.has(name) || !slot.used.has(name)));
  const words = offered.map((name) => `--${name}`);
  if (slot.prefix === '-') {
    for (const [short, long] of Object.entries(spec.alias ?? {})) if (offered.includes(long)) words.push(`-${short}`);
  }
  return words.filter((word) => word.startsWith(slot.prefix)).map((value) => ({ value }));
}

/** `/users/user_123/b` against `/users/{user_id}/ban`: typed segments kept, the rest from the template. */
function completePath(template: string, prefix: string): string | null {
  const typed = prefix.split('/');
  const parts = template.split('/');
  if (typed.length > parts.length) return null;
  for (let i = 0; i < typed.length - 1; i++) {
    const part = parts[i] as string;
    if (typed[i] !== part && !(part.startsWith('{') && typed[i] !== '')) return null;
  }
  const last = typed.length - 1;
  if (!(parts[last] as string).startsWith(typed[last] as string)) return null;
  return [...typed.slice(0, last), ...parts.slice(last)].join('/');
}

/** Endpoint paths starting with `prefix` (optionally of one method), each once, with their methods. */
export function pathCandidates(endpoints: EndpointSummary[], prefix: string, method: string | null): Candidate[] {
  const byPath = new Map<string, EndpointSummary[]>();
  const path = prefix.replace(/^\/v1(?=\/)/, '') || '/';
  for (const endpoint of endpoints) {
    if (method !== null && endpoint.method !== method) continue;
    const completed = completePath(endpoint.path, path);
    if (completed === null) continue;
    byPath.set(completed, [...(byPath.get(completed) ?? []), endpoint]);
  }
  return [...byPath.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([value, matches]) => ({
      value,
      description: matches.length === 1 ? `${(matches[0] as EndpointSummary).method} ${(matches[0] as EndpointSummary).summary}` : matches.map((e) => e.method).join(' '),
    }));
}

function matchesTemplate(template: string, path: string): boolean {
  const parts = template.split('/');
  const typed = path.split('/');
  return parts.length === typed.length && parts.every((part, i) => part === typed[i] || (part.startsWith('{') && typed[i] !== ''));
}

function methodCandidates(prefix: string, endpoints: EndpointSummary[] | null, path: string | null): Candidate[] {
  let methods = METHODS;
  if (endpoints && path !== null) {
    const bare = path.replace(/^\/v1(?=\/)/, '').replace(/[?#].*$/, '');
    const found = endpoints.filter((e) => matchesTemplate(e.path, bare));
    // A static segment beats a parameter (/users/count is not /users/{user_id}), as in the commands.
    const params = (e: EndpointSummary) => (e.path.match(/\{/g) ?? []).length;
    const fewest = Math.min(...found.map(params));
    if (found.length > 0) methods = METHODS.filter((m) => found.some((e) => e.method === m && params(e) === fewest));
  }
  return methods.filter((m) => startsWithFold(m, prefix)).map((value) => ({ value }));
}

/** The data completion needs, loaded on demand; every failure yields nothing rather than noise. */
export interface CompletionData {
  summary(): Promise<SpecSummary | null>;
  /** The selected version's detail index (parameters): read only for what needs it. */
  detail(): Promise<SpecDetail | null>;
  versions(): Promise<string[]>;
}

/** Reads the store offline: the version list and the selected version's summary index. */
export function storeData(context: LineContext, io: IO): CompletionData {
  const quiet: IO = { ...io, stderr: { write: () => true, isTTY: false } };
  const options: SpecOptions = { offline: true, refresh: false, includePlatform: context.includePlatform };
  const store = openStore(options, quiet);
  let listing: Promise<Awaited<ReturnType<typeof store.listing>> | null> | undefined;
  const list = () => (listing ??= store.listing().catch(() => null));
  return {
    async versions() {
      return ((await list())?.entries ?? []).map((e) => e.version);
    },
    async summary() {
      const entries = (await list())?.entries ?? [];
      let wanted: string | undefined;
      try {
        const raw = context.apiVersion ?? io.env.CLERK_API_VERSION;
        wanted = raw ? normalizeVersion(raw) : undefined;
      } catch {
        return null;
      }
      const entry = wanted === undefined ? entries[entries.length - 1] : entries.find((e) => e.version === wanted);
      if (!entry) return null;
      return store.summary(entry).catch(() => null);
    },
    async detail() {
      const summary = await this.summary();
      const entry = summary ? ((await list())?.entries ?? []).find((e) => e.version === summary.version) : undefined;
      return entry ? store.detail(entry).catch(() => null) : null;
    },
  };
}

function fileCandidates(prefix: string, keep: string, cwd: string): Candidate[] {
  const dir = prefix.endsWith('/') ? prefix : dirname(prefix) === '.' && !prefix.startsWith('./') ? '' : `${dirname(prefix)}/`;
  let names: Array<{ name: string; directory: boolean }>;
  try {
    names = readdirSync(resolve(cwd, dir || '.'), { withFileTypes: true }).map((d) => ({ name: d.name, directory: d.isDirectory() }));
  } catch {
    return [];
  }
  return names
    .map(({ name, directory }) => `${join(dir, name)}${directory ? '/' : ''}`)
    .filter((path) => path.startsWith(prefix) && (prefix.split('/').pop()?.startsWith('.') || !path.slice(dir.length).startsWith('.')))
    .sort()
    .map((path) => ({ value: `${keep}${path}` }));
}

/** `-q NAME=`: the query parameters of the endpoint METHOD PATH (either order) on the line names. */
async function queryCandidates(positional: string[], prefix: string, data: CompletionData): Promise<Candidate[]> {
  if (prefix.includes('=')) return [];
  const path = positional.find((word) => word.startsWith('/'));
  const method = positional.find((word) => METHODS.includes(word.toUpperCase()))?.toUpperCase() ?? 'GET';
  const summary = path === undefined ? null : await data.summary();
  if (!summary || path === undefined) return [];
  let matched: EndpointSummary | null = null;
  try {
    matched = matchEndpoint(summary.endpoints, { method, path })?.endpoint ?? null;
  } catch {
    return [];
  }
  const detail = matched ? await data.detail() : null;
  if (!matched || !detail) return [];
  const raw = detail.endpoints[endpointKey(matched.method, matched.path)];
  const names: Candidate[] = [];
  for (const parameter of raw?.parameters ?? []) {
    const resolved = deref(parameter, detail.components);
    if (!isObject(resolved) || resolved.in !== 'query' || typeof resolved.name !== 'string' || !startsWithFold(resolved.name, prefix)) continue;
    const description = typeof resolved.description === 'string' ? resolved.description.split(/\n|(?<=\.)\s/)[0] : undefined;
    names.push({ value: `${resolved.name}=`, ...(description ? { description } : {}) });
  }
  return names;
}

async function valueCompletion(slot: Extract<Slot, { kind: 'value' }>, data: CompletionData, io: IO, positional: string[]): Promise<Completion> {
  const words = (values: string[]): Completion => ({
    kind: 'words',
    candidates: values.filter((v) => startsWithFold(v, slot.prefix)).map((v) => ({ value: `${slot.keep}${v}` })),
  });
  switch (slot.flag) {
    case 'api-version':
    case 'diff':
      return words([...(await data.versions())].reverse());
    case 'completion':
    case 'shell-init':
      return words([...SHELLS]);
    case 'method':
      return words(METHODS);
    case 'query':
      return { kind: 'words', candidates: (await queryCandidates(positional, slot.prefix, data)).map((c) => ({ ...c, value: `${slot.keep}${c.value}` })) };
    case 'spec':
      return slot.keep === '' ? { kind: 'files' } : { kind: 'words', candidates: fileCandidates(slot.prefix, slot.keep, io.cwd) };
    case 'data':
      if (slot.prefix.startsWith('@')) return { kind: 'words', candidates: fileCandidates(slot.prefix.slice(1), `${slot.keep}@`, io.cwd) };
      return { kind: 'words', candidates: [] };
    default:
      return { kind: 'words', candidates: [] };
  }
}

async function positionalCompletion(slot: Extract<Slot, { kind: 'positional' }>, data: CompletionData, includePlatform: boolean): Promise<Completion> {
  const none: Completion = { kind: 'words', candidates: [] };
  if (slot.command === 'extract-tag-endpoints') {
    const summary = await data.summary();
    if (!summary) return none;
    const counts = new Map<string, number>();
    for (const endpoint of visibleEndpoints(summary, includePlatform)) for (const tag of endpoint.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    // The command joins its words into one tag: `organization m` completes to the rest of Organization Memberships.
    const typed = slot.previous.map((word) => `${word} `).join('');
    const candidates = summary.tags
      .filter((tag) => counts.has(tag.name) && startsWithFold(tag.name, `${typed}${slot.prefix}`))
      .map((tag) => ({ value: tag.name.slice(typed.length), description: `${counts.get(tag.name)} endpoints` }));
    return { kind: 'words', candidates };
  }
  if (slot.command !== 'extract-endpoint-detail' && slot.command !== 'bapi-guard' && slot.command !== 'bapi-curl') return none;
  // METHOD PATH in either order, as the commands accept them.
  if (slot.index > 1) return none;
  const wantsPath = slot.prefix.startsWith('/');
  const first = slot.index === 1 ? (slot.previous[0] as string) : null;
  const firstIsPath = first !== null && first.startsWith('/');
  if (slot.index === 0 && !wantsPath) return { kind: 'words', candidates: methodCandidates(slot.prefix, null, null) };
  if (slot.index === 1 && !firstIsPath && !wantsPath && slot.prefix !== '') return none;
  const summary = await data.summary();
  const endpoints = summary ? visibleEndpoints(summary, includePlatform) : null;
  if (firstIsPath) return { kind: 'words', candidates: methodCandidates(slot.prefix, endpoints, first) };
  if (!endpoints) return none;
  const method = first !== null && METHODS.includes(first.toUpperCase()) ? first.toUpperCase() : null;
  return { kind: 'words', candidates: pathCandidates(endpoints, slot.prefix === '' ? '/' : slot.prefix, method) };
}

/** The candidates for the last of `words`. */
export async function complete(words: string[], io: IO, makeData = storeData): Promise<Completion> {
  const context = analyzeLine(words);
  const data = makeData(context, io);
  switch (context.slot.kind) {
    case 'flag':
      return { kind: 'words', candidates: flagCandidates(context.slot) };
    case 'value':
      return valueCompletion(context.slot, data, io, context.positional);
    case 'positional':
      return positionalCompletion(context.slot, data, context.includePlatform);
    default:
      return { kind: 'words', candidates: [] };
  }
}

/** What `api-specs-context --complete` prints: a directive line, then `value⇥description` lines. */
export function renderCompletion(completion: Completion): string {
  if (completion.kind === 'files') return ':files\n';
  const lines = completion.candidates.map((c) => (c.description ? `${c.value}\t${c.description.replace(/[\t\n]+/g, ' ')}` : c.value));
  return [':words', ...lines].map((line) => `${line}\n`).join('');
}
