import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Which files of a shared log directory are this process's own.
 *
 * Several instances may write into one directory (compose `--scale` on one volume, two processes
 * started by mistake). Each writes only files named after its *owner*, `<host>_<slot>`: the host
 * name (so containers never compete, whatever their pids) and the lowest slot no live process of
 * that host holds. A slot is held through a pid file, `<base>.<owner>.pid`, created atomically
 * (a hard link, which fails if the name exists) and touched every second. A restart of the same
 * container (same host name) takes the same slot back from its dead predecessor, and so finds
 * that run's files: the crash forensics reads the owner's files only.
 *
 * A holder is alive when, in this process's pid namespace, its pid still runs with the same start
 * time (/proc/<pid>/stat), or, when it lives in another pid namespace (a restarted container has a
 * new one; so does a sibling container sharing the host's name), when its pid file keeps being
 * touched: a holder whose file was not touched for `staleMs` is dead.
 */

export interface OwnerOptions {
  /** Touch interval of the pid file (default 1 s). */
  heartbeatMs?: number;
  /** A pid file in another pid namespace not touched for this long belongs to a dead process (default 5 s). */
  staleMs?: number;
  /** At most this many slots per host (default 64). */
  maxSlots?: number;
  /** The process identity (tests simulate other hosts and namespaces with it). */
  identity?: ProcessIdentity;
}

export interface ProcessIdentity {
  hostname: string;
  pid: number;
  /** `pid:[4026531836]` from /proc/self/ns/pid, or null where there is none. */
  pidNamespace: string | null;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null. */
  startTicks: string | null;
}

/** What a pid file holds. */
export interface OwnerRecord {
  owner: string;
  hostname: string;
  pid: number;
  pid_namespace: string | null;
  start_ticks: string | null;
  /** Random: tells this holder's file from a later holder's. */
  claim: string;
  since: string;
}

export interface LogOwner {
  /** `<host>_<slot>`: the part of the file names that is this process's own. */
  readonly name: string;
  readonly pidFile: string;
  /** Stops touching the pid file and removes it (if it is still this process's). */
  release(): void;
}

/** Fields 3 onwards of /proc/<pid>/stat, or null where there is no /proc. */
function procStat(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function readStartTicks(pid: number): string | null {
  return procStat(pid)?.[19] ?? null; // field 22 overall
}

function readPidNamespace(): string | null {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

export function currentIdentity(): ProcessIdentity {
  return { hostname: os.hostname(), pid: process.pid, pidNamespace: readPidNamespace(), startTicks: readStartTicks(process.pid) };
}

/** The host part of an owner: [a-z0-9-] only; a name that had to be changed carries a short hash of the real one, so two hosts never share. */
export function ownerHost(hostname: string): string {
  const lower = hostname.toLowerCase();
  const safe = lower.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'host';
  return safe === lower ? safe : `${safe}-${crypto.createHash('sha256').update(hostname).digest('hex').slice(0, 8)}`;
}

export type Verdict = 'alive' | 'dead' | 'unsure';

/** Claims held by loggers of this process (two loggers of one process on one directory are two writers). */
const heldHere = new Set<string>();

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Is the holder of a pid file still running? `unsure` when only its heartbeat can tell: in another
 * pid namespace, or on another host (a pid namespace's id is only unique on one machine: every
 * machine's first namespace is `pid:[4026531836]`).
 */
function judge(record: OwnerRecord | null, me: ProcessIdentity): Verdict {
  if (!record) return 'unsure'; // unreadable or being replaced: the heartbeat tells
  if (record.hostname !== me.hostname) return 'unsure';
  if (record.pid_namespace !== null && me.pidNamespace !== null && record.pid_namespace !== me.pidNamespace) return 'unsure';
  if (record.pid === me.pid) return heldHere.has(record.claim) ? 'alive' : 'dead'; // else an earlier process that had this pid
  if (!processRuns(record.pid)) return 'dead';
  const stat = procStat(record.pid);
  if (stat?.[0] === 'Z') return 'dead'; // killed, not yet reaped
  if (record.start_ticks !== null && stat?.[19] !== undefined && stat[19] !== record.start_ticks) return 'dead'; // the pid was reused
  return 'alive';
}

function parseRecord(text: string): OwnerRecord | null {
  try {
    const value = JSON.parse(text) as Partial<OwnerRecord>;
    return typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.claim === 'string'
      ? { owner: String(value.owner), hostname: value.hostname, pid: value.pid, pid_namespace: value.pid_namespace ?? null, start_ticks: value.start_ticks ?? null, claim: value.claim, since: String(value.since) }
      : null;
  } catch {
    return null;
  }
}

function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Creates `file` with `content` only if no file of that name exists; true when created. */
function createExclusive(file: string, content: string): boolean {
  const temporary = `${file}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(temporary, content);
  try {
    fs.linkSync(temporary, file); // atomic, complete content, fails if the name exists
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create (the content lands a moment later).
    try {
      fs.writeFileSync(file, content, { flag: 'wx' });
      return true;
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw again;
    }
  } finally {
    unlinkQuietly(temporary);
  }
}

/**
 * Removes a dead holder's pid file, unless another process replaced or touched it meanwhile: the
 * file is moved aside (only one mover succeeds), and put back if what was moved is not what was
 * judged (its content, and its time when given).
 */
function removeDead(file: string, judged: string, judgedMtimeMs?: number): void {
  const aside = `${file}.${crypto.randomUUID()}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else moved it
  }
  let moved = '';
  let movedMtimeMs = judgedMtimeMs;
  try {
    moved = fs.readFileSync(aside, 'utf8');
    if (judgedMtimeMs !== undefined) movedMtimeMs = fs.statSync(aside).mtimeMs;
  } catch {
    // unreadable: treated as not the judged one
  }
  if (moved !== judged || movedMtimeMs !== judgedMtimeMs) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a newer holder is already there
    }
  }
  unlinkQuietly(aside);
}

function readQuietly(file: string): { text: string; mtimeMs: number } | null {
  try {
    return { text: fs.readFileSync(file, 'utf8'), mtimeMs: fs.statSync(file).mtimeMs };
  } catch {
    return null;
  }
}

/**
 * Only the heartbeat can tell: alive as soon as the pid file is touched (or replaced), dead once it
 * has not been for `staleMs`; `unsure` if it disappeared meanwhile.
 */
async function heartbeat(pidFile: string, seen: { text: string; mtimeMs: number }, heartbeatMs: number, staleMs: number): Promise<Verdict> {
  for (;;) {
    const left = seen.mtimeMs + staleMs - Date.now();
    if (left < 0) return 'dead';
    await sleep(Math.min(left + 50, heartbeatMs));
    const later = readQuietly(pidFile);
    if (!later) return 'unsure';
    if (later.text !== seen.text || later.mtimeMs !== seen.mtimeMs) return 'alive';
  }
}

/** What a slot's pid file says now, judged without waiting: `unsure` leaves it to the heartbeat; `seen` is null when there is no pid file. */
export interface SlotState {
  readonly pidFile: string;
  readonly seen: { text: string; mtimeMs: number } | null;
  readonly verdict: Verdict;
}

export function pidFileOf(dir: string, baseName: string, owner: string): string {
  return path.join(dir, `${baseName}.${owner}.pid`);
}

export function inspectSlot(dir: string, baseName: string, owner: string, me: ProcessIdentity = currentIdentity()): SlotState {
  const pidFile = pidFileOf(dir, baseName, owner);
  const seen = readQuietly(pidFile);
  return { pidFile, seen, verdict: seen ? judge(parseRecord(seen.text), me) : 'unsure' };
}

/** What a pid file says of the writer holding `owner`; `claim` tells this holding from any other. */
function ownerRecord(owner: string, me: ProcessIdentity): OwnerRecord {
  return {
    owner,
    hostname: me.hostname,
    pid: me.pid,
    pid_namespace: me.pidNamespace,
    start_ticks: me.startTicks,
    claim: crypto.randomUUID(),
    since: new Date().toISOString(),
  };
}

/**
 * Holds a slot no live process holds for as long as `use` runs (synchronously), then frees it: how
 * another writer's retention deletes a dead owner's files, so that a process claiming that slot at
 * the same moment either comes first (and the deletion is given up) or finds it held (in another
 * pid namespace it waits for the heartbeat, then takes the slot and what is left of its files).
 * `state` is the slot as found dead (its pid file's content and time, or none). False when the slot
 * is not in that state any more (taken meanwhile): `use` did not run.
 */
export function whileHoldingDeadSlot(state: SlotState, owner: string, me: ProcessIdentity, use: () => void): boolean {
  if (state.seen) removeDead(state.pidFile, state.seen.text, state.seen.mtimeMs);
  const record = ownerRecord(owner, me);
  let created: boolean;
  try {
    created = createExclusive(state.pidFile, `${JSON.stringify(record)}\n`);
  } catch {
    return false;
  }
  if (!created) return false;
  heldHere.add(record.claim);
  try {
    use();
  } finally {
    heldHere.delete(record.claim);
    const current = readQuietly(state.pidFile);
    if (current && parseRecord(current.text)?.claim === record.claim) unlinkQuietly(state.pidFile);
  }
  return true;
}

/** Takes the lowest free slot of this host in `dir` for files named `<baseName>.<owner>.…`. */
export async function claimLogOwner(dir: string, baseName: string, options: OwnerOptions = {}): Promise<LogOwner> {
  const me = options.identity ?? currentIdentity();
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const staleMs = options.staleMs ?? 5000;
  const maxSlots = options.maxSlots ?? 64;
  const host = ownerHost(me.hostname);
  for (let slot = 0; slot < maxSlots; slot++) {
    const name = `${host}_${slot}`;
    const pidFile = pidFileOf(dir, baseName, name);
    const record = ownerRecord(name, me);
    const content = `${JSON.stringify(record)}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createExclusive(pidFile, content)) return holdOwner(name, pidFile, record, content, heartbeatMs);
      const seen = readQuietly(pidFile);
      if (!seen) continue; // removed meanwhile: try again
      let verdict = judge(parseRecord(seen.text), me);
      if (verdict === 'unsure') verdict = await heartbeat(pidFile, seen, heartbeatMs, staleMs);
      if (verdict === 'unsure') continue; // removed meanwhile: try again
      if (verdict === 'alive') break; // next slot
      removeDead(pidFile, seen.text, seen.mtimeMs);
    }
  }
  throw new Error(`no free log slot for host ${me.hostname} in ${dir}: ${maxSlots} live writers hold them`);
}

function holdOwner(name: string, pidFile: string, record: OwnerRecord, content: string, heartbeatMs: number): LogOwner {
  const timer = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(pidFile, now, now);
    } catch {
      // The directory was removed (the destination recreates it): hold the slot again.
      try {
        createExclusive(pidFile, content);
      } catch {
        // not writable now: the next beat tries again
      }
    }
  }, heartbeatMs);
  timer.unref();
  heldHere.add(record.claim);
  let released = false;
  return {
    name,
    pidFile,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      heldHere.delete(record.claim);
      const current = readQuietly(pidFile);
      if (current && parseRecord(current.text)?.claim === record.claim) unlinkQuietly(pidFile);
    },
  };
}
