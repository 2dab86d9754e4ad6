// Who may consent to an irreversible or out-of-scope write. In `flag` mode (scripts, CI) `--yes` and
// `--admin` do. In `person` mode only a person does: at a terminal the guard prompts (unless an AI
// agent drives the process), otherwise it records a pending approval that a person grants with
// `bapi-guard approve ID` in their own terminal. The mode can be tightened from any source and
// loosened from none: an agent marker beats CLERK_BAPI_CONFIRM=flag.
//
// What this stops: an agent that follows the toolkit's docs and messages cannot produce consent by
// adding a flag. What it does not stop: a process of the same OS user that sets out to defeat it
// (it can unset variables, fake a terminal, or edit the state directory).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';

export type ConsentMode = 'flag' | 'person';

export const CONFIRM_VARIABLE = 'CLERK_BAPI_CONFIRM';
export const AGENT_VARIABLE = 'CLERK_BAPI_AGENT';
export const POLICY_FILE = 'policy.json';

/**
 * Environment markers that agent hosts set in the shells they run commands in. Sources: each host's
 * documentation or issue tracker (2025–2026). Hosts with none we know of (Aider, among others) are
 * covered by CLERK_BAPI_AGENT=1, which SKILL.md tells agent setups to set.
 */
export const AGENT_MARKERS: ReadonlyArray<{ variable: string; host: string }> = [
  { variable: AGENT_VARIABLE, host: 'an agent (CLERK_BAPI_AGENT)' },
  { variable: 'CLAUDECODE', host: 'Claude Code' },
  { variable: 'CLAUDE_CODE_ENTRYPOINT', host: 'Claude Code' },
  { variable: 'CODEX_SANDBOX', host: 'Codex CLI' },
  { variable: 'CODEX_THREAD_ID', host: 'Codex CLI' },
  { variable: 'CURSOR_AGENT', host: 'Cursor' },
  { variable: 'GEMINI_CLI', host: 'Gemini CLI' },
  { variable: 'COPILOT_AGENT_SESSION_ID', host: 'GitHub Copilot coding agent' },
  { variable: 'COPILOT_CLI', host: 'GitHub Copilot CLI' },
  { variable: 'GOOSE_TERMINAL', host: 'Goose' },
  { variable: 'OPENCODE', host: 'OpenCode' },
  { variable: 'AI_AGENT', host: 'an agent (AI_AGENT)' },
  { variable: 'AGENT', host: 'an agent (AGENT)' },
];

/** The first agent marker set (non-empty, not 0/false) in `env`, or null. */
export function agentMarker(env: Record<string, string | undefined>): { variable: string; host: string } | null {
  for (const marker of AGENT_MARKERS) {
    const value = Object.hasOwn(env, marker.variable) ? env[marker.variable] : undefined;
    if (value !== undefined && value.trim() !== '' && !/^(0|false|no)$/i.test(value.trim())) return marker;
  }
  return null;
}

export interface Consent {
  mode: ConsentMode;
  /** Why `person` (empty in flag mode). */
  reasons: string[];
  /** The agent host recognised, if any: then no prompt counts either (an agent can drive a terminal). */
  agent: string | null;
  warnings: string[];
}

/**
 * The policy a person set with `bapi-guard policy`: null only when there is no policy file. A safety
 * switch fails closed: a policy that cannot be read or understood is person mode, with a warning.
 */
export function readPolicy(stateDir: string): { mode: ConsentMode | null; warning: string | null } {
  const file = join(stateDir, POLICY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { mode: null, warning: null };
    return { mode: 'person', warning: `the consent policy ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): person mode until it can` };
  }
  let confirm: unknown;
  try {
    confirm = (JSON.parse(text) as { confirm?: unknown } | null)?.confirm;
  } catch {
    confirm = undefined;
  }
  if (confirm === 'person' || confirm === 'flag') return { mode: confirm, warning: null };
  return { mode: 'person', warning: `the consent policy ${file} is not one bapi-guard policy wrote: person mode until it is set again (bapi-guard policy person|flag)` };
}

/** The consent mode in force: person when any source says so. */
export function consentFor(env: Record<string, string | undefined>, stateDir: string): Consent {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const raw = (Object.hasOwn(env, CONFIRM_VARIABLE) ? env[CONFIRM_VARIABLE] : undefined)?.trim().toLowerCase();
  if (raw !== undefined && raw !== '' && raw !== 'person' && raw !== 'flag') {
    throw new UsageError(`${CONFIRM_VARIABLE} must be person or flag, not ${JSON.stringify(raw)}`);
  }
  if (raw === 'person') reasons.push(`${CONFIRM_VARIABLE}=person`);
  const policy = readPolicy(stateDir);
  if (policy.mode === 'person') reasons.push(`the policy in ${join(stateDir, POLICY_FILE)}`);
  if (policy.warning !== null) warnings.push(policy.warning);
  const marker = agentMarker(env);
  if (marker) {
    reasons.push(`${marker.variable} is set (${marker.host})`);
    if (raw === 'flag') warnings.push(`${CONFIRM_VARIABLE}=flag is ignored: ${marker.variable} says an agent runs this, so a person must confirm`);
  }
  return { mode: reasons.length > 0 ? 'person' : 'flag', reasons, agent: marker?.host ?? null, warnings };
}
