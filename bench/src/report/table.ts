// Plain-text rendering of the summary: one row per target (per rate in a sweep), then the
// ratios against the baselines, then what the columns mean.
import type { BenchOptions } from '../options.ts';
import type { BenchProtocol } from '../protocols/protocol.ts';
import { CPU_TICK_US } from '../runner/proc-stat.ts';
import type { Window } from '../runner/run.ts';
import { knees, type Ratio, type TargetSummary } from './summary.ts';

export function describeLoad(opts: BenchOptions): string {
  switch (opts.mode) {
    case 'idle':
      return `idle: ${opts.connections} connections held open, no requests`;
    case 'sweep':
      return `rate sweep ${opts.sweep.rates.join(', ')} req/s over ${opts.connections} connections, knee at p99 <= ${latency(opts.sweep.p99BoundUs)} µs`;
    case 'open':
      return `open loop ${opts.rate} req/s over ${opts.connections} connections (cap ${opts.inflight} outstanding each)`;
    case 'soak':
      return `soak: ${opts.rate > 0 ? `open loop ${opts.rate} req/s` : `closed loop ${opts.connections} x ${opts.inflight}`} for ${opts.durationS} s, memory sampled every ${opts.sampleIntervalS} s`;
    case 'closed':
      return `closed loop ${opts.connections} connections x ${opts.inflight} in flight`;
  }
}

export function describeRun(opts: BenchOptions, protocol: BenchProtocol): string {
  const frames = opts.mode === 'idle' ? '' : `, ${opts.payload} B request frames`;
  const warmup = opts.mode === 'idle' ? '' : ` after ${opts.warmupS} s warmup each`;
  return (
    `scenario ${opts.name}: ${protocol.name}, ${describeLoad(opts)}${frames}\n` +
    `${opts.rounds} round(s) of ${opts.durationS} s per target${warmup}; ` +
    `targets ${opts.targets.join(', ')}; ${opts.generators} generator process(es)`
  );
}

export function progressLine(w: Window, rounds: number): string {
  const label = w.round === 0 ? 'warmup ' : `round ${w.round}/${rounds}`;
  const rate = w.rate > 0 ? ` @${w.rate}` : '';
  const rps = w.completed / (w.elapsedMs / 1000);
  const cpu = w.proxyCpu === null || w.completed === 0 ? '' : `  proxy ${fmt((w.proxyCpu.userUs + w.proxyCpu.systemUs) / w.completed, 1)} µs/req`;
  const rss = w.proxyRss === null ? '' : `  rss ${fmt(w.proxyRss / 2 ** 20, 1)} MB`;
  const errors = Object.values(w.errors).reduce((a, b) => a + b, 0);
  const p99 = w.histogram.totalCount > 0 ? `  p99 ${latency(w.histogram.getValueAtPercentile(99))}` : '';
  return `${label}${rate}  ${w.target.padEnd(10)} ${fmtInt(rps).padStart(9)} req/s${p99}${cpu}${rss}${errors > 0 ? `  errors ${errors}` : ''}`;
}

const COLUMNS = ['target', 'rate', 'req/s', '±', 'p50', 'p90', 'p99', 'p99.9', 'errors', 'cpu µs/req', 'cores', 'sys', 'rss MB', 'rss Δ MB'] as const;

/** One summary row as the table's cells, in COLUMNS order (the HTML report shows the same). */
export function summaryCells(r: TargetSummary): string[] {
  return [
    r.target,
    r.rate > 0 ? fmtInt(r.rate) : '-',
    fmtInt(r.rps),
    `${fmt(r.rpsSpread * 100, 0)}%`,
    latency(r.latencyUs.p50),
    latency(r.latencyUs.p90),
    latency(r.latencyUs.p99),
    latency(r.latencyUs.p999),
    String(r.errorTotal),
    r.proxyCpuUsPerReq === null ? '-' : fmt(r.proxyCpuUsPerReq, 2),
    r.proxyCores === null ? '-' : fmt(r.proxyCores, 2),
    r.proxySystemShare === null ? '-' : `${fmt(r.proxySystemShare * 100, 0)}%`,
    r.proxyRssMax === null ? '-' : fmt(r.proxyRssMax / 2 ** 20, 1),
    r.proxyRssGrowth === null ? '-' : fmt(r.proxyRssGrowth / 2 ** 20, 1),
  ];
}

