/**
 * A memory cgroup for the guard benchmark: the service runs in it as in a container with a memory
 * limit, and its peak is read from the kernel's own account (cgroup v2 memory.peak, v1
 * memory.max_usage_in_bytes), which is what the OOM killer judges. Needs a writable cgroup
 * filesystem (root, outside a container that hides it).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface MemoryCgroup {
  dir: string;
  /** The highest usage so far, in bytes. */
  peakBytes(): number;
  /** Processes the kernel OOM-killed in it. */
  oomKills(): number;
  remove(): void;
}

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/memory';

const readNumber = (file: string): number => Number(fs.readFileSync(file, 'utf8').trim());
const oomKillsIn = (file: string): number => Number(/^oom_kill (\d+)/m.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? 0);

/** Why no memory cgroup can be made here, or null when one can. */
export function memoryCgroupUnavailable(): string | null {
  const v2 = path.join(V2_ROOT, 'cgroup.controllers');
  if (fs.existsSync(v2) && fs.readFileSync(v2, 'utf8').split(/\s+/).includes('memory')) return canWrite(V2_ROOT);
  if (fs.existsSync(path.join(V1_ROOT, 'memory.limit_in_bytes'))) return canWrite(V1_ROOT);
  return 'no cgroup memory controller is mounted (cgroup v2 with memory, or v1 at /sys/fs/cgroup/memory)';
}

function canWrite(root: string): string | null {
  try {
    fs.accessSync(root, fs.constants.W_OK);
    return null;
  } catch {
    return `cannot create a cgroup under ${root} (run as root, on a host or a privileged container)`;
  }
}

export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const v2 = fs.existsSync(path.join(V2_ROOT, 'cgroup.controllers'));
  const dir = path.join(v2 ? V2_ROOT : V1_ROOT, name);
  fs.mkdirSync(dir);
  if (v2) {
    fs.writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
    fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  } else {
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    try {
      fs.writeFileSync(path.join(dir, 'memory.swappiness'), '0');
    } catch {
      // not settable on every kernel
    }
  }
  return {
    dir,
    peakBytes: () => readNumber(path.join(dir, v2 ? 'memory.peak' : 'memory.max_usage_in_bytes')),
    oomKills: () => oomKillsIn(path.join(dir, v2 ? 'memory.events' : 'memory.oom_control')),
    remove: () => {
      try {
        fs.rmdirSync(dir);
      } catch {
        // still has a process: the kernel keeps it until it is empty
      }
    },
  };
}
