// The verdict as a person reads it on stderr: each check marked, the IRREVERSIBLE list, the metadata
// table, warnings and the outcome. Deciding is policy.ts's; this only renders.
import type { Colors } from '../core/io.js';
import { metadataTable } from './metadata.js';
import type { Verdict } from './policy.js';

const MARK = { ok: '✓', fail: '✗', warn: '!' };

/** The human explanation of a verdict, for stderr. */
export function renderVerdict(verdict: Verdict, c: Colors, options: { outcome: boolean; label?: string | undefined; width?: number | undefined; waiting?: boolean | undefined } = { outcome: true }): string {
  const lines: string[] = [];
  const target = `${verdict.request.method} ${verdict.request.path}${verdict.request.query.length > 0 ? `?${new URLSearchParams(verdict.request.query).toString()}` : ''}`;
  const endpoint = verdict.endpoint ? `${verdict.endpoint.method} ${verdict.endpoint.path}` : 'no endpoint';
  lines.push(`${c.bold(options.label ?? 'bapi-guard')} ${target}  →  ${endpoint}  (spec ${verdict.version})`);
  for (const check of verdict.checks) {
    const pending = check.id === 'confirmation' && verdict.confirmation.pending;
    const mark = pending ? c.yellow('?') : check.ok ? (check.id === 'destruction' && verdict.destructive ? c.red(MARK.warn) : c.green(MARK.ok)) : c.red(MARK.fail);
    // The destruction check of a request that destroys something opens with the word IRREVERSIBLE: in red.
    const irreversible = check.id === 'destruction' && verdict.destructive && verdict.destroys.length > 0;
    const message = irreversible ? `${c.bold(c.red('IRREVERSIBLE'))}${check.message.slice('IRREVERSIBLE'.length)}` : check.message;
    lines.push(`  ${mark} ${check.id.padEnd(13)} ${message}`);
  }
  for (const problem of verdict.problems.slice(0, 20)) lines.push(`      ${c.cyan(problem.path)}: ${problem.message}`);
  if (verdict.problems.length > 20) lines.push(`      … and ${verdict.problems.length - 20} more (see --json)`);
  if (verdict.destructive && verdict.destroys.length > 0) {
    lines.push('', `${c.bold(c.red('IRREVERSIBLE'))}: this permanently destroys:`);
    for (const item of verdict.destroys) lines.push(`  - ${item}`);
    if (verdict.destroysNote && verdict.reversible.length === 0) lines.push(`  ${c.dim(verdict.destroysNote)}`);
  }
  if (verdict.destructive && verdict.reversible.length > 0) {
    lines.push('', `${c.bold('REVERSIBLE')}: this takes away, until another request gives it back:`);
    for (const item of verdict.reversible) lines.push(`  - ${item}`);
    if (verdict.destroysNote) lines.push(`  ${c.dim(verdict.destroysNote)}`);
  }
  if (verdict.metadata) {
    lines.push('', c.bold('Metadata') + ` (this request sets ${verdict.metadata.fields.join(', ')}):`);
    for (const row of metadataTable(verdict.metadata.fields, (options.width ?? Infinity) - 2)) lines.push(`  ${row}`);
    lines.push(`  ${verdict.metadata.semanticsMessage}`);
  }
  const warnings = verdict.warnings.filter((w) => !(verdict.metadata && w === verdict.metadata.semanticsMessage));
  if (warnings.length > 0) {
    lines.push('');
    for (const warning of warnings) lines.push(`${c.yellow('warning:')} ${warning}`);
  }
  let text = `${lines.join('\n')}\n`;
  if (options.outcome) text += renderOutcome(verdict, c, options.waiting === true);
  return text;
}

/** The outcome line; `waiting`: the caller waits for the person's decision on the pending approval (--wait-approval), so it is not refused yet. */
export function renderOutcome(verdict: Verdict, c: Colors, waiting = false): string {
  if (verdict.allowed) return `${c.green('Allowed.')}${verdict.write ? '' : ' (a read: no approval needed)'}\n`;
  return renderRefusal(verdict, c, waiting);
}

/** A refused verdict's (one request's or a batch's) outcome line and hints; waiting on its pending approval, it says so instead. */
export function renderRefusal(verdict: { exitCode: number; reason: string | null; hints: string[]; approval: { id: string; status: string } | null }, c: Colors, waiting: boolean): string {
  const head = waiting && verdict.approval?.status === 'pending' ? `${c.yellow('Waiting')} for a person's decision on ${verdict.approval.id}: ${verdict.reason ?? ''}` : `${c.red('Refused')} (exit ${verdict.exitCode}): ${verdict.reason ?? ''}`;
  return `${[head, ...verdict.hints.map((hint) => `  ${hint}`)].join('\n')}\n`;
}
