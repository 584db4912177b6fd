// Summaries, ratios, knees, the HTML report and RESULTS.md from synthetic windows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyErrors } from '../src/ipc.ts';
import { newHistogram } from '../src/loadgen/tally.ts';
import { loadOptions, type BenchOptions } from '../src/options.ts';
import { buildReport } from '../src/report/document.ts';
import { renderHtml } from '../src/report/html.ts';
import { knees, ratios, summarize } from '../src/report/summary.ts';
import { renderResults } from '../src/results.ts';
import { dubboProtocol } from '../src/protocols/dubbo.ts';
import type { Window } from '../src/runner/run.ts';

function window(target: string, rate: number, completed: number, latencyUs: number, cpuUs: number | null, errors = 0): Window {
  const histogram = newHistogram();
  histogram.recordValueWithCount(latencyUs, completed);
  return {
    target,
    round: 1,
    rate,
    completed,
    sent: completed + errors,
    errors: { ...emptyErrors(), status: errors },
    elapsedMs: 1000,
    histogram,
    sendLag: newHistogram(),
    timeline: [
      { tMs: 500, completed: completed / 2, p50Us: latencyUs, p99Us: latencyUs, maxUs: latencyUs },
      { tMs: 1000, completed: completed / 2, p50Us: latencyUs, p99Us: latencyUs, maxUs: latencyUs },
    ],
    proxyCpu: cpuUs === null ? null : { userUs: cpuUs * 0.7, systemUs: cpuUs * 0.3 },
    proxyRssBefore: cpuUs === null ? null : 50 * 2 ** 20,
    proxyRss: cpuUs === null ? null : 60 * 2 ** 20,
    samples: cpuUs === null ? [] : [{ tMs: 0, cpuUs: 0, rss: 55 * 2 ** 20 }, { tMs: 1000, cpuUs, rss: 60 * 2 ** 20 }],
    echoCpu: { userUs: 1, systemUs: 1 },
    echoRssBefore: 40 * 2 ** 20,
    echoRss: 41 * 2 ** 20,
    loadgenCpu: { userUs: 1, systemUs: 1 },
  };
}

function opts(...argv: string[]): BenchOptions {
  const o = loadOptions(argv);
  assert.ok(o !== null);
  return o;
}

