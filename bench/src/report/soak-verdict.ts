// The soak's pass/fail (issue 13): after the warm-up window, the proxy's RSS stays flat within
// 10% (the median of the last third of the samples against the first third's: the garbage
// collector's sawtooth moves single samples by more than that without any leak), no call
// fails, and p99 does not drift (the last third of the run against the first).
import { totalErrors } from '../ipc.ts';
import type { Window } from '../runner/run.ts';

/** The RSS trend may grow this much over the measured window. */
export const RSS_FLAT_PCT = 10;
/** The last third's p99 may be this many times the first third's... */
export const P99_DRIFT_RATIO = 1.5;
/** ...or this many microseconds above it (sub-millisecond p99s move by scheduling noise alone). */
export const P99_DRIFT_FLOOR_US = 500;

export interface SoakVerdict {
  readonly ok: boolean;
  readonly rssBase: number | null;
  readonly rssEnd: number | null;
  readonly rssPeak: number | null;
  readonly rssDriftPct: number | null;
  readonly failed: number;
  readonly p99FirstUs: number;
  readonly p99LastUs: number;
  readonly lines: readonly string[];
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function soakVerdict(w: Window): SoakVerdict {
  const rss = w.samples.map((s) => s.rss);
  const rssThird = Math.max(1, Math.floor(rss.length / 3));
  const rssBase = rss.length === 0 ? null : median(rss.slice(0, rssThird));
  const rssEnd = rss.length === 0 ? null : median(rss.slice(-rssThird));
  const rssPeak = rss.length === 0 ? null : Math.max(...rss);
  const rssDriftPct = rssBase === null || rssEnd === null ? null : ((rssEnd - rssBase) / rssBase) * 100;
  // Error replies are sent but not completed: the larger of the two counts every failure once.
  const failed = Math.max(totalErrors(w.errors), w.sent - w.completed);
  const points = w.timeline.filter((p) => p.completed > 0).map((p) => p.p99Us);
  const third = Math.max(1, Math.floor(points.length / 3));
  const p99FirstUs = median(points.slice(0, third));
  const p99LastUs = median(points.slice(-third));
  const rssOk = rssDriftPct !== null && rssDriftPct <= RSS_FLAT_PCT;
  const p99Ok = p99LastUs <= Math.max(p99FirstUs * P99_DRIFT_RATIO, p99FirstUs + P99_DRIFT_FLOOR_US);
  const mib = (b: number | null): string => (b === null ? 'n/a' : `${(b / 2 ** 20).toFixed(1)} MiB`);
  const lines = [
    `soak ${w.target}: RSS median ${mib(rssBase)} (first third) -> ${mib(rssEnd)} (last third), ${rssDriftPct === null ? 'n/a' : `${rssDriftPct.toFixed(1)}%`} (limit ${RSS_FLAT_PCT}%), peak ${mib(rssPeak)}: ${rssOk ? 'flat' : 'GREW'}`,
    `soak ${w.target}: ${w.completed} calls, ${failed} failed: ${failed === 0 ? 'ok' : 'FAILED CALLS'}`,
    `soak ${w.target}: p99 ${(p99FirstUs / 1000).toFixed(2)} ms (first third) -> ${(p99LastUs / 1000).toFixed(2)} ms (last third): ${p99Ok ? 'stable' : 'DRIFTED'}`,
  ];
  return { ok: rssOk && failed === 0 && p99Ok, rssBase, rssEnd, rssPeak, rssDriftPct, failed, p99FirstUs, p99LastUs, lines };
}
