// Folds the rounds of each target into one row, and the rows into the ratios that matter.
import { newHistogram } from '../loadgen/tally.ts';
import { emptyErrors, totalErrors, type ErrorCounts } from '../ipc.ts';
import type { Window } from '../runner/run.ts';
import { meltemiWorkers, type TargetName } from '../runner/target-names.ts';

export interface TargetSummary {
  readonly target: TargetName;
  /** Open-loop rate of these windows (a sweep has one row per target and rate), 0 otherwise. */
  readonly rate: number;
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
  /** Proxy CPU seconds per second of window: how many cores the proxy kept busy. */
  readonly proxyCores: number | null;
  /** Share of the proxy CPU spent in the kernel. */
  readonly proxySystemShare: number | null;
  /** Largest proxy RSS seen after a round, bytes. */
  readonly proxyRssMax: number | null;
  /**
   * Proxy RSS growth, bytes: idle, after holding the connections minus before opening them;
   * otherwise last sample minus first sample of the windows (the soak's drift). Largest over the rounds.
   */
  readonly proxyRssGrowth: number | null;
  /**
   * Idle only: the largest proxy RSS sampled while holding the connections minus RSS before
   * they opened, bytes (largest over the rounds). V8 hands back part of the young generation
   * some seconds after the burst of accepts, so this can sit well above the end-of-window growth.
   */
  readonly proxyRssPeakGrowth: number | null;
  /** Echo server RSS growth over the windows (largest); on `direct` in idle mode, what a bare Node server pays for the connections. */
  readonly echoRssGrowth: number;
  /** Connections per window. */
  readonly connections: number;
  readonly echoCpuUsPerReq: number;
  readonly loadgenCpuUsPerReq: number;
}

/** One target against a baseline in the same run. */
export interface Ratio {
  readonly target: TargetName;
  readonly baseline: TargetName;
  readonly rate: number;
  /** target rps / baseline rps: above 1 means the target moved more. */
  readonly throughput: number;
  /** target CPU per request / baseline's: below 1 means the target is cheaper. */
  readonly cpuPerRequest: number | null;
  /** target p99 - baseline p99, microseconds (what the proxy adds over `direct`). */
  readonly addedP99Us: number;
}

export function summarize(targets: readonly TargetName[], windows: readonly Window[], connections: number): TargetSummary[] {
  const rates = [...new Set(windows.map((w) => w.rate))].sort((a, b) => a - b);
  return rates.flatMap((rate) =>
    targets.flatMap((target) => {
      const ws = windows.filter((w) => w.target === target && w.rate === rate);
      return ws.length === 0 ? [] : [summarizeTarget(target, rate, ws, connections)];
    }),
  );
}

function summarizeTarget(target: TargetName, rate: number, windows: readonly Window[], connections: number): TargetSummary {
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
  let rssGrowth: number | null = null;
  let rssPeakGrowth: number | null = null;
  let echoRssGrowth = Number.NEGATIVE_INFINITY;
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
    const growth = windowRssGrowth(w);
    if (growth !== null) rssGrowth = Math.max(rssGrowth ?? Number.NEGATIVE_INFINITY, growth);
    const peak = idlePeakRssGrowth(w);
    if (peak !== null) rssPeakGrowth = Math.max(rssPeakGrowth ?? Number.NEGATIVE_INFINITY, peak);
    echoCpu += w.echoCpu.userUs + w.echoCpu.systemUs;
    echoRssGrowth = Math.max(echoRssGrowth, w.echoRss - w.echoRssBefore);
    loadgenCpu += w.loadgenCpu.userUs + w.loadgenCpu.systemUs;
  }
  const hasProxy = windows.some((w) => w.proxyCpu !== null);
  const proxyCpu = proxyUser + proxySystem;
  const mean = rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length);
  const perReq = (us: number): number => (completed > 0 ? us / completed : Number.NaN);
  const pct = (p: number): number => (histogram.totalCount > 0 ? histogram.getValueAtPercentile(p) : 0);
  return {
    target,
    rate,
    rounds: windows.length,
    completed,
    errors,
    errorTotal: totalErrors(errors),
    rps: elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0,
    rpsSpread: mean > 0 ? (Math.max(...rates) - Math.min(...rates)) / mean : 0,
    latencyUs: { p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: histogram.maxValue },
    sendLagUs: sendLag.totalCount > 0 ? { p50: sendLag.getValueAtPercentile(50), p99: sendLag.getValueAtPercentile(99) } : null,
    proxyCpuUsPerReq: hasProxy ? perReq(proxyCpu) : null,
    proxyCores: hasProxy && elapsedMs > 0 ? proxyCpu / (elapsedMs * 1000) : null,
    proxySystemShare: hasProxy && proxyCpu > 0 ? proxySystem / proxyCpu : null,
    proxyRssMax: rssMax,
    proxyRssGrowth: rssGrowth,
    proxyRssPeakGrowth: rssPeakGrowth,
    echoRssGrowth: Number.isFinite(echoRssGrowth) ? echoRssGrowth : 0,
    connections,
    echoCpuUsPerReq: perReq(echoCpu),
    loadgenCpuUsPerReq: perReq(loadgenCpu),
  };
}

