import fs from 'node:fs';
import path from 'node:path';
import { DeadOwners } from './dead-owners.js';
import { listLogFiles } from './log-files.js';
import { currentIdentity, whileHoldingDeadSlot, type OwnerOptions, type ProcessIdentity, type SlotState } from './log-owner.js';
import type { LogSettings } from './settings.js';
import { LogSettingsError } from './settings.js';
import { readSidecarPositions, type ReadPosition } from './sidecar-positions.js';

/**
 * Which old log files go, and when. A file beyond `keepFiles` is deleted only once the sidecar has
 * read all of it (its tail DB says so for the file's inode); until then it stays, so a sidecar that
 * starts late, restarts or falls behind loses nothing. Only the volume budget overrides that: when
 * the files take more than `budgetBytes`, the oldest go even unread, and what was dropped unread is
 * counted and reported.
 *
 * The files of a dead writer (its slot held by no live process: dead-owners.ts) are swept too, or
 * a writer that never comes back (compose scaled down, a host renamed) would leave them for ever.
 * Its files beyond `keepFiles` go once read, as its own retention would have deleted them (and the
 * next holder of its slot deletes them first thing, before it reads anything). Its newest
 * `keepFiles` are what that next holder reads the run before it from (crash forensics), so they
 * stay `deadOwnerGraceMs` after the owner's last sign of life, then go once read. The budget counts
 * them and may take them first when they are the oldest. Those newest files are only deleted while
 * the slot is held for the deletion (log-owner.ts `whileHoldingDeadSlot`): a process taking that
 * slot back at the same moment either comes first (and they stay: a live writer's files) or waits
 * until the deletion is over. Files named before owners existed are left alone: nothing
 * tells whether their writer still runs.
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
  /**
   * How long a dead owner's newest `keepFiles` files stay for the next holder of its slot, from the
   * owner's last sign of life (its pid file's last touch, its newest file's last write). Default 1 h:
   * a crashed container is restarted well within it (Kubernetes backs off 5 min at most).
   */
  readonly deadOwnerGraceMs?: number;
}

export const DEFAULT_DEAD_OWNER_GRACE_MS = 60 * 60 * 1000;

export interface DroppedUnread {
  readonly file: string;
  readonly bytesUnread: number;
  readonly budgetBytes: number;
}

export interface SweepResult {
  /** Every file deleted, this writer's and dead owners'. */
  readonly deleted: string[];
  /** Files deleted because of the budget before the sidecar had read all of them. */
  readonly droppedUnread: DroppedUnread[];
  /** Files that may go once the sidecar has finished them (this writer's beyond keepFiles, dead owners'). */
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
  readonly owner: string | null;
  readonly size: number;
  readonly inode: number;
  readonly mtimeMs: number;
  /** 0 for the newest file of the directory (by date part, then sequence number). */
  readonly age: number;
}

function unreadBytes(file: Pick<FileOnDisk, 'path' | 'size' | 'inode'>, positions: Map<number, ReadPosition> | null): number {
  const position = positions?.get(file.inode);
  // The inode alone could be a deleted file's, reused: the name must match too.
  if (!position || path.basename(position.name) !== path.basename(file.path)) return file.size;
  return Math.max(0, file.size - position.offset);
}

/** Another writer's files, newest first, when no live process holds its slot. */
interface DeadOwner {
  readonly slot: SlotState;
  readonly files: FileOnDisk[];
  /** Its last sign of life: the later of its pid file's last touch and its newest file's last write. */
  readonly lastAliveMs: number;
}

export class Retention {
  private readonly me: ProcessIdentity;
  private readonly deadOwners: DeadOwners;
  private readonly graceMs: number;

  constructor(
    private readonly settings: Pick<LogSettings, 'dir' | 'file' | 'rotation'>,
    private readonly retention: RetentionSettings,
    owner: Pick<OwnerOptions, 'identity' | 'staleMs'> = {},
  ) {
    this.me = owner.identity ?? currentIdentity();
    this.deadOwners = new DeadOwners(settings.dir, settings.file.baseName, this.me, owner.staleMs ?? 5000);
    this.graceMs = retention.deadOwnerGraceMs ?? DEFAULT_DEAD_OWNER_GRACE_MS;
  }

