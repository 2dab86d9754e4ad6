// Command-line flags: minimist with unknown flags refused and single-valued flags checked.
import minimist from 'minimist';
import { UsageError } from './errors.js';

export interface FlagSpec {
  string?: string[];
  boolean?: string[];
  alias?: Record<string, string>;
  /** String flags that may repeat; always returned as arrays. */
  repeatable?: string[];
  /** Habits from other tools (curl's -s, -L, -k): refused with this explanation instead of "unknown". */
  explain?: Record<string, string>;
}

/** Edit distance (Levenshtein) between two short names. */
export function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known flag closest to a mistyped one (`--josn` → `--json`), if one is close enough. */
export function closestFlag(name: string, known: Iterable<string>): string | null {
  let best: { flag: string; cost: number } | null = null;
  for (const flag of known) {
    if (flag.length < 2) continue;
    const cost = flag.startsWith(name) && name.length >= 3 ? 0.5 : distance(name, flag);
    if (cost <= (flag.length <= 3 ? 1 : 2) && (best === null || cost < best.cost)) best = { flag, cost };
  }
  return best ? `--${best.flag}` : null;
}

/** The long option nearest to `name` by spelling, however far. */
function nearestFlag(name: string, known: Iterable<string>): string | null {
  let best: { flag: string; cost: number } | null = null;
  for (const flag of known) {
    const cost = flag.length < 2 ? Infinity : distance(name, flag);
    if (best === null || cost < best.cost) best = { flag, cost };
  }
  return best && best.cost < Infinity ? `--${best.flag}` : null;
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
        const explain = (flag: string) => (spec.explain && Object.hasOwn(spec.explain, flag) ? spec.explain[flag] : undefined);
        const explanation = explain(name);
        if (explanation !== undefined) throw new UsageError(`${arg}: ${explanation}`);
        // Combined short flags (curl's -sL): each habit explained as it would be alone.
        if (/^-[A-Za-z]{2,}$/.test(arg)) {
          const letters = [...name];
          const said = letters.filter((letter) => explain(letter) !== undefined);
          if (said.length > 0 && letters.every((letter) => explain(letter) !== undefined || known.has(letter))) {
            throw new UsageError(said.map((letter) => `-${letter}: ${explain(letter) as string}`).join('; '));
          }
        }
        if (!known.has(name)) {
          const suggestion = closestFlag(name, known);
          const nearest = suggestion ? null : nearestFlag(name, known);
          throw new UsageError(`unknown option: ${arg}`, { hints: [suggestion ? `Did you mean ${suggestion}?` : `Run with --help for the options${nearest ? ` (the nearest by spelling: ${nearest})` : ''}.`] });
        }
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
