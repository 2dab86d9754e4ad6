// Which tools a host sees: a person chooses with --tools and --exclude-tools (tool names, groups, or
// `*` patterns), as GitHub's and Supabase's MCP servers let them; --read-only wins over everything.
// A tool that is not enabled is not registered: tools/list does not show it, and a call to it is an
// error from the protocol layer.
import { UsageError } from '../core/errors.js';

/** Every tool, in the order tools/list shows them, with its group. */
export const TOOLS = [
  { name: 'search_endpoints', group: 'explore', write: false },
  { name: 'describe_endpoint', group: 'explore', write: false },
  { name: 'call_api', group: 'read', write: false },
  { name: 'check_request', group: 'read', write: false },
  { name: 'write_api', group: 'write', write: true },
  { name: 'list_webhook_events', group: 'webhooks', write: false },
  // It makes the person's app act (a user.deleted deletes): hidden by --read-only like a write.
  { name: 'trigger_webhook', group: 'webhooks', write: true },
] as const;

export type ToolName = (typeof TOOLS)[number]['name'];
export const GROUPS = ['explore', 'read', 'write', 'webhooks'] as const;

export interface ToolSelection {
  /** --tools: patterns to enable (default: every tool). */
  tools?: string[];
  /** --exclude-tools: patterns to disable, after --tools. */
  exclude?: string[];
  readOnly: boolean;
}

/** The tools a pattern names: a group, a tool name, or a name with `*` (any characters). */
function matching(pattern: string, flag: string): ToolName[] {
  const wanted = pattern.trim().toLowerCase();
  if ((GROUPS as readonly string[]).includes(wanted)) return TOOLS.filter((t) => t.group === wanted).map((t) => t.name);
  const expression = new RegExp(`^${wanted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  const found = TOOLS.filter((t) => expression.test(t.name)).map((t) => t.name);
  if (found.length === 0) {
    throw new UsageError(`${flag} ${pattern}: no tool or group of that name`, { hints: [`Tools: ${TOOLS.map((t) => t.name).join(', ')}. Groups: ${GROUPS.join(', ')}. A * matches any characters.`] });
  }
  return found;
}

/** Splits `a,b c` into patterns. */
export function patterns(values: string[]): string[] {
  return values.flatMap((value) => value.split(/[\s,]+/)).filter((p) => p !== '');
}

/** The enabled tools, in tools/list order. */
export function enabledTools(selection: ToolSelection): Set<ToolName> {
  const chosen = new Set<ToolName>(selection.tools && selection.tools.length > 0 ? selection.tools.flatMap((p) => matching(p, '--tools')) : TOOLS.map((t) => t.name));
  for (const pattern of selection.exclude ?? []) for (const name of matching(pattern, '--exclude-tools')) chosen.delete(name);
  // --read-only wins: no write tool, whatever --tools said.
  if (selection.readOnly) for (const tool of TOOLS) if (tool.write) chosen.delete(tool.name);
  return new Set(TOOLS.map((t) => t.name).filter((name) => chosen.has(name)));
}
