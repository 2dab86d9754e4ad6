// A batch run's journal in the state directory: a sealed header, then one record per line before it
// leaves and once it is answered, so `--resume` sends only what never left. Every record is sealed
// and chained (each seal covers the one before), and a sealed tip beside the journal holds the
// number of records and the last seal: a journal edited, reordered or cut short (`head -1 J > J`
// after a finished run would otherwise replay it) is refused.
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { JournalRefusedError } from '../core/errors.js';
import { isAlive } from '../core/lock.js';
import { stateSubdir, writePrivateFile } from '../core/state-dir.js';
import { crypto } from '../core/builtins.js';

export const JOURNAL_FORMAT = 2;

export interface JournalHeader {
  journal: number;
  digest: string;
  approval_id: string | null;
  key_fingerprint: string;
  origin: string;
  version: string;
  spec_digest: string;
  lines: number;
  source: string;
  started_at: string;
}

export interface JournalState {
  header: JournalHeader;
  /** Lines that left and were answered (or failed for certain), with what came back. */
  done: Map<number, { status: number | null; trace: string | null; ok: boolean; error?: string }>;
  /** Lines recorded as leaving with no outcome after: their fate is unknown. */
  inFlight: Set<number>;
  finished: boolean;
}

/** An HMAC over a record (canonical JSON), under a secret the caller holds. */
export type Sealer = (record: unknown) => string;

export function journalDir(stateDir: string): string {
  return stateSubdir(stateDir, 'batches');
}

export function journalPath(stateDir: string, digest: string): string {
  return join(journalDir(stateDir), `${digest.replace(/^sha256:/, '').slice(0, 40)}.journal`);
}

const tipPath = (path: string) => `${path}.tip`;

function sealsMatch(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string' || !/^[0-9a-f]{64}$/.test(actual)) return false;
  return crypto().timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(actual, 'hex'));
}

function refuse(path: string, why: string): never {
  throw new JournalRefusedError(`the batch journal ${path} ${why}; refusing to resume from it`, {
    hints: ['Put the lines that are left in a new batch, and have it checked and approved again (bapi-guard --batch).'],
  });
}

/**
 * A journal as written so far, its chain and tip checked; null when there is none. A torn last line
 * (the process died writing it) is ignored; anything else out of place refuses the journal.
 */
export function readJournal(path: string, seal: Sealer): JournalState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const rows = text.split('\n').filter((row) => row.trim() !== '');
  let header: JournalHeader | null = null;
  const done: JournalState['done'] = new Map();
  const inFlight = new Set<number>();
  let finished = false;
  let previous = '';
  const seals: string[] = [];
  for (const [index, row] of rows.entries()) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(row) as Record<string, unknown>;
    } catch {
      if (index === rows.length - 1) break;
      refuse(path, `has a damaged record at line ${index + 1}`);
    }
    const { mac, ...rest } = record;
    if (!sealsMatch(seal({ previous, record: rest }), mac)) refuse(path, index === 0 ? 'was modified or is not one of ours' : `was modified at line ${index + 1}`);
    previous = mac as string;
    seals.push(previous);
    if (header === null) {
      if (rest.journal !== JOURNAL_FORMAT) refuse(path, 'is of another format');
      header = rest as unknown as JournalHeader;
      continue;
    }
    const line = Number(rest.line);
    if (rest.state === 'sending') inFlight.add(line);
    else if (rest.state === 'done') {
      inFlight.delete(line);
      done.set(line, { status: typeof rest.status === 'number' ? rest.status : null, trace: typeof rest.trace === 'string' ? rest.trace : null, ok: rest.ok === true, ...(typeof rest.error === 'string' ? { error: rest.error } : {}) });
    } else if (rest.state === 'finished') finished = true;
  }
  if (header === null) return null;
  // The tip is rewritten after each record: the journal holds at least as many records, ending in the same chain.
  let tip: Record<string, unknown>;
  try {
    tip = JSON.parse(readFileSync(tipPath(path), 'utf8')) as Record<string, unknown>;
  } catch {
    refuse(path, 'has lost its sealed record count');
  }
  const { mac: tipMac, ...tipRest } = tip;
  if (!sealsMatch(seal({ tip: tipRest }), tipMac)) refuse(path, 'has a modified record count');
  const count = Number(tipRest.records);
  if (!Number.isSafeInteger(count) || count < 1 || count > seals.length) refuse(path, `was cut short (${seals.length} of ${tipRest.records} sealed records)`);
  if (seals[count - 1] !== tipRest.last) refuse(path, 'does not end in its sealed chain');
  return { header, done, inFlight, finished };
}

