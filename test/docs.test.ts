// The docs cannot drift from the code: every toolkit command line in SKILL.md and in README.md's code
// blocks (and inline code that starts with a command) names a command of package.json `bin` and only
// flags that command really has. Flags come from each built command's --help (what a user sees); sh
// and bash lines are also run through the command's own parseArgs, which refuses what --help may miss.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from './helpers/spec-fixtures.js';
import { runCli } from './helpers/run-cli.js';
import { parseArgs as apiSpecsContextArgs } from '../scripts/api-specs-context.js';
import { parseArgs as extractTagsArgs } from '../scripts/extract-tags.js';
import { parseArgs as extractTagEndpointsArgs } from '../scripts/extract-tag-endpoints.js';
import { parseArgs as extractEndpointDetailArgs } from '../scripts/extract-endpoint-detail.js';
import { parseArgs as bapiGuardArgs } from '../scripts/bapi-guard.js';
import { parseArgs as bapiCurlArgs } from '../scripts/bapi-curl.js';
import { parseArgs as bapiMcpArgs } from '../scripts/bapi-mcp.js';
import { parseArgs as bapiWebhooksArgs } from '../scripts/bapi-webhooks.js';

const COMMANDS = ['api-specs-context', 'extract-tags', 'extract-tag-endpoints', 'extract-endpoint-detail', 'bapi-guard', 'bapi-curl', 'bapi-mcp', 'bapi-webhooks'] as const;
type Command = (typeof COMMANDS)[number];
type ArgsParser = (argv: string[], env: Record<string, string | undefined>) => unknown;

const PARSERS: Record<Command, ArgsParser> = {
  'api-specs-context': apiSpecsContextArgs,
  'extract-tags': extractTagsArgs,
  'extract-tag-endpoints': extractTagEndpointsArgs,
  'extract-endpoint-detail': extractEndpointDetailArgs,
  'bapi-guard': bapiGuardArgs,
  'bapi-curl': bapiCurlArgs,
  'bapi-mcp': bapiMcpArgs,
  'bapi-webhooks': bapiWebhooksArgs,
};

const DOCS = ['SKILL.md', 'README.md'];

// ---------------------------------------------------------------------------------------------
// Markdown: the code to check, with the line it starts on.

/**
 * `shell`: an sh/bash block, checked fully. `loose`: an unlabelled block or inline code, which may
 * hold placeholders and output, so only command names and flag names are checked. `synopsis`: a
 * usage line such as `bapi-guard METHOD PATH [-d JSON|@file|-] [--yes]`, whose flags are checked.
 */
type SnippetKind = 'shell' | 'loose' | 'synopsis';

