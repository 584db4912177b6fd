// The record of a run, as one plain object: what the JSON file holds and what the HTML report
// and RESULTS.md are rendered from, so a report can be rebuilt from a JSON file at any time.
import os from 'node:os';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { ErrorCounts, TimelinePoint } from '../ipc.ts';
import type { BenchOptions } from '../options.ts';
import type { BenchProtocol, RouteMatch } from '../protocols/protocol.ts';
import { CPU_TICK_US, type CpuSample } from '../runner/proc-stat.ts';
import type { ResourceSample, Window } from '../runner/run.ts';
import { knees, type Ratio, type TargetSummary } from './summary.ts';

export const REPORT_FORMAT = 'meltemi-bench/2';

export interface WindowRecord {
  readonly target: string;
  readonly round: number;
  readonly rate: number;
  readonly completed: number;
  readonly sent: number;
  readonly errors: ErrorCounts;
  readonly elapsedMs: number;
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly proxyCpu: CpuSample | null;
  readonly proxyRssBefore: number | null;
  readonly proxyRss: number | null;
  readonly echoCpu: CpuSample;
  readonly echoRssBefore: number;
  readonly echoRss: number;
  readonly loadgenCpu: CpuSample;
  readonly timeline: readonly TimelinePoint[];
  readonly samples: readonly ResourceSample[];
  readonly latencyHistogramUs: string;
  readonly sendLagHistogramUs: string;
}

export interface BenchReport {
  readonly format: typeof REPORT_FORMAT;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly cpuTickUs: number;
    readonly loadAverage: readonly number[];
  };
  readonly options: BenchOptions;
  readonly protocol: { readonly name: string; readonly codecName: string; readonly routeMatch: readonly RouteMatch[] };
  readonly echoPort: number;
  readonly summary: readonly TargetSummary[];
  readonly ratios: readonly Ratio[];
  /** Sweep only: knee per target (null: not even the lowest rate). */
  readonly knees: Readonly<Record<string, number | null>> | null;
  readonly windows: readonly WindowRecord[];
}

export function buildReport(
  opts: BenchOptions,
  protocol: BenchProtocol,
  startedAt: Date,
  echoPort: number,
  windows: readonly Window[],
  summary: readonly TargetSummary[],
  ratios: readonly Ratio[],
): BenchReport {
  const pct = (w: Window, p: number): number => (w.histogram.totalCount > 0 ? w.histogram.getValueAtPercentile(p) : 0);
  return {
    format: REPORT_FORMAT,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cpuTickUs: CPU_TICK_US,
      loadAverage: os.loadavg(),
    },
    options: opts,
    protocol: { name: protocol.name, codecName: protocol.codecName, routeMatch: protocol.routeMatch },
    echoPort,
    summary,
    ratios,
    knees: opts.mode === 'sweep' ? Object.fromEntries(knees(summary, opts.sweep.p99BoundUs)) : null,
    windows: windows.map((w) => ({
      target: w.target,
      round: w.round,
      rate: w.rate,
      completed: w.completed,
      sent: w.sent,
      errors: w.errors,
      elapsedMs: w.elapsedMs,
      latencyUs: { p50: pct(w, 50), p99: pct(w, 99), max: w.histogram.maxValue },
      proxyCpu: w.proxyCpu,
      proxyRssBefore: w.proxyRssBefore,
      proxyRss: w.proxyRss,
      echoCpu: w.echoCpu,
      echoRssBefore: w.echoRssBefore,
      echoRss: w.echoRss,
      loadgenCpu: w.loadgenCpu,
      timeline: w.timeline,
      samples: w.samples,
      latencyHistogramUs: encodeIntoCompressedBase64(w.histogram),
      sendLagHistogramUs: encodeIntoCompressedBase64(w.sendLag),
    })),
  };
}

/** Reads a report written by `--json`; throws on another format. */
export function parseReport(text: string, file: string): BenchReport {
  const doc = JSON.parse(text) as Partial<BenchReport>;
  if (doc.format !== REPORT_FORMAT) throw new Error(`${file}: not a ${REPORT_FORMAT} report (format ${String(doc.format)})`);
  return doc as BenchReport;
}