/** Appends sealed, chained records: one write per record on an O_APPEND descriptor, then the tip. */
export class Journal {
  private fd: number;
  private constructor(readonly path: string, private readonly seal: Sealer, private last: string, private records: number) {
    this.fd = openSync(path, 'a', 0o600);
  }

  /** A new journal at `path` (an old one there is replaced): its header written and sealed. */
  static create(path: string, header: JournalHeader, seal: Sealer): Journal {
    writePrivateFile(path, '');
    rmSync(tipPath(path), { force: true });
    const journal = new Journal(path, seal, '', 0);
    journal.record(header as unknown as Record<string, unknown>);
    return journal;
  }

  /** The journal at `path`, to go on with after readJournal accepted it. */
  static continue(path: string, seal: Sealer): Journal {
    const rows = readFileSync(path, 'utf8').split('\n').filter((row) => row.trim() !== '');
    let last = '';
    let records = 0;
    for (const row of rows) {
      try {
        last = (JSON.parse(row) as { mac: string }).mac;
        records++;
      } catch {
        // the torn last line readJournal ignored: the next record follows the last whole one
      }
    }
    // A torn tail is cut off, so the next record starts on a line of its own.
    const whole = rows.slice(0, records).map((row) => `${row}\n`).join('');
    if (whole.length !== readFileSync(path, 'utf8').length) writePrivateFile(path, whole);
    return new Journal(path, seal, last, records);
  }

  record(record: Record<string, unknown>): void {
    const mac = this.seal({ previous: this.last, record });
    writeSync(this.fd, `${JSON.stringify({ ...record, mac })}\n`);
    this.last = mac;
    this.records++;
    const tip = { records: this.records, last: mac };
    writePrivateFile(tipPath(this.path), JSON.stringify({ ...tip, mac: this.seal({ tip }) }));
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** One run of a batch at a time: a lock file with the runner's PID, taken over when that process is gone. */
export function lockRun(path: string): () => void {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let text = '';
      let age = 0;
      try {
        text = readFileSync(lock, 'utf8').trim();
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      const pid = Number(text);
      // No PID yet: its holder is between creating the file and writing it, unless that was long ago.
      const alive = Number.isSafeInteger(pid) && pid > 0 ? isAlive(pid) : text === '' && age < 5000;
      if (alive) throw new JournalRefusedError(`this batch is being run by another process (PID ${text || 'starting'}); nothing was sent`, { hints: ['Wait for it to finish, or stop it and run with --resume.'] });
      rmSync(lock, { force: true });
    }
  }
  throw new JournalRefusedError(`cannot lock the batch journal ${path}`);
}

/** An unfinished journal whose run came from the same file name, for a clearer refusal of a changed file. */
export function unfinishedJournalFor(stateDir: string, source: string, seal: Sealer): string | null {
  if (source === 'stdin') return null;
  let names: string[];
  try {
    names = readdirSync(journalDir(stateDir)).filter((n) => n.endsWith('.journal'));
  } catch {
    return null;
  }
  for (const name of names) {
    try {
      const state = readJournal(join(journalDir(stateDir), name), seal);
      if (state && !state.finished && state.header.source === source) return join(journalDir(stateDir), name);
    } catch {
      // not ours: not the one
    }
  }
  return null;
}