  /**
   * Deletes what may go now of this writer's files and of dead writers' files (another live
   * writer's file, even one the sidecar has read to its end, may still be written). Never throws;
   * the file being written is never deleted.
   */
  async sweep(currentFile: string | null, owner: string): Promise<SweepResult> {
    const files = this.filesOnDisk();
    const current = currentFile ? path.resolve(currentFile) : null;
    const own = files.filter((f) => f.owner === owner);
    const ownOld = own.filter((f) => path.resolve(f.path) !== current);
    const keepOld = Math.max(0, this.settings.rotation.keepFiles - 1);
    const dead = this.findDeadOwners(files, owner);

    // What may go once the sidecar has read it: this writer's files beyond keepFiles; a dead
    // owner's beyond keepFiles, and its newest ones too once the grace is over.
    const onceRead = new Set<FileOnDisk>(ownOld.slice(keepOld));
    const now = Date.now();
    for (const d of dead.values()) {
      const graceOver = now - d.lastAliveMs >= this.graceMs;
      for (const f of graceOver ? d.files : d.files.slice(this.settings.rotation.keepFiles)) onceRead.add(f);
    }
    // The budget: this writer's files and dead owners', oldest first; never the file being written.
    const counted = [...own, ...[...dead.values()].flatMap((d) => d.files)];
    const budgetPool = counted.filter((f) => path.resolve(f.path) !== current).sort((a, b) => b.age - a.age);
    const deleted: string[] = [];
    const droppedUnread: DroppedUnread[] = [];
    if (onceRead.size === 0 && this.total(counted) <= this.retention.budgetBytes) return { deleted, droppedUnread, waiting: 0 };

    const positions = this.retention.waitForSidecar ? await readSidecarPositions(this.retention.sidecarDb) : null;
    const isRead = (f: FileOnDisk): boolean => !this.retention.waitForSidecar || unreadBytes(f, positions) === 0;
    const remaining = new Set(counted);
    const chosen = new Set<FileOnDisk>();
    for (const f of onceRead) {
      if (isRead(f)) {
        chosen.add(f);
        remaining.delete(f);
      }
    }
    const forced = new Set<FileOnDisk>();
    for (const f of budgetPool) {
      if (this.total(remaining) <= this.retention.budgetBytes) break;
      if (chosen.has(f)) continue;
      chosen.add(f);
      forced.add(f);
      remaining.delete(f);
    }

    // Deleting: this writer's files at once (its slot is held); each dead owner's while holding its slot.
    const remove = (f: FileOnDisk): void => {
      const fresh = this.restat(f);
      if (!fresh) return; // gone meanwhile
      const unread = this.retention.waitForSidecar ? unreadBytes(fresh, positions) : 0;
      if (!forced.has(f) && unread > 0) return; // written to since it was judged read
      try {
        fs.unlinkSync(f.path);
      } catch {
        return;
      }
      deleted.push(f.path);
      if (unread > 0) droppedUnread.push({ file: f.path, bytesUnread: unread, budgetBytes: this.retention.budgetBytes });
    };
    for (const f of [...own].reverse()) if (chosen.has(f)) remove(f); // oldest first
    for (const [name, d] of dead) {
      const keep = this.settings.rotation.keepFiles;
      // Beyond its newest keepFiles: nobody reads these again (the slot's next holder deletes them
      // first thing), and nobody writes them (a writer appends to its newest file): no need to hold the slot.
      d.files.slice(keep).filter((f) => chosen.has(f)).reverse().forEach(remove);
      // Its newest files: only while holding the slot. If it was taken meanwhile (a restart of that
      // writer), they are a live writer's again, and stay.
      const newest = d.files.slice(0, keep).filter((f) => chosen.has(f)).reverse();
      if (newest.length > 0) whileHoldingDeadSlot(d.slot, name, this.me, () => newest.forEach(remove));
    }
    const gone = new Set(deleted);
    const waiting = [...onceRead].filter((f) => !gone.has(f.path)).length;
    return { deleted, droppedUnread, waiting };
  }

  /** Every log file of the directory with its size, inode and age. */
  private filesOnDisk(): FileOnDisk[] {
    const files: FileOnDisk[] = [];
    for (const [age, f] of listLogFiles(this.settings).entries()) {
      try {
        const stat = fs.statSync(f.path);
        files.push({ path: f.path, owner: f.owner, size: stat.size, inode: stat.ino, mtimeMs: stat.mtimeMs, age });
      } catch {
        // gone meanwhile
      }
    }
    return files;
  }

  /** Other writers with files whose slot no live process holds. */
  private findDeadOwners(files: FileOnDisk[], owner: string): Map<string, DeadOwner> {
    const byOwner = new Map<string, FileOnDisk[]>();
    for (const f of files) {
      if (f.owner === null || f.owner === owner) continue;
      byOwner.set(f.owner, [...(byOwner.get(f.owner) ?? []), f]);
    }
    this.deadOwners.keepOnly(new Set(byOwner.keys()));
    const dead = new Map<string, DeadOwner>();
    for (const [name, owned] of byOwner) {
      const slot = this.deadOwners.slotIfDead(name);
      if (!slot) continue;
      const lastAliveMs = Math.max(slot.seen?.mtimeMs ?? 0, ...owned.map((f) => f.mtimeMs));
      dead.set(name, { slot, files: owned, lastAliveMs });
    }
    return dead;
  }

  private restat(f: FileOnDisk): Pick<FileOnDisk, 'path' | 'size' | 'inode'> | null {
    try {
      const stat = fs.statSync(f.path);
      return stat.ino === f.inode ? { path: f.path, size: stat.size, inode: stat.ino } : null;
    } catch {
      return null;
    }
  }

  private total(files: Iterable<FileOnDisk>): number {
    let sum = 0;
    for (const f of files) sum += f.size;
    return sum;
  }
}
