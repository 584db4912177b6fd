/**
 * The CPU a container may use, from its cgroup's CPU quota. In a pod, `os.availableParallelism()`
 * reports the node's cores (64 on a big node), while the container is limited by
 * `resources.limits.cpu` through the CFS quota: starting one worker per node core would start
 * 64 workers of ~76 MB each on a 1-CPU pod.
 *
 *   cgroup v2: <root>/cpu.max holds "<quota> <period>" or "max <period>" (no limit)
 *   cgroup v1: <root>/cpu/cpu.cfs_quota_us (-1: no limit) and <root>/cpu/cpu.cfs_period_us
 *
 * Inside a container the cgroup namespace puts the container's own cgroup at /sys/fs/cgroup.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/** A CFS quota: `quotaUs` of CPU time every `periodUs`. */
export interface CpuQuota {
  quotaUs: number;
  periodUs: number;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 ? n : undefined;
}

/**
 * The container's CPU quota under the cgroup mount `root`, or undefined when there is none
 * (no files, "max", -1, or text that is not a quota).
 */
export function readCpuQuota(root = '/sys/fs/cgroup'): CpuQuota | undefined {
  const v2 = readText(path.join(root, 'cpu.max'));
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    const quotaUs = positiveInt(quota);
    const periodUs = positiveInt(period ?? '100000');
    return quotaUs === undefined || periodUs === undefined ? undefined : { quotaUs, periodUs };
  }
  // v1 mounts the cpu controller as cpu/ or cpu,cpuacct/ (cpu is then a symlink to it).
  for (const dir of ['cpu', 'cpu,cpuacct']) {
    const quotaUs = positiveInt(readText(path.join(root, dir, 'cpu.cfs_quota_us')));
    const periodUs = positiveInt(readText(path.join(root, dir, 'cpu.cfs_period_us')));
    if (quotaUs !== undefined && periodUs !== undefined) return { quotaUs, periodUs };
  }
  return undefined;
}

/**
 * The default worker count: the CPUs the quota allows, rounded up (a 1.5-CPU limit gets 2
 * workers), at least 1 and at most `cores`; `cores` when there is no quota.
 */
export function defaultConcurrency(quota: CpuQuota | undefined = readCpuQuota(), cores = availableParallelism()): number {
  if (quota === undefined) return cores;
  return Math.max(1, Math.min(cores, Math.ceil(quota.quotaUs / quota.periodUs)));
}
