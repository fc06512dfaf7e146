import fs from 'node:fs';

/** The container's memory limit and OOM-kill count, read from the cgroup (v2, then v1). */

const V2_MAX = '/sys/fs/cgroup/memory.max';
const V1_LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
const V2_EVENTS = '/sys/fs/cgroup/memory.events';
const V1_OOM_CONTROL = '/sys/fs/cgroup/memory/memory.oom_control';

export interface MemoryLimit {
  bytes: number | null;
  /** Where the limit came from. */
  source: 'cgroup-v2' | 'cgroup-v1' | 'MEMORY_LIMIT_MB' | 'none';
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** A v1 "no limit" is a huge number near 2^63 rounded to the page size. */
const UNLIMITED_V1 = 2 ** 60;

export function readMemoryLimit(override: number | null, root = ''): MemoryLimit {
  const v2 = read(`${root}${V2_MAX}`);
  if (v2 !== null && v2 !== 'max' && /^\d+$/.test(v2)) return { bytes: Number(v2), source: 'cgroup-v2' };
  const v1 = read(`${root}${V1_LIMIT}`);
  if (v1 !== null && /^\d+$/.test(v1) && Number(v1) < UNLIMITED_V1) return { bytes: Number(v1), source: 'cgroup-v1' };
  if (override !== null) return { bytes: override, source: 'MEMORY_LIMIT_MB' };
  return { bytes: null, source: 'none' };
}

/** How many times the kernel OOM-killed a process in this cgroup, or null where not visible. */
export function readOomKillCount(root = ''): number | null {
  for (const file of [`${root}${V2_EVENTS}`, `${root}${V1_OOM_CONTROL}`]) {
    const text = read(file);
    const match = text ? /^oom_kill (\d+)$/m.exec(text) : null;
    if (match) return Number(match[1]);
  }
  return null;
}