export function renderTable(opts: BenchOptions, rows: readonly TargetSummary[], ratios: readonly Ratio[]): string {
  const sweep = opts.mode === 'sweep';
  const cells = rows.map(summaryCells);
  const out = [...grid([...COLUMNS], cells)];
  const lines = ratioLines(ratios, sweep);
  if (lines.length > 0) out.push('', ...lines);
  if (sweep) {
    out.push('', `knee (highest rate with p99 <= ${latency(opts.sweep.p99BoundUs)} µs, no errors, >= 90% of the rate answered):`);
    for (const [t, k] of knees(rows, opts.sweep.p99BoundUs)) out.push(`  ${t.padEnd(10)} ${k === null ? `below ${fmtInt(opts.sweep.rates[0]!)}` : `${fmtInt(k)} req/s`}`);
  }
  if (opts.mode === 'idle') {
    out.push('', `idle: RSS with ${opts.connections} idle connections minus RSS before they opened:`);
    for (const r of rows) {
      if (r.target === 'direct') {
        out.push(`  ${'direct'.padEnd(10)} ${fmt(r.echoRssGrowth / 2 ** 20, 1)} MiB, ${fmt(r.echoRssGrowth / 1024 / r.connections, 2)} KiB per connection: the echo server, a bare Node server, holding them (the floor)`);
      }
      if (r.proxyRssGrowth !== null) {
        const peak = r.proxyRssPeakGrowth === null ? '' : ` (peak while holding them ${fmt(r.proxyRssPeakGrowth / 2 ** 20, 1)} MiB)`;
        out.push(`  ${r.target.padEnd(10)} ${fmt(r.proxyRssGrowth / 2 ** 20, 1)} MiB at the end${peak}, ${fmt(r.proxyRssGrowth / 1024 / r.connections, 2)} KiB per connection`);
      }
    }
  }
  if (rows.some((r) => r.sendLagUs !== null)) {
    out.push('', "open loop: latency counts from each due time and so includes the generator's own send lag:");
    for (const r of rows) {
      if (r.sendLagUs !== null) out.push(`  ${r.target.padEnd(10)}${r.rate > 0 && sweep ? ` @${r.rate}` : ''} send lag p50 ${latency(r.sendLagUs.p50)}  p99 ${latency(r.sendLagUs.p99)}`);
    }
  }
  out.push(
    '',
    'latency in µs (ms when marked); ± = per-round req/s spread (max-min)/mean; cpu = proxy utime+stime ' +
      `(its child processes included) from /proc/<pid>/stat over the window / completed requests (tick ${CPU_TICK_US / 1000} ms); ` +
      'cores = that CPU / window time; sys = kernel share; rss Δ = RSS growth over a window (idle: with vs without the connections)',
  );
  return out.join('\n');
}

export function ratioLines(ratios: readonly Ratio[], sweep: boolean): string[] {
  return ratios.map((r) => {
    const at = sweep ? ` @${fmtInt(r.rate)}` : '';
    if (r.baseline === 'direct') return `${r.target} vs direct${at}: added p99 ${latencyWithUnit(r.addedP99Us)}`;
    return (
      `${r.target} / ${r.baseline}${at}: throughput ${fmt(r.throughput, 2)}x, ` +
      `cpu per request ${r.cpuPerRequest === null ? '-' : `${fmt(r.cpuPerRequest, 2)}x`}`
    );
  });
}

export function grid(header: readonly string[], cells: readonly (readonly string[])[]): string[] {
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
}

export function latency(us: number): string {
  return Math.abs(us) >= 10_000 ? `${fmt(us / 1000, 1)}ms` : String(Math.round(us));
}

export function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Like `latency`, with the unit always spelled out. */
export function latencyWithUnit(us: number): string {
  return Math.abs(us) >= 10_000 ? `${fmt(us / 1000, 1)} ms` : `${Math.round(us)} µs`;
}