describe('bench reports', () => {
  const closed = [
    window('direct', 0, 30_000, 100, null),
    window('pipe', 0, 10_000, 300, 500_000),
    window('meltemi', 0, 15_000, 250, 450_000),
    window('meltemi-2', 0, 24_000, 200, 800_000),
  ];

  it('compare each proxy with the pipe and direct, and extra workers with one', () => {
    const rows = summarize(['direct', 'pipe', 'meltemi', 'meltemi-2'], closed, 64);
    const rs = ratios(rows);
    const m = rs.find((r) => r.target === 'meltemi' && r.baseline === 'pipe')!;
    assert.equal(m.throughput, 1.5);
    assert.equal(m.cpuPerRequest, 30 / 50);
    const w = rs.find((r) => r.target === 'meltemi-2' && r.baseline === 'meltemi')!;
    assert.equal(w.throughput, 1.6);
    assert.equal(rs.find((r) => r.target === 'meltemi' && r.baseline === 'direct')!.addedP99Us, 150);
    assert.equal(rs.some((r) => r.target === 'direct'), false);
    const melt = rows.find((r) => r.target === 'meltemi')!;
    assert.equal(melt.proxyCores, 0.45);
    assert.equal(melt.proxyRssGrowth, 5 * 2 ** 20);
  });

  it('find the knee at the last rate before the first miss', () => {
    const ws = [
      window('meltemi', 1000, 1000, 400, 1),
      window('meltemi', 2000, 2000, 900, 1),
      window('meltemi', 3000, 3000, 5000, 1),
      window('meltemi', 4000, 4000, 800, 1), // back under the bound: past the knee all the same
      window('pipe', 1000, 1000, 2000, 1),
    ];
    const k = knees(summarize(['meltemi', 'pipe'], ws, 64), 1000);
    assert.equal(k.get('meltemi'), 2000);
    assert.equal(k.get('pipe'), null);
  });

  it('render a self-contained HTML report with charts', () => {
    const o = opts('--targets', 'direct,pipe,meltemi,meltemi-2');
    const rows = summarize(o.targets, closed, 64);
    const html = renderHtml(buildReport(o, dubboProtocol, new Date(), 1234, closed, rows, ratios(rows)));
    assert.ok((html.match(/<svg /g) ?? []).length >= 6, 'throughput, percentiles, cpu, latency and rate over time, cpu and rss over time');
    assert.doesNotMatch(html, /<script|<link|https?:\/\//, 'nothing from the network');
    assert.match(html, /meltemi \/ pipe: throughput 1\.50x/);
  });

  it('write RESULTS.md with the issue targets judged', () => {
    const o = opts('--targets', 'direct,pipe,meltemi');
    const ws = closed.slice(0, 3);
    const rows = summarize(o.targets, ws, 64);
    const md = renderResults([buildReport(o, dubboProtocol, new Date(), 1, ws, rows, ratios(rows))], ['results/x.json']);
    assert.match(md, /\| dubbo 64x1: throughput >= 1\.2x pipe \| dubbo-64x1 \| 1\.50x \| yes \|/);
    assert.match(md, /\| dubbo 64x1: cpu per request <= 0\.8x pipe \| dubbo-64x1 \| 0\.60x \| yes \|/);
    assert.match(md, /\| brpc 64x1: throughput >= 1\.2x pipe \| - \| - \| not measured \|/);
    assert.match(md, /Do not edit by hand/);
  });

  it('judge idle RSS at its peak, worker scaling by CPU per request on a small machine, and explain an open-loop miss', () => {
    const report = (o: BenchOptions, ws: Window[]): ReturnType<typeof buildReport> => {
      const rows = summarize(o.targets, ws, o.connections);
      const r = buildReport(o, dubboProtocol, new Date(), 1, ws, rows, ratios(rows));
      return { ...r, machine: { ...r.machine, cpus: 2 } };
    };
    // Idle: 10 MiB over the baseline at the end, 45 MiB at a sampled peak.
    const idleOpts = opts('--mode', 'idle', '--connections', '10000', '--targets', 'direct,meltemi');
    const idleMeltemi: Window = {
      ...window('meltemi', 0, 0, 1, 0),
      samples: [{ tMs: 0, cpuUs: 0, rss: 70 * 2 ** 20 }, { tMs: 1000, cpuUs: 0, rss: 95 * 2 ** 20 }, { tMs: 2000, cpuUs: 0, rss: 60 * 2 ** 20 }],
    };
    const idle = report(idleOpts, [window('direct', 0, 0, 1, null), idleMeltemi]);
    // Workers: 1.8x by CPU per request (30 vs 33.3 µs), 1.6x measured.
    const workerOpts = opts('--targets', 'pipe,meltemi,meltemi-2');
    const workers = report(workerOpts, closed.slice(1));
    // Open loop: Meltemi adds 1700 µs at p99, the pipe 1900 µs.
    const openOpts = opts('--rate', '10000', '--targets', 'direct,pipe,meltemi');
    const open = report(openOpts, [window('direct', 10_000, 10_000, 100, null), window('pipe', 10_000, 10_000, 2000, 1), window('meltemi', 10_000, 10_000, 1800, 1)]);
    const md = renderResults([idle, workers, open], ['results/a.json']);
    assert.match(md, /\| 10,000 idle connections: RSS growth <= 40 MiB \| [^|]+ \| 45\.0 MiB at the peak, 10\.0 MiB after [^|]+\| \*\*no\*\* \|/);
    assert.match(md, /min\(2, 2 \/ 1\.11\) = 1\.80x \(projected from cpu\/req on 2 shared cores\) \| yes \|/);
    assert.match(md, /added p99 over direct <= 0\.5 ms \| [^|]+\| 1700 µs \(direct p99 100 µs; the raw pipe adds 1900 µs[^|]*\| \*\*no\*\* \|/);
    assert.match(md, /- \*\*open loop 10k req\/s[^\n]*the raw pipe, which only copies bytes, adds 1900 µs/);
  });
});
