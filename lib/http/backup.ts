// Before a DELETE, the resource's last state is saved in the state directory's backups, so a delete
// never loses what it removed.
import { join } from 'node:path';
import { stateSubdir, writePrivateFile } from '../core/state-dir.js';

export interface Backup {
  saved_at: string;
  /** The concrete path that was fetched, e.g. /v1/users/user_1 */
  path: string;
  /** The spec's template of the GET, e.g. /users/{user_id} */
  endpoint: string | null;
  api_version: string | null;
  status: number;
  clerk_trace_id: string | null;
  /** The resource as Clerk returned it. */
  resource: unknown;
}

/** `2025-01-02T03-04-05.678Z_users_user_1.json`: sortable by time, readable by path. */
export function backupFileName(path: string, at: Date): string {
  const slug = path
    .replace(/^\/+(v1\/+)?/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 120);
  return `${at.toISOString().replace(/:/g, '-')}_${slug || 'root'}.json`;
}

/** Writes the backup (0600, atomically) and returns its file name. */
export function saveBackup(stateDir: string, backup: Backup): string {
  const dir = stateSubdir(stateDir, 'backups');
  const file = join(dir, backupFileName(backup.path, new Date(backup.saved_at)));
  writePrivateFile(file, `${JSON.stringify(backup, null, 2)}\n`);
  return file;
}