/** Idle windows: the largest RSS sampled in the window (and at its end) minus RSS before the connections. */
function idlePeakRssGrowth(w: Window): number | null {
  if (w.completed !== 0 || w.sent !== 0 || w.proxyRss === null || w.proxyRssBefore === null) return null;
  const peak = w.samples.reduce((m, s) => Math.max(m, s.rss), w.proxyRss);
  return peak - w.proxyRssBefore;
}

/** Idle windows (nothing completed): RSS after minus before the connections. Others: last minus first sample. */
function windowRssGrowth(w: Window): number | null {
  if (w.completed === 0 && w.sent === 0) {
    return w.proxyRss === null || w.proxyRssBefore === null ? null : w.proxyRss - w.proxyRssBefore;
  }
  const first = w.samples[0];
  const last = w.samples[w.samples.length - 1];
  return first === undefined || last === undefined ? null : last.rss - first.rss;
}

/**
 * The comparisons a reader looks for: every proxy against the raw pipe, every proxy's added
 * latency over direct, and each multi-worker Meltemi against the single-worker one.
 */
export function ratios(rows: readonly TargetSummary[]): Ratio[] {
  const out: Ratio[] = [];
  const find = (target: string, rate: number): TargetSummary | undefined => rows.find((r) => r.target === target && r.rate === rate);
  for (const r of rows) {
    const baselines = ['pipe', 'direct'];
    if (meltemiWorkers(r.target) !== null) baselines.unshift('meltemi');
    for (const b of baselines) {
      if (r.target === b || r.target === 'direct' || (r.target === 'pipe' && b !== 'direct')) continue;
      const base = find(b, r.rate);
      if (base === undefined || base.rps === 0) continue;
      const cpu = r.proxyCpuUsPerReq !== null && base.proxyCpuUsPerReq ? r.proxyCpuUsPerReq / base.proxyCpuUsPerReq : null;
      out.push({ target: r.target, baseline: b, rate: r.rate, throughput: r.rps / base.rps, cpuPerRequest: cpu, addedP99Us: r.latencyUs.p99 - base.latencyUs.p99 });
    }
  }
  return out;
}

/** The Meltemi/pipe ratio of the run's first (or only) rate, the number every data-path change is measured by. */
export function meltemiVsPipe(all: readonly Ratio[]): Ratio | null {
  return all.find((r) => r.target === 'meltemi' && r.baseline === 'pipe') ?? null;
}

/**
 * Sweep: per target, the knee: the highest rate that it and every lower rate kept within the
 * p99 bound with no errors and at least 90% of the rate answered; null when even the lowest failed.
 */
export function knees(rows: readonly TargetSummary[], p99BoundUs: number): Map<TargetName, number | null> {
  const out = new Map<TargetName, number | null>();
  const failed = new Set<TargetName>();
  for (const r of [...rows].sort((a, b) => a.rate - b.rate)) {
    if (!out.has(r.target)) out.set(r.target, null);
    if (failed.has(r.target)) continue;
    const keptUp = r.latencyUs.p99 <= p99BoundUs && r.errorTotal === 0 && r.rps >= 0.9 * r.rate;
    if (keptUp) out.set(r.target, r.rate);
    else failed.add(r.target);
  }
  return out;
}
