import fs from 'node:fs';

/** The container's memory limit and OOM-kill count, read from the cgroup (v2, then v1). */

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/memory';

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

/**
 * The directories that may hold this process's memory cgroup files, most specific first: its own
 * cgroup path from /proc/self/cgroup (on a host), then the mount root (in a container, where the
 * cgroup namespace makes the root its own cgroup).
 */
function cgroupDirs(root: string): { v2: string[]; v1: string[] } {
  const v2 = [`${root}${V2_ROOT}`];
  const v1 = [`${root}${V1_ROOT}`];
  const self = read(`${root}/proc/self/cgroup`) ?? '';
  for (const line of self.split('\n')) {
    const [, controllers = '', where = ''] = line.split(':');
    if (where === '' || where === '/') continue;
    if (controllers === '' && line.startsWith('0::')) v2.unshift(`${root}${V2_ROOT}${where}`);
    if (controllers.split(',').includes('memory')) v1.unshift(`${root}${V1_ROOT}${where}`);
  }
  return { v2, v1 };
}

export function readMemoryLimit(override: number | null, root = ''): MemoryLimit {
  const dirs = cgroupDirs(root);
  for (const dir of dirs.v2) {
    const v2 = read(`${dir}/memory.max`);
    if (v2 === 'max') break;
    if (v2 !== null && /^\d+$/.test(v2)) return { bytes: Number(v2), source: 'cgroup-v2' };
  }
  for (const dir of dirs.v1) {
    const v1 = read(`${dir}/memory.limit_in_bytes`);
    if (v1 === null) continue;
    if (/^\d+$/.test(v1) && Number(v1) < UNLIMITED_V1) return { bytes: Number(v1), source: 'cgroup-v1' };
    break;
  }
  if (override !== null) return { bytes: override, source: 'MEMORY_LIMIT_MB' };
  return { bytes: null, source: 'none' };
}

/** How many times the kernel OOM-killed a process in this cgroup, or null where not visible. */
export function readOomKillCount(root = ''): number | null {
  const dirs = cgroupDirs(root);
  for (const file of [...dirs.v2.map((d) => `${d}/memory.events`), ...dirs.v1.map((d) => `${d}/memory.oom_control`)]) {
    const text = read(file);
    const match = text ? /^oom_kill (\d+)$/m.exec(text) : null;
    if (match) return Number(match[1]);
  }
  return null;
}