interface Snippet {
  file: string;
  line: number;
  kind: SnippetKind;
  text: string;
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'zsh', 'console', 'shell-session']);
const SYNOPSIS = /\[-/;

function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i] as string);
    if (!open) {
      for (const span of (lines[i] as string).matchAll(/(?<!`)`([^`]+)`(?!`)/g)) {
        const text = span[1] as string;
        snippets.push({ file, line: i + 1, kind: SYNOPSIS.test(text) ? 'synopsis' : 'loose', text });
      }
      continue;
    }
    const fence = open[1] as string;
    const lang = (open[2] as string).toLowerCase();
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] as string).trim().startsWith(fence)) end++;
    const body = lines.slice(start, end);
    i = end;
    if (SHELL_LANGS.has(lang)) {
      const text = lang === 'console' || lang === 'shell-session'
        ? body.map((l) => (l.startsWith('$ ') ? l.slice(2) : '')).join('\n')
        : body.join('\n');
      snippets.push({ file, line: start + 1, kind: 'shell', text });
    } else if (lang === '') {
      // Usage lines (which may wrap onto indented lines that start with `[`) apart; the rest as one script.
      const rest = body.map((text, j) => {
        if (!SYNOPSIS.test(text) || /^\s+\[/.test(text)) return text;
        let k = j + 1;
        while (k < body.length && /^\s+\[/.test(body[k] as string)) text += ` ${(body[k++] as string).trim()}`;
        snippets.push({ file, line: start + j + 1, kind: 'synopsis', text });
        return '';
      });
      snippets.push({ file, line: start + 1, kind: 'loose', text: rest.map((text) => (/^\s+\[/.test(text) ? '' : text)).join('\n') });
    }
  }
  return snippets;
}

// ---------------------------------------------------------------------------------------------
// Shell: enough of the POSIX grammar to find simple commands in documentation.

interface Word {
  text: string;
  /** Holds a parameter, command or arithmetic expansion (or an fzf `{1}` placeholder): its value is unknown. */
  expanded: boolean;
}

interface SimpleCommand {
  words: Word[];
  line: number;
  /** Came from a quoted string run by another program (`fzf --preview '…'`). */
  nested: boolean;
}

const OPERATOR_CHARS = new Set([';', '&', '|', '(', ')', '\n']);
const KEYWORDS = new Set(['!', 'if', 'then', 'else', 'elif', 'while', 'until', 'do', 'time', '{', '}']);

/** Splits a script into simple commands; the scripts of `$(…)`, backticks and `$((…))` come out as commands too. */
function parseShell(script: string, firstLine = 1, nested = false): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: Word[] = [];
  let commandLine = firstLine;
  let line = firstLine;
  let i = 0;
  const pendingHeredocs: Array<{ delimiter: string; strip: boolean }> = [];

  const endCommand = () => {
    if (words.length > 0) commands.push({ words, line: commandLine, nested });
    words = [];
  };

  // The text between an opening at `from` and its matching `close`, minding quotes and nesting.
  const balanced = (from: number, openChar: string, closeChar: string): number => {
    let depth = 1;
    let j = from;
    while (j < script.length) {
      const c = script[j];
      if (c === '\\') j += 2;
      else if (c === "'") j = script.indexOf("'", j + 1) + 1 || script.length;
      else if (c === '"') {
        j++;
        while (j < script.length && script[j] !== '"') j += script[j] === '\\' ? 2 : 1;
        j++;
      } else {
        if (c === openChar) depth++;
        else if (c === closeChar && --depth === 0) return j;
        j++;
      }
    }
    return script.length;
  };

  const inner = (text: string) => {
    commands.push(...parseShell(text, line, nested));
  };

  // Reads a `$…` expansion at i; returns its source text.
  const readDollar = (): string => {
    const start = i;
    if (script.startsWith('$((', i)) {
      const close = balanced(i + 3, '(', ')');
      const end = balanced(close + 1, '(', ')');
      inner(script.slice(i + 3, close));
      i = Math.min(script.length, Math.max(end, close) + 1);
    } else if (script.startsWith('$(', i)) {
      const close = balanced(i + 2, '(', ')');
      inner(script.slice(i + 2, close));
      i = close + 1;
    } else if (script.startsWith('${', i)) {
      i = balanced(i + 2, '{', '}') + 1;
    } else if (/[@*#?$!\d-]/.test(script[i + 1] ?? '')) {
      i += 2;
    } else {
      i++;
      while (i < script.length && /\w/.test(script[i] as string)) i++;
    }
    const text = script.slice(start, i);
    line += text.match(/\n/g)?.length ?? 0;
    return text;
  };

  const readBacktick = (): string => {
    const start = i;
    const close = script.indexOf('`', i + 1);
    const end = close === -1 ? script.length : close;
    inner(script.slice(i + 1, end));
    i = end + 1;
    const text = script.slice(start, i);
    line += text.match(/\n/g)?.length ?? 0;
    return text;
  };

  const readWord = (): Word => {
    let text = '';
    let expanded = false;
    while (i < script.length) {
      const c = script[i] as string;
      if (c === ' ' || c === '\t' || OPERATOR_CHARS.has(c) || c === '<' || c === '>') break;
      if (c === '\\') {
        if (script[i + 1] === '\n') line++;
        else text += script[i + 1] ?? '';
        i += 2;
      } else if (c === "'") {
        const close = script.indexOf("'", i + 1);
        const end = close === -1 ? script.length : close;
        text += script.slice(i + 1, end);
        line += (script.slice(i, end).match(/\n/g)?.length ?? 0);
        i = end + 1;
      } else if (c === '$' && script[i + 1] === "'") {
        let j = i + 2;
        while (j < script.length && script[j] !== "'") j += script[j] === '\\' ? 2 : 1;
        text += script.slice(i + 2, j).replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
        i = j + 1;
      } else if (c === '"') {
        i++;
        while (i < script.length && script[i] !== '"') {
          const d = script[i] as string;
          if (d === '\\' && /["\\$`\n]/.test(script[i + 1] ?? '')) {
            if (script[i + 1] !== '\n') text += script[i + 1];
            i += 2;
          } else if (d === '$' && /[({\w@*#?!$-]/.test(script[i + 1] ?? '')) {
            text += readDollar();
            expanded = true;
          } else if (d === '`') {
            text += readBacktick();
            expanded = true;
          } else {
            if (d === '\n') line++;
            text += d;
            i++;
          }
        }
        i++;
      } else if (c === '$' && /[({\w@*#?!$-]/.test(script[i + 1] ?? '')) {
        text += readDollar();
        expanded = true;
      } else if (c === '`') {
        text += readBacktick();
        expanded = true;
      } else {
        text += c;
        i++;
      }
    }
    return { text, expanded };
  };

  const skipHeredocs = () => {
    // At the start of a line after `<<DELIM`: skip the document.
    for (const { delimiter, strip } of pendingHeredocs.splice(0)) {
      while (i < script.length) {
        const next = script.indexOf('\n', i);
        const end = next === -1 ? script.length : next;
        const text = script.slice(i, end);
        i = end + 1;
        line++;
        if ((strip ? text.replace(/^\t+/, '') : text) === delimiter) break;
      }
    }
  };

  while (i < script.length) {
    const c = script[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '\\' && script[i + 1] === '\n') {
      i += 2;
      line++;
    } else if (c === '#') {
      while (i < script.length && script[i] !== '\n') i++;
    } else if (OPERATOR_CHARS.has(c)) {
      endCommand();
      i++;
      if (c === '\n') {
        line++;
        skipHeredocs();
      }
      commandLine = line;
    } else if (c === '<' || c === '>' || (/\d/.test(c) && /^\d+[<>]/.test(script.slice(i, i + 4)))) {
      // A redirection: drop the operator and its target (`2>&1`, `</dev/null`, `< org.json`, `<<EOF`).
      const op = /^\d*(<<<|<<-|<<|<>|>>|>&|<&|&>|>\||<|>)/.exec(script.slice(i)) as RegExpExecArray;
      i += op[0].length;
      while (script[i] === ' ' || script[i] === '\t') i++;
      const target = readWord();
      if (op[1] === '<<' || op[1] === '<<-') pendingHeredocs.push({ delimiter: target.text, strip: op[1] === '<<-' });
    } else {
      if (words.length === 0) commandLine = line;
      const word = readWord();
      if (words.length === 0 && KEYWORDS.has(word.text) && !word.expanded) continue;
      words.push(word);
    }
  }
  endCommand();
  return commands;
}

// ---------------------------------------------------------------------------------------------
// Invocations of the toolkit's commands.

interface Invocation {
  command: string;
  args: Word[];
  env: Record<string, string>;
  where: string;
  kind: SnippetKind;
  text: string;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const XARGS_VALUE_FLAGS = new Set(['-I', '-n', '-L', '-P', '-d', '-s', '-E']);

/** The command a simple command runs, past assignments and wrappers (`env`, `npx`, `xargs`, `node dist/scripts/X.js`). */
function commandOf(words: Word[]): { name: string; args: Word[]; env: Record<string, string> } | null {
  const env: Record<string, string> = {};
  let k = 0;
  for (;;) {
    while (k < words.length && ASSIGNMENT.test((words[k] as Word).text)) {
      const text = (words[k] as Word).text;
      const at = text.indexOf('=');
      env[text.slice(0, at)] = text.slice(at + 1);
      k++;
    }
    const word = words[k];
    if (!word) return null;
    if (['env', 'npx', 'command', 'exec', 'nohup', 'time'].includes(word.text)) {
      k++;
      while (k < words.length && (words[k] as Word).text.startsWith('-')) k++;
      continue;
    }
    if (word.text === 'xargs') {
      k++;
      while (k < words.length && (words[k] as Word).text.startsWith('-')) k += XARGS_VALUE_FLAGS.has((words[k] as Word).text) ? 2 : 1;
      continue;
    }
    const script = /(?:^|\/)dist\/scripts\/([\w-]+)\.js$/.exec(word.text);
    if (word.text === 'node' && words[k + 1] && /dist\/scripts\/[\w-]+\.js$/.test((words[k + 1] as Word).text)) {
      k++;
      continue;
    }
    return { name: script ? (script[1] as string) : word.text, args: words.slice(k + 1), env };
  }
}

function isToolkitName(name: string): boolean {
  return (COMMANDS as readonly string[]).includes(name);
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The shell functions that lib/shell/bapi.sh defines (bapi-write, bapi-browse): real, not typos. */
const SHELL_HELPERS = new Set(
  [...readFileSync(join(PROJECT_DIR, 'lib', 'shell', 'bapi.sh'), 'utf8').matchAll(/^(?:function\s+)?([a-z][a-z0-9-]*)\s*\(\)/gm)].map((m) => m[1] as string),
);

/** A command word that is meant to be one of ours but isn't: `bapi-curls`, `extract-tag-endpoint`. */
function looksLikeToolkit(name: string): boolean {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || isToolkitName(name) || SHELL_HELPERS.has(name)) return false;
  return /^(extract|api-specs)-/.test(name) || COMMANDS.some((command) => levenshtein(name, command) <= 2);
}

const FZF_PLACEHOLDER = /\{[+sfnq]*-?\d*(\.\.-?\d*)?\}/;

function findInvocations(snippet: Snippet): Invocation[] {
  const where = `${snippet.file}:${snippet.line}`;
  if (snippet.kind === 'synopsis') {
    const words = snippet.text.trim().split(/\s+/).map((text) => ({ text, expanded: false }));
    const found = commandOf(words);
    if (!found || (!isToolkitName(found.name) && !looksLikeToolkit(found.name))) return [];
    return [{ command: found.name, args: found.args, env: found.env, where, kind: 'synopsis', text: snippet.text.trim() }];
  }
  const invocations: Invocation[] = [];
  const queue = parseShell(snippet.text, snippet.line);
  while (queue.length > 0) {
    const simple = queue.shift() as SimpleCommand;
    const found = commandOf(simple.words);
    if (!found) continue;
    // `fzf --preview 'extract-endpoint-detail {1} {2}'`, `sh -c '…'`: a quoted command line run later.
    for (const word of found.args) {
      const head = word.text.trimStart().split(/\s/)[0] ?? '';
      if (isToolkitName(head) && /\s/.test(word.text.trim())) queue.push(...parseShell(word.text, simple.line, true));
    }
    if (!isToolkitName(found.name) && !looksLikeToolkit(found.name)) continue;
    const args = simple.nested ? found.args.map((w) => ({ text: w.text, expanded: w.expanded || FZF_PLACEHOLDER.test(w.text) })) : found.args;
    invocations.push({
      command: found.name,
      args,
      env: found.env,
      where: `${snippet.file}:${simple.line}`,
      kind: snippet.kind,
      text: [found.name, ...args.map((w) => w.text)].join(' '),
    });
  }
  return invocations;
}

// ---------------------------------------------------------------------------------------------
// Flags: what each command's --help lists.

interface FlagTable {
  /** `--json`, `-d`, `--data`, … → whether it takes a value. */
  flags: Map<string, boolean>;
}

/** The flags in the Options section of a --help text: `-d, --data JSON|@file|-  the body` → -d, --data (value). */
function parseHelpFlags(help: string): FlagTable {
  const flags = new Map<string, boolean>();
  const lines = help.split('\n');
  const start = lines.indexOf('Options:');
  assert.ok(start >= 0, 'the --help text has no Options: section');
  for (const raw of lines.slice(start + 1)) {
    if (!/^\s/.test(raw)) break;
    const entry = /^\s+(-[\w-]+(?:, --[\w-]+)?)((?: \S+?)*?)(?:\s{2,}|$)/.exec(raw);
    if (!entry) continue;
    const takesValue = (entry[2] as string).trim() !== '';
    for (const name of (entry[1] as string).split(', ')) flags.set(name, takesValue);
  }
  return { flags };
}

/** Problems with one invocation: unknown command or flag, a flag's missing value, what parseArgs refuses. */
function checkInvocation(invocation: Invocation, tables: Map<string, FlagTable>, bin: Record<string, string>): string[] {
  const at = `${invocation.where}: ${invocation.text}`;
  if (!isToolkitName(invocation.command)) return [`${at}\n  ${invocation.command}: no such command (the commands are ${COMMANDS.join(', ')})`];
  if (bin[invocation.command] === undefined) return [`${at}\n  ${invocation.command}: not in package.json bin`];
  const table = tables.get(invocation.command);
  assert.ok(table, `no flag table for ${invocation.command}`);
  const problems: string[] = [];
  const unknown = (flag: string) => problems.push(`${at}\n  ${invocation.command} has no option ${flag}`);

  if (invocation.kind === 'synopsis') {
    for (const match of invocation.args.map((w) => w.text).join(' ').matchAll(/(?:^|[\s[|(,])(--?[A-Za-z][\w-]*)/g)) {
      if (!table.flags.has(match[1] as string)) unknown(match[1] as string);
    }
    return problems;
  }

  const args = invocation.args;
  for (let k = 0; k < args.length; k++) {
    const { text, expanded } = args[k] as Word;
    if (text === '--') break;
    if (expanded || !text.startsWith('-') || text === '-' || /^-\d/.test(text)) continue;
    if (text.startsWith('--')) {
      const [name, inline] = [text.split('=')[0] as string, text.includes('=')];
      const takesValue = table.flags.get(name);
      if (takesValue === undefined) unknown(name);
      else if (takesValue && !inline) {
        if (k + 1 >= args.length) problems.push(`${at}\n  ${name} needs a value`);
        k++;
      }
      continue;
    }
    // -x, -xVALUE, -abc (booleans combined)
    for (let c = 1; c < text.length; c++) {
      const name = `-${text[c]}`;
      const takesValue = table.flags.get(name);
      if (takesValue === undefined) {
        unknown(name);
        break;
      }
      if (takesValue) {
        if (c === text.length - 1) {
          if (k + 1 >= args.length) problems.push(`${at}\n  ${name} needs a value`);
          k++;
        }
        break;
      }
    }
  }

  // sh/bash lines are real commands: the command's own parser must accept them. A refusal that quotes
  // a value only known at run time (`$org`, fzf's `{1}`) is not the docs' fault.
  if (invocation.kind === 'shell' && problems.length === 0) {
    try {
      PARSERS[invocation.command as Command](args.map((w) => w.text), { ...invocation.env });
    } catch (error) {
      const message = (error as Error).message;
      const blamesRuntimeValue = args.some((w) => w.expanded && message.includes(w.text));
      if (!blamesRuntimeValue) problems.push(`${at}\n  ${invocation.command} refuses it: ${message}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

const tables = new Map<string, FlagTable>();
const bin = (JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;

before(async () => {
  await Promise.all(
    COMMANDS.map(async (command) => {
      const result = await runCli(command, ['--help']);
      assert.equal(result.exitCode, 0, `${command} --help failed (run make build first): ${result.stderr}`);
      tables.set(command, parseHelpFlags(result.stdout));
    }),
  );
});

describe('the shell reader', () => {
  test('follows continuations, pipes, &&, $(…), env assignments, comments and redirections', () => {
    const script = [
      '# a comment bapi-curl --nope',
      'A=1 B="x y" bapi-curl GET /users \\',
      "  -q limit=5 --jq '.[] | .id' | jq . && extract-tags --json </dev/null 2>&1 # trailing",
      'org=$(bapi-curl POST /organizations -f name="Acme Inc" --jq .id) && echo "$(api-specs-context --shell)"',
      "while IFS=$'\\t' read -r m p _; do extract-endpoint-detail \"$m\" \"$p\" --diff 2025-11-10; done",
    ].join('\n');
    const found = parseShell(script, 10)
      .map((c) => commandOf(c.words))
      .filter((c) => c !== null && isToolkitName(c.name))
      .map((c) => `${c!.name} ${c!.args.map((w) => w.text).join(' ')}`);
    assert.deepEqual(found, [
      "bapi-curl GET /users -q limit=5 --jq .[] | .id",
      'extract-tags --json',
      'bapi-curl POST /organizations -f name=Acme Inc --jq .id',
      'api-specs-context --shell',
      'extract-endpoint-detail $m $p --diff 2025-11-10',
    ]);
    const first = parseShell(script, 10).find((c) => c.words.some((w) => w.text === 'GET'));
    assert.equal(first?.line, 11);
    assert.deepEqual(commandOf(first!.words)?.env, { A: '1', B: 'x y' });
  });

  test('finds a command inside a quoted preview command, with fzf placeholders as run-time values', () => {
    const invocations = findInvocations({
      file: 'X.md',
      line: 1,
      kind: 'shell',
      text: "extract-tag-endpoints | fzf --preview 'extract-endpoint-detail {1} {2} --depht 2'",
    });
    assert.deepEqual(invocations.map((i) => i.text), ['extract-tag-endpoints', 'extract-endpoint-detail {1} {2} --depht 2']);
    assert.equal(invocations[1]?.args[0]?.expanded, true);
  });
});

describe('the checker', () => {
  const check = (text: string, kind: SnippetKind = 'shell') =>
    extractSnippets(kind === 'shell' ? `\`\`\`sh\n${text}\n\`\`\`\n` : `\`\`\`\n${text}\n\`\`\`\n`, 'X.md')
      .flatMap(findInvocations)
      .flatMap((invocation) => checkInvocation(invocation, tables, bin));

  test('reports a made-up flag, a misspelt command, a missing value and what parseArgs refuses', () => {
    assert.match(check('bapi-curl GET /users --made-up-flag').join('\n'), /bapi-curl has no option --made-up-flag/);
    assert.match(check('extract-tags -x').join('\n'), /extract-tags has no option -x/);
    assert.match(check('extract-tag-endpoint Users').join('\n'), /extract-tag-endpoint: no such command/);
    assert.deepEqual([...SHELL_HELPERS].sort(), ['bapi-browse', 'bapi-write']);
    assert.deepEqual(check('bapi-browse [TAG] [--api-version DATE]', 'loose'), []);
    assert.match(check('bapi-gaurd [-d JSON] DELETE /users/user_1', 'loose').join('\n'), /bapi-gaurd: no such command/);
    assert.match(check('bapi-guard DELETE /users/user_1 --ttl').join('\n'), /--ttl needs a value/);
    assert.match(check('bapi-curl GET /users --slurp').join('\n'), /refuses it: --slurp goes with --paginate/);
    assert.match(check('bapi-guard METHOD PATH [-d JSON] [--yess]', 'loose').join('\n'), /bapi-guard has no option --yess/);
    assert.match(check("x | fzf --preview 'extract-endpoint-detail {1} {2} --depht 2'").join('\n'), /has no option --depht/);
  });

  test('accepts real flags, aliases, --flag=value, combined short flags and run-time values', () => {
    assert.deepEqual(check('bapi-curl GET /users -iq limit=5 --timeout=10 -H "X-A: b"'), []);
    assert.deepEqual(check('extract-endpoint-detail "$method" "$path" --api-version 2025-04-10 --diff 2025-11-10'), []);
    assert.deepEqual(check('CLERK_BAPI_SCOPES=write,delete bapi-guard DELETE /users/user_1 -y --json | bapi-curl --no-backup'), []);
  });

  test('every flag in a --help is one its parser accepts', () => {
    for (const command of COMMANDS) {
      for (const [flag, takesValue] of tables.get(command)!.flags) {
        try {
          PARSERS[command](takesValue ? [flag, 'x=1'] : [flag], {});
        } catch (error) {
          assert.doesNotMatch((error as Error).message, /unknown option/, `${command} --help lists ${flag}`);
        }
      }
    }
  });
});

describe('the docs', () => {
  test('package.json bin has the six commands, each at its built script', () => {
    for (const command of COMMANDS) assert.equal(bin[command], `dist/scripts/${command}.js`);
  });

  for (const file of DOCS) {
    test(`${file}: every toolkit command line uses real commands and flags`, () => {
      const snippets = extractSnippets(readFileSync(join(PROJECT_DIR, file), 'utf8'), file);
      const invocations = snippets.flatMap(findInvocations);
      assert.ok(invocations.filter((i) => i.kind === 'shell').length >= 5, `${file}: expected command lines in sh blocks`);
      const problems = invocations.flatMap((invocation) => checkInvocation(invocation, tables, bin));
      assert.deepEqual(problems, [], `${file} has command lines that don't match the commands:\n${problems.join('\n')}`);
    });
  }

  test('SKILL.md is an agent skill: front matter with name and description', () => {
    const skill = readFileSync(join(PROJECT_DIR, 'SKILL.md'), 'utf8');
    const front = /^---\n([\s\S]*?)\n---\n/.exec(skill);
    assert.ok(front, 'SKILL.md starts with YAML front matter');
    assert.match(front[1] as string, /^name: [a-z0-9]+(-[a-z0-9]+)*$/m);
    assert.match(front[1] as string, /^description: \S/m);
    for (const command of COMMANDS) assert.ok(skill.includes(command), `SKILL.md mentions ${command}`);
  });

  test("bapi-mcp's setup blocks load in each host's format, and bapi-mcp accepts their arguments", () => {
    const readme = readFileSync(join(PROJECT_DIR, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### `bapi-mcp`'), readme.indexOf('### Shell integration'));
    const blocks = [...section.matchAll(/```(json|toml)\n([\s\S]*?)```/g)].map((m) => ({ kind: m[1] as string, text: m[2] as string }));
    const servers: Array<{ host: string; entry: { command?: unknown; args?: unknown; env?: unknown; type?: unknown } }> = [];
    for (const block of blocks.filter((b) => b.kind === 'json')) {
      const config = JSON.parse(block.text) as { mcpServers?: Record<string, never>; servers?: Record<string, never>; inputs?: unknown[] };
      // Cursor and Claude Desktop: mcpServers; VS Code: servers (with a type), and inputs for secrets.
      if (config.mcpServers) for (const entry of Object.values(config.mcpServers)) servers.push({ host: 'cursor', entry });
      if (config.servers) {
        for (const entry of Object.values(config.servers) as Array<{ type?: unknown }>) {
          assert.equal(entry.type, 'stdio', 'VS Code needs the transport type');
          servers.push({ host: 'vscode', entry });
        }
        assert.ok(Array.isArray(config.inputs), 'VS Code reads ${input:…} from inputs');
      }
    }
    // Codex's TOML: a [mcp_servers.NAME] table with command, args and an inline env table.
    const toml = blocks.find((b) => b.kind === 'toml');
    assert.ok(toml, 'a Codex block');
    assert.match(toml.text, /^\[mcp_servers\.[\w-]+\]$/m);
    const value = (key: string) => new RegExp(`^${key} = (.+)$`, 'm').exec(toml.text)?.[1];
    const inlineTable = value('env')!;
    assert.match(inlineTable, /^\{ ("[\w]+" = "[^"]*"(, )?)+ \}$/);
    servers.push({ host: 'codex', entry: { command: JSON.parse(value('command')!), args: JSON.parse(value('args')!) } });
    assert.deepEqual([...new Set(servers.map((s) => s.host))].sort(), ['codex', 'cursor', 'vscode']);
    for (const { host, entry } of servers) {
      assert.equal(entry.command, 'bapi-mcp', host);
      assert.ok(Array.isArray(entry.args), host);
      assert.doesNotThrow(() => bapiMcpArgs(entry.args as string[], {}), host);
    }
    // Claude Code's command line: `claude mcp add NAME [--env K=V]… -- bapi-mcp ARGS`.
    const claude = /claude mcp add [\w-]+(?: --env \S+)* -- bapi-mcp(.*)$/m.exec(section);
    assert.ok(claude, 'a Claude Code line');
    assert.doesNotThrow(() => bapiMcpArgs((claude[1] as string).trim().split(/\s+/).filter(Boolean), {}));
  });
});
