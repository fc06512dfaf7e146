import fs from 'node:fs';
import path from 'node:path';
import type { LogSettings } from './settings.js';

export interface LogFile {
  path: string;
  name: string;
  /** The writer the file belongs to (`<host>_<slot>`), or null for a file named before owners existed. */
  owner: string | null;
  /** Date part of the name when rotating by time, else null. */
  date: string | null;
  sequence: number;
}

/** Parses a file name by the contract; null for anything the logger did not write. */
export function parseLogFileName(name: string, settings: Pick<LogSettings, 'file'>): Omit<LogFile, 'path'> | null {
  const groups = settings.file.pattern.exec(name)?.groups;
  if (!groups) return null;
  return { name, owner: groups.owner ?? null, date: groups.date ?? null, sequence: Number(groups.sequence) };
}

/**
 * The log files in the directory, newest first (by date part, then sequence number), of every
 * owner or, with `owner`, of that one only. Symlinks, directories and foreign files are left out.
 * An unreadable or missing directory gives [].
 */
export function listLogFiles(settings: Pick<LogSettings, 'dir' | 'file'>, filter: { owner?: string } = {}): LogFile[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(settings.dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: LogFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const parsed = parseLogFileName(entry.name, settings);
    if (parsed && (filter.owner === undefined || parsed.owner === filter.owner)) files.push({ ...parsed, path: path.join(settings.dir, entry.name) });
  }
  return files.sort((a, b) => {
    const byDate = (b.date ?? '').localeCompare(a.date ?? '');
    return byDate !== 0 ? byDate : b.sequence - a.sequence;
  });
}
