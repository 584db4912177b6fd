// The raw record of a run, for later comparison between runs or commits: options, machine,
// every window with its full latency histogram, and the summary the table was printed from.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { BenchOptions } from '../options.ts';
import { CPU_TICK_US } from '../runner/proc-stat.ts';
import type { Window } from '../runner/run.ts';
import type { Ratios, TargetSummary } from './summary.ts';

export function writeJsonReport(
  file: string,
  opts: BenchOptions,
  startedAt: Date,
  windows: readonly Window[],
  summary: readonly TargetSummary[],
  ratios: Ratios | null,
): void {
  const report = {
    format: 'meltemi-bench/1',
    startedAt: startedAt.toISOString(),
    machine: {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cpuTickUs: CPU_TICK_US,
    },
    options: opts,
    summary,
    ratios,
    windows: windows.map((w) => ({
      target: w.target,
      round: w.round,
      completed: w.completed,
      sent: w.sent,
      errors: w.errors,
      elapsedMs: w.elapsedMs,
      proxyCpu: w.proxyCpu,
      proxyRss: w.proxyRss,
      echoCpu: w.echoCpu,
      loadgenCpu: w.loadgenCpu,
      latencyHistogramUs: encodeIntoCompressedBase64(w.histogram),
      sendLagHistogramUs: encodeIntoCompressedBase64(w.sendLag),
    })),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
