// What CLERK_BAPI_SCOPES lets a write do. Global scopes (`write`, `delete`) or scopes narrowed to a
// resource (`users:write`, `organizations:delete`), where the resource is an endpoint's tag or the
// first segment of its path.

export const SCOPES_VARIABLE = 'CLERK_BAPI_SCOPES';

export type ScopeAction = 'read' | 'write' | 'delete';

export interface ScopeGrant {
  action: ScopeAction;
  /** Normalised resource (`users`, `organization_memberships`), or null for a global scope. */
  resource: string | null;
  /** As the user wrote it. */
  text: string;
}

export interface ScopeSet {
  grants: ScopeGrant[];
  /** Tokens that are not scopes, to warn about (a typo should not silently mean "nothing"). */
  unknown: string[];
}

export interface ScopeCheck {
  ok: boolean;
  /** The actions this request needs. */
  needs: ScopeAction[];
  /** The grants that allowed it, when ok. */
  grantedBy: string[];
  /** Scopes that would allow it, when refused, e.g. ['write,delete', 'users:write,users:delete']. */
  wouldAllow: string[];
}

const ACTIONS: ReadonlySet<string> = new Set(['read', 'write', 'delete']);

/** `Organization Memberships`, `organization-memberships` and `organization_memberships` are one resource. */
export function normalizeResource(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function parseScopes(raw: string | undefined): ScopeSet {
  const grants: ScopeGrant[] = [];
  const unknown: string[] = [];
  for (const token of (raw ?? '').split(/[\s,]+/).filter(Boolean)) {
    const lower = token.toLowerCase();
    if (ACTIONS.has(lower)) {
      grants.push({ action: lower as ScopeAction, resource: null, text: token });
      continue;
    }
    const colon = lower.lastIndexOf(':');
    const action = lower.slice(colon + 1);
    const resource = normalizeResource(lower.slice(0, Math.max(colon, 0)));
    if (colon > 0 && ACTIONS.has(action) && resource !== '') {
      grants.push({ action: action as ScopeAction, resource, text: token });
    } else {
      unknown.push(token);
    }
  }
  return { grants, unknown };
}

export function isWriteMethod(method: string): boolean {
  const upper = method.toUpperCase();
  return upper === 'POST' || upper === 'PUT' || upper === 'PATCH' || upper === 'DELETE';
}

/** The actions a method needs: none for reads, `write` for writes, `write` and `delete` for DELETE. */
export function requiredActions(method: string): ScopeAction[] {
  const upper = method.toUpperCase();
  if (upper === 'DELETE') return ['write', 'delete'];
  return isWriteMethod(upper) ? ['write'] : [];
}

/** The resources an endpoint belongs to: its tags and the first segment of its path. */
export function endpointResources(endpoint: { path: string; tags: string[] }): string[] {
  const resources = new Set<string>();
  const first = endpoint.path.replace(/^\/+(v1\/+)?/, '').split('/')[0] ?? '';
  if (first !== '' && !first.startsWith('{')) resources.add(normalizeResource(first));
  for (const tag of endpoint.tags) {
    const normalized = normalizeResource(tag);
    if (normalized !== '') resources.add(normalized);
  }
  return [...resources];
}

export function checkScopes(scopes: ScopeSet, method: string, endpoint: { path: string; tags: string[] }): ScopeCheck {
  const needs = requiredActions(method);
  const resources = endpointResources(endpoint);
  const grantedBy: string[] = [];
  let ok = true;
  for (const action of needs) {
    const grant = scopes.grants.find(
      (g) => g.action === action && (g.resource === null || resources.includes(g.resource)),
    );
    if (grant) grantedBy.push(grant.text);
    else ok = false;
  }
  const wouldAllow: string[] = [];
  if (!ok) {
    wouldAllow.push(needs.join(','));
    const narrow = resources[0];
    if (narrow !== undefined) wouldAllow.push(needs.map((action) => `${narrow}:${action}`).join(','));
  }
  return { ok, needs, grantedBy, wouldAllow };
}
