/**
 * A CPU limit for the benchmark's sidecar, as the pod gives it (`resources.limits.cpu`): a cgroup
 * whose CFS quota is `millicores` per 100 ms period (cgroup v2's cpu.max, or v1's cpu controller).
 * Needs a writable cgroup filesystem (root, outside a container that hides it).
 */
import fs from 'node:fs';
import path from 'node:path';

const PERIOD_US = 100_000;

export function createCpuLimit(millicores: number): { dir: string; remove(): void } {
  if (!Number.isInteger(millicores) || millicores <= 0) throw new Error(`SIDECAR_CPU_MILLICORES must be a whole number > 0, got ${millicores}`);
  const quota = Math.round((millicores / 1000) * PERIOD_US);
  const name = `guitar-backend-bench-${process.pid}`;
  const v2 = '/sys/fs/cgroup/cgroup.controllers';
  let dir: string;
  if (fs.existsSync(v2) && fs.readFileSync(v2, 'utf8').split(/\s+/).includes('cpu')) {
    dir = path.join('/sys/fs/cgroup', name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
  } else if (fs.existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')) {
    dir = path.join('/sys/fs/cgroup/cpu', name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
  } else {
    throw new Error('no writable cgroup cpu controller (cgroup v2 /sys/fs/cgroup/cpu.max or v1 /sys/fs/cgroup/cpu)');
  }
  return {
    dir,
    remove: () => {
      try {
        fs.rmdirSync(dir);
      } catch {
        // a process still in it: the kernel keeps the group until it is empty
      }
    },
  };
}
