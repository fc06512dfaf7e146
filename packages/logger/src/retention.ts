import fs from 'node:fs';
import path from 'node:path';
import { listLogFiles } from './log-files.js';
import type { LogSettings } from './settings.js';
import { LogSettingsError } from './settings.js';
import { readSidecarPositions, type ReadPosition } from './sidecar-positions.js';

/**
 * Which old log files go, and when. A file beyond `keepFiles` is deleted only once the sidecar has
 * read all of it (its tail DB says so for the file's inode); until then it stays, so a sidecar that
 * starts late, restarts or falls behind loses nothing. Only the volume budget overrides that: when
 * the files take more than `budgetBytes`, the oldest go even unread, and what was dropped unread is
 * counted and reported.
 */

/** The sidecar's tail position DB on the shared volume; no trailing digits, so pino-roll never takes it for a log file. */
export const SIDECAR_TAIL_DB = 'fluent-bit-tail.db';
/** The sidecar's filesystem buffer (`storage.path`) on the shared volume. */
export const SIDECAR_STORAGE_DIR = 'fluent-bit-storage';
/** Share of the log volume (LOG_VOLUME_MB) the log files may take; the rest is for the sidecar's buffer and DB. */
export const LOG_FILES_SHARE_OF_VOLUME = 0.5;
/** Budget without LOG_VOLUME_MB: this many full files. */
export const DEFAULT_BUDGET_FILES = 20;

export interface RetentionSettings {
  /** Wait for the sidecar before deleting (its DB at `sidecarDb`); off: keep `keepFiles` and delete the rest at once. */
  readonly waitForSidecar: boolean;
  readonly sidecarDb: string;
  /** Bytes all log files may take together; past it the oldest are deleted even unread. */
  readonly budgetBytes: number;
}

export interface DroppedUnread {
  readonly file: string;
  readonly bytesUnread: number;
  readonly budgetBytes: number;
}

export interface SweepResult {
  readonly deleted: string[];
  /** Files deleted because of the budget before the sidecar had read all of them. */
  readonly droppedUnread: DroppedUnread[];
  /** Files beyond keepFiles kept because the sidecar has not finished them. */
  readonly waiting: number;
}

/**
 * LOG_WAIT_FOR_SIDECAR (on|off, default off: no sidecar outside a pod), LOG_VOLUME_MB (the shared
 * volume's size, e.g. the emptyDir sizeLimit; the files may take half of it; default: room for 20
 * full files).
 */
export function resolveRetentionSettings(settings: LogSettings, env: NodeJS.ProcessEnv = process.env): RetentionSettings {
  const wait = (env.LOG_WAIT_FOR_SIDECAR ?? '').trim().toLowerCase();
  if (!['', 'on', 'off', 'true', 'false', '1', '0'].includes(wait)) {
    throw new LogSettingsError(`LOG_WAIT_FOR_SIDECAR must be on or off, got ${JSON.stringify(env.LOG_WAIT_FOR_SIDECAR)}`);
  }
  const volumeRaw = (env.LOG_VOLUME_MB ?? '').trim();
  let budgetBytes = DEFAULT_BUDGET_FILES * settings.rotation.maxFileBytes;
  if (volumeRaw !== '') {
    const mb = Number(volumeRaw);
    if (!Number.isInteger(mb) || mb < 1) throw new LogSettingsError(`LOG_VOLUME_MB must be a whole number ≥ 1, got ${JSON.stringify(volumeRaw)}`);
    budgetBytes = Math.floor(mb * 1024 * 1024 * LOG_FILES_SHARE_OF_VOLUME);
  }
  return {
    waitForSidecar: ['on', 'true', '1'].includes(wait),
    sidecarDb: path.join(settings.dir, SIDECAR_TAIL_DB),
    budgetBytes,
  };
}

interface FileOnDisk {
  readonly path: string;
  readonly size: number;
  readonly inode: number;
}

function unreadBytes(file: FileOnDisk, positions: Map<number, ReadPosition> | null): number {
  const position = positions?.get(file.inode);
  // The inode alone could be a deleted file's, reused: the name must match too.
  if (!position || path.basename(position.name) !== path.basename(file.path)) return file.size;
  return Math.max(0, file.size - position.offset);
}

export class Retention {
  constructor(
    private readonly settings: Pick<LogSettings, 'dir' | 'file' | 'rotation'>,
    private readonly retention: RetentionSettings,
  ) {}

  /**
   * Deletes what may go now of one writer's files (another live writer's file, even one the sidecar
   * has read to its end, may still be written). Never throws; the file being written is never deleted.
   */
  async sweep(currentFile: string | null, owner: string): Promise<SweepResult> {
    const files: FileOnDisk[] = [];
    for (const f of listLogFiles(this.settings, { owner })) {
      try {
        const stat = fs.statSync(f.path);
        files.push({ path: f.path, size: stat.size, inode: stat.ino });
      } catch {
        // gone meanwhile
      }
    }
    const current = currentFile ? path.resolve(currentFile) : null;
    const old = files.filter((f) => path.resolve(f.path) !== current); // newest first
    const keepOld = Math.max(0, this.settings.rotation.keepFiles - 1);
    const deleted: string[] = [];
    const droppedUnread: DroppedUnread[] = [];
    if (old.length <= keepOld && this.total(files) <= this.retention.budgetBytes) return { deleted, droppedUnread, waiting: 0 };

    const positions = this.retention.waitForSidecar ? await readSidecarPositions(this.retention.sidecarDb) : null;
    const remove = (f: FileOnDisk): boolean => {
      try {
        fs.unlinkSync(f.path);
        deleted.push(f.path);
        return true;
      } catch {
        return false;
      }
    };
    const remaining = new Set(files);
    // Beyond keepFiles: delete what the sidecar has finished (or everything, without a sidecar).
    for (const f of old.slice(keepOld)) {
      if ((!this.retention.waitForSidecar || unreadBytes(f, positions) === 0) && remove(f)) remaining.delete(f);
    }
    // The budget: oldest first, read or not; the file being written stays.
    for (const f of [...old].reverse()) {
      if (this.total(remaining) <= this.retention.budgetBytes) break;
      if (!remaining.has(f)) continue;
      const unread = this.retention.waitForSidecar ? unreadBytes(f, positions) : 0;
      if (remove(f)) {
        remaining.delete(f);
        if (unread > 0) droppedUnread.push({ file: f.path, bytesUnread: unread, budgetBytes: this.retention.budgetBytes });
      }
    }
    const waiting = old.slice(keepOld).filter((f) => remaining.has(f)).length;
    return { deleted, droppedUnread, waiting };
  }

  private total(files: Iterable<FileOnDisk>): number {
    let sum = 0;
    for (const f of files) sum += f.size;
    return sum;
  }
}
