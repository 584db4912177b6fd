// Plain-text rendering of the summary: one row per target, then the Meltemi/pipe ratios.
import type { BenchOptions } from '../options.ts';
import { CPU_TICK_US } from '../runner/proc-stat.ts';
import type { Window } from '../runner/run.ts';
import type { Ratios, TargetSummary } from './summary.ts';

const COLUMNS = ['target', 'req/s', '±', 'p50', 'p90', 'p99', 'p99.9', 'errors', 'cpu µs/req', 'sys', 'rss MB'] as const;

export function describeRun(opts: BenchOptions): string {
  const load =
    opts.rate > 0
      ? `open loop ${opts.rate} req/s over ${opts.connections} connections (cap ${opts.inflight} outstanding each)`
      : `closed loop ${opts.connections} connections x ${opts.inflight} in flight`;
  return (
    `scenario ${opts.name}: dubbo, ${load}, ${opts.payload} B request frames\n` +
    `${opts.rounds} round(s) of ${opts.durationS} s per target after ${opts.warmupS} s warmup each; ` +
    `targets ${opts.targets.join(', ')}; ${opts.generators} generator process(es)`
  );
}

export function progressLine(w: Window, rounds: number): string {
  const label = w.round === 0 ? 'warmup ' : `round ${w.round}/${rounds}`;
  const rps = w.completed / (w.elapsedMs / 1000);
  const cpu = w.proxyCpu === null ? '' : `  proxy ${fmt((w.proxyCpu.userUs + w.proxyCpu.systemUs) / Math.max(1, w.completed), 1)} µs/req`;
  const errors = Object.values(w.errors).reduce((a, b) => a + b, 0);
  return `${label}  ${w.target.padEnd(8)} ${fmtInt(rps).padStart(9)} req/s  p99 ${latency(w.histogram.getValueAtPercentile(99))}${cpu}${errors > 0 ? `  errors ${errors}` : ''}`;
}

export function renderTable(rows: readonly TargetSummary[], ratios: Ratios | null): string {
  const cells = rows.map((r) => [
    r.target,
    fmtInt(r.rps),
    `${fmt(r.rpsSpread * 100, 0)}%`,
    latency(r.latencyUs.p50),
    latency(r.latencyUs.p90),
    latency(r.latencyUs.p99),
    latency(r.latencyUs.p999),
    String(r.errorTotal),
    r.proxyCpuUsPerReq === null ? '-' : fmt(r.proxyCpuUsPerReq, 2),
    r.proxySystemShare === null ? '-' : `${fmt(r.proxySystemShare * 100, 0)}%`,
    r.proxyRssMax === null ? '-' : fmt(r.proxyRssMax / 2 ** 20, 1),
  ]);
  const all = [[...COLUMNS], ...cells];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  if (ratios !== null) {
    out.push('');
    out.push(
      `meltemi / pipe: throughput ${fmt(ratios.throughput, 2)}x, ` +
        `cpu per request ${ratios.cpuPerRequest === null ? '-' : `${fmt(ratios.cpuPerRequest, 2)}x`}`,
    );
  }
  if (rows.some((r) => r.sendLagUs !== null)) {
    out.push('');
    out.push('open loop: latency counts from each due time and so includes the generator\'s own send lag:');
    for (const r of rows) {
      if (r.sendLagUs !== null) out.push(`  ${r.target.padEnd(8)} send lag p50 ${latency(r.sendLagUs.p50)}  p99 ${latency(r.sendLagUs.p99)}`);
    }
  }
  out.push('');
  out.push(
    `latency in µs (ms when marked); ± = per-round req/s spread (max-min)/mean; cpu = proxy utime+stime ` +
      `from /proc/<pid>/stat over the window / completed requests (tick ${CPU_TICK_US / 1000} ms); sys = kernel share of it`,
  );
  return out.join('\n');
}

function latency(us: number): string {
  return us >= 10_000 ? `${fmt(us / 1000, 1)}ms` : String(Math.round(us));
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
