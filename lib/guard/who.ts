// Who or what a DELETE removes, in a person's words: read from the resource as the API returns it
// (a user's name and primary email, an organization's name and slug), for the confirmation prompt.
import { isObject } from '../core/values.js';

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

/** "Ada Lovelace <ada@example.com>", "Acme (acme)", or the resource's name; null when it names nothing. Pure. */
export function whoIs(resource: unknown): string | null {
  if (!isObject(resource)) return null;
  const name = [text(resource.first_name), text(resource.last_name)].filter((part) => part !== null).join(' ') || text(resource.name) || text(resource.username);
  const email = primaryEmail(resource) ?? text(resource.email_address) ?? text(resource.identifier);
  const slug = text(resource.slug);
  const parts = [name, email && name ? `<${email}>` : email, slug && name ? `(${slug})` : null].filter((part): part is string => typeof part === 'string' && part !== '');
  // Bounded: a name is the API's data, not ours to let fill the screen.
  return parts.length > 0 ? parts.join(' ').slice(0, 200) : null;
}

function primaryEmail(resource: Record<string, unknown>): string | null {
  const emails = Array.isArray(resource.email_addresses) ? resource.email_addresses.filter(isObject) : [];
  const primary = emails.find((email) => email.id !== undefined && email.id === resource.primary_email_address_id) ?? emails[0];
  return primary ? text(primary.email_address) : null;
}
