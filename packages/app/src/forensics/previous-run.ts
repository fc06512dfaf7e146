import fs from 'node:fs';
import { listLogFiles, type LogSettings } from '@guitar-backend/logger';

/**
 * Reads the records of the run before this one from the log directory — from this writer's own
 * files (its owner's), so that another instance sharing the directory, running or not, is never
 * taken for the previous run: newest file first, each
 * from its end backwards in chunks, within a byte budget — never a whole large file. Lines that are
 * not JSON records (a line cut by the kill, foreign text) are skipped.
 */

export type LogLine = Record<string, unknown> & { time?: string; event?: string; instance_id?: string; request_id?: string };

export interface PreviousRun {
  instanceId: string;
  /** Its records, oldest first, from its `service.start` (when found within the budget) to its last. */
  records: LogLine[];
  startRecord: LogLine | null;
  stopped: boolean;
  /** True when the budget ran out before its `service.start` was found. */
  partial: boolean;
}

export interface ReadOptions {
  /** The run writing now, whose records are ignored. */
  currentInstanceId: string;
  /**
   * The owner whose files are read (`logging.owner()`): the previous holder of this writer's slot.
   * Null when this writer has none (the directory could not be used): nothing is read. Undefined: every file.
   */
  owner?: string | null;
  /** Most bytes read in all (default 32 MiB). */
  maxBytes?: number;
  chunkBytes?: number;
}

/** Lines of one file, last first, read backwards; `budget.left` bytes at most. */
function* linesBackwards(file: string, budget: { left: number }, chunkBytes: number): Generator<string> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return;
  }
  try {
    let position = fs.fstatSync(fd).size;
    let carry = Buffer.alloc(0);
    while (position > 0 && budget.left > 0) {
      const size = Math.min(chunkBytes, position, budget.left);
      position -= size;
      budget.left -= size;
      const chunk = Buffer.alloc(size);
      fs.readSync(fd, chunk, 0, size, position);
      let buffer = Buffer.concat([chunk, carry]);
      let end = buffer.length;
      for (let i = buffer.length - 1; i >= 0; i--) {
        if (buffer[i] === 0x0a) {
          if (end > i + 1) yield buffer.subarray(i + 1, end).toString('utf8');
          end = i;
        }
      }
      carry = buffer.subarray(0, end);
      buffer = Buffer.alloc(0);
    }
    // The file's first line, when the whole file was read.
    if (position === 0 && carry.length > 0) yield carry.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function parse(line: string): LogLine | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as LogLine) : null;
  } catch {
    return null; // a line cut short by the kill, or not ours
  }
}

export function readPreviousRun(settings: Pick<LogSettings, 'dir' | 'file'>, options: ReadOptions): PreviousRun | null {
  const budget = { left: options.maxBytes ?? 32 * 1024 * 1024 };
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  let previous: string | null = null;
  const records: LogLine[] = [];
  let startRecord: LogLine | null = null;
  let stopped = false;
  if (options.owner === null) return null;
  for (const file of listLogFiles(settings, options.owner === undefined ? {} : { owner: options.owner })) {
    for (const line of linesBackwards(file.path, budget, chunkBytes)) {
      const record = parse(line);
      const id = record?.instance_id;
      if (!record || typeof id !== 'string' || id === options.currentInstanceId) continue;
      previous ??= id;
      if (id !== previous) continue; // an older run's line interleaved: not this one
      records.push(record);
      if (record.event === 'service.stop') stopped = true;
      if (record.event === 'service.start') {
        startRecord = record;
        return { instanceId: previous, records: records.reverse(), startRecord, stopped, partial: false };
      }
    }
    if (budget.left <= 0) break;
  }
  return previous ? { instanceId: previous, records: records.reverse(), startRecord, stopped, partial: true } : null;
}
