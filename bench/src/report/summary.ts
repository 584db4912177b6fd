// Folds the rounds of each target into one row, and the rows into the ratios that matter.
import { newHistogram } from '../loadgen/tally.ts';
import { emptyErrors, totalErrors, type ErrorCounts } from '../ipc.ts';
import type { Window } from '../runner/run.ts';
import type { TargetName } from '../runner/targets.ts';

export interface TargetSummary {
  readonly target: TargetName;
  readonly rounds: number;
  readonly completed: number;
  readonly errors: ErrorCounts;
  readonly errorTotal: number;
  /** All completed requests over all measured time: rounds weigh by their length. */
  readonly rps: number;
  /** (max - min) / mean of the per-round rates: how much the machine drifted for this target. */
  readonly rpsSpread: number;
  /** Latency percentiles over all rounds, microseconds. */
  readonly latencyUs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** Open loop: generator send lag percentiles (already inside latencyUs), microseconds; null in the closed loop. */
  readonly sendLagUs: { readonly p50: number; readonly p99: number } | null;
  /** Proxy CPU (user + system) per completed request, microseconds; null without a proxy. */
  readonly proxyCpuUsPerReq: number | null;
  /** Share of the proxy CPU spent in the kernel. */
  readonly proxySystemShare: number | null;
  /** Largest proxy RSS seen after a round, bytes. */
  readonly proxyRssMax: number | null;
  readonly echoCpuUsPerReq: number;
  readonly loadgenCpuUsPerReq: number;
}

export interface Ratios {
  /** meltemi rps / pipe rps: above 1 means Meltemi moved more requests than the raw pipe. */
  readonly throughput: number;
  /** meltemi CPU per request / pipe CPU per request: below 1 means Meltemi is cheaper. */
  readonly cpuPerRequest: number | null;
}

export function summarize(targets: readonly TargetName[], windows: readonly Window[]): TargetSummary[] {
  return targets.map((target) => summarizeTarget(target, windows.filter((w) => w.target === target)));
}

function summarizeTarget(target: TargetName, windows: readonly Window[]): TargetSummary {
  const histogram = newHistogram();
  const sendLag = newHistogram();
  const errors = emptyErrors();
  let completed = 0;
  let elapsedMs = 0;
  let proxyUser = 0;
  let proxySystem = 0;
  let echoCpu = 0;
  let loadgenCpu = 0;
  let rssMax: number | null = null;
  const rates: number[] = [];
  for (const w of windows) {
    histogram.add(w.histogram);
    sendLag.add(w.sendLag);
    for (const k of Object.keys(errors) as (keyof ErrorCounts)[]) errors[k] += w.errors[k];
    completed += w.completed;
    elapsedMs += w.elapsedMs;
    rates.push(w.completed / (w.elapsedMs / 1000));
    if (w.proxyCpu !== null) {
      proxyUser += w.proxyCpu.userUs;
      proxySystem += w.proxyCpu.systemUs;
    }
    if (w.proxyRss !== null) rssMax = Math.max(rssMax ?? 0, w.proxyRss);
    echoCpu += w.echoCpu.userUs + w.echoCpu.systemUs;
    loadgenCpu += w.loadgenCpu.userUs + w.loadgenCpu.systemUs;
  }
  const hasProxy = windows.some((w) => w.proxyCpu !== null);
  const proxyCpu = proxyUser + proxySystem;
  const mean = rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length);
  const perReq = (us: number): number => (completed > 0 ? us / completed : Number.NaN);
  return {
    target,
    rounds: windows.length,
    completed,
    errors,
    errorTotal: totalErrors(errors),
    rps: elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0,
    rpsSpread: mean > 0 ? (Math.max(...rates) - Math.min(...rates)) / mean : 0,
    latencyUs: {
      p50: histogram.getValueAtPercentile(50),
      p90: histogram.getValueAtPercentile(90),
      p99: histogram.getValueAtPercentile(99),
      p999: histogram.getValueAtPercentile(99.9),
      max: histogram.maxValue,
    },
    sendLagUs: sendLag.totalCount > 0 ? { p50: sendLag.getValueAtPercentile(50), p99: sendLag.getValueAtPercentile(99) } : null,
    proxyCpuUsPerReq: hasProxy ? perReq(proxyCpu) : null,
    proxySystemShare: hasProxy && proxyCpu > 0 ? proxySystem / proxyCpu : null,
    proxyRssMax: rssMax,
    echoCpuUsPerReq: perReq(echoCpu),
    loadgenCpuUsPerReq: perReq(loadgenCpu),
  };
}

export function meltemiVsPipe(rows: readonly TargetSummary[]): Ratios | null {
  const m = rows.find((r) => r.target === 'meltemi');
  const p = rows.find((r) => r.target === 'pipe');
  if (m === undefined || p === undefined || p.rps === 0) return null;
  const cpu = m.proxyCpuUsPerReq !== null && p.proxyCpuUsPerReq ? m.proxyCpuUsPerReq / p.proxyCpuUsPerReq : null;
  return { throughput: m.rps / p.rps, cpuPerRequest: cpu };
}
