// Command-line flags: minimist with unknown flags refused and single-valued flags checked.
import minimist from 'minimist';
import { UsageError } from './errors.js';

export interface FlagSpec {
  string?: string[];
  boolean?: string[];
  alias?: Record<string, string>;
  /** String flags that may repeat; always returned as arrays. */
  repeatable?: string[];
}

export type ParsedFlags = minimist.ParsedArgs;

/** minimist with unknown flags refused and single-valued flags checked, so a typo never passes silently. */
export function parseFlags(argv: string[], spec: FlagSpec): ParsedFlags {
  const strings = [...(spec.string ?? []), ...(spec.repeatable ?? [])];
  const known = new Set<string>([...strings, ...(spec.boolean ?? [])]);
  for (const [short, long] of Object.entries(spec.alias ?? {})) {
    known.add(short);
    known.add(long);
  }
  const parsed = minimist(argv, {
    string: strings,
    boolean: spec.boolean ?? [],
    alias: spec.alias ?? {},
    '--': true,
    unknown: (arg) => {
      if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) {
        const name = arg.replace(/^-+/, '').split('=')[0] ?? arg;
        if (!known.has(name)) throw new UsageError(`unknown option: ${arg}`, { hints: ['Run with --help for usage.'] });
      }
      return true;
    },
  });
  for (const name of spec.repeatable ?? []) {
    const value = parsed[name];
    parsed[name] = value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
  for (const name of spec.string ?? []) {
    const value = parsed[name];
    if (Array.isArray(value)) throw new UsageError(`--${name} was given more than once`);
  }
  for (const name of spec.boolean ?? []) {
    if (Array.isArray(parsed[name])) parsed[name] = parsed[name].at(-1);
  }
  const rest = parsed['--'] ?? [];
  parsed._ = [...parsed._.map(String), ...rest];
  delete parsed['--'];
  return parsed;
}

/** A string flag's value, or undefined; `--flag` with no value is a usage error. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value: unknown = flags[name];
  if (value === undefined) return undefined;
  if (value === '' || typeof value !== 'string') throw new UsageError(`--${name} needs a value`);
  return value;
}
