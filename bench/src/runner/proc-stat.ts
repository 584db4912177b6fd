// CPU time and memory of a process from /proc. CPU is utime + stime of the whole process (all
// threads: main loop, libuv pool, GC helpers), in clock ticks, so the kernel work a proxy causes
// with its system calls counts as its own, and idle waiting does not count at all.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  /** User-mode CPU, microseconds. */
  readonly userUs: number;
  /** Kernel-mode CPU on behalf of the process, microseconds. */
  readonly systemUs: number;
}

const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100; // USER_HZ on every mainstream Linux build
  }
}

/** Granularity of the numbers below, in microseconds (10 000 with the usual 100 ticks per second). */
export const CPU_TICK_US = 1_000_000 / TICKS_PER_SECOND;

export function readCpu(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Field 2 (comm) is in parentheses and may hold spaces; count fields after the last ')'.
  // There, index 0 is field 3 (state), so utime (field 14) is index 11 and stime index 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return { userUs: utime * CPU_TICK_US, systemUs: stime * CPU_TICK_US };
}

export function cpuDelta(before: CpuSample, after: CpuSample): CpuSample {
  return { userUs: after.userUs - before.userUs, systemUs: after.systemUs - before.systemUs };
}

/** Resident set size in bytes (VmRSS). */
export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/**
 * The pid and every descendant (a multi-worker proxy forks its workers), from
 * /proc/<pid>/task/<tid>/children. Processes that vanish meanwhile are skipped.
 */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0 && out.length < 1024) {
    const p = todo.pop()!;
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'latin1').split(' ')) if (c.trim() !== '') todo.push(Number(c));
      } catch {
        // The task ended between the listing and the read.
      }
    }
  }
  return out;
}

/** CPU of a process and its descendants; a worker that exits mid-window loses its share (it was reaped into its parent's cutime, which is not read). */
export function readTreeCpu(pid: number): CpuSample {
  let userUs = 0;
  let systemUs = 0;
  for (const p of processTree(pid)) {
    try {
      const c = readCpu(p);
      userUs += c.userUs;
      systemUs += c.systemUs;
    } catch {
      // Gone: nothing to add.
    }
  }
  return { userUs, systemUs };
}

/** Summed RSS of a process and its descendants, bytes (shared pages count once per process). */
export function readTreeRss(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += readRss(p);
    } catch {
      // Gone: nothing to add.
    }
  }
  return total;
}
