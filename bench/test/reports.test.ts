// Summaries, ratios, knees, the HTML report and RESULTS.md from synthetic windows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyErrors } from '../src/ipc.ts';
import { newHistogram } from '../src/loadgen/tally.ts';
import { loadOptions, type BenchOptions } from '../src/options.ts';
import { buildReport } from '../src/report/document.ts';
import { cpuCores, overTime, renderHtml, timelineRate } from '../src/report/html.ts';
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

  it('give each target one colour in every chart, whichever targets a chart shows', () => {
    const o = opts('--targets', 'direct,pipe,meltemi,meltemi-2');
    const rows = summarize(o.targets, closed, 64);
    const html = renderHtml(buildReport(o, dubboProtocol, new Date(), 1234, closed, rows, ratios(rows)));
    const seen = new Map<string, Set<string>>();
    const note = (target: string, color: string): void => {
      if (!seen.has(target)) seen.set(target, new Set());
      seen.get(target)!.add(color);
    };
    // Line charts: legend swatches name the series.
    for (const m of html.matchAll(/<rect [^>]*height="10" fill="(#[0-9a-f]{6})"\/><text [^>]*>([^<]+)<\/text>/g)) note(m[2]!, m[1]!);
    // Bar charts: each bar's tooltip names its target.
    for (const m of html.matchAll(/fill="(#[0-9a-f]{6})"[^>]*><title>([a-z0-9-]+) /g)) note(m[2]!, m[1]!);
    for (const t of ['direct', 'pipe', 'meltemi', 'meltemi-2']) assert.equal(seen.get(t)?.size, 1, `${t}: ${[...(seen.get(t) ?? [])].join(', ')}`);
    assert.notEqual([...seen.get('meltemi')!][0], [...seen.get('meltemi-2')!][0]);
    // The CPU-over-time chart leaves out direct (no proxy process): meltemi keeps its colour there.
    const cpuChart = html.slice(html.indexOf('Proxy CPU over time'));
    assert.match(cpuChart.slice(0, cpuChart.indexOf('</svg>')), new RegExp(`stroke="${[...seen.get('meltemi')!][0]}"`));
  });

  it('leave the gaps between rounds and after the load stopped as gaps, not drops to 0', () => {
    const round = (n: number): Window => ({
      ...window('meltemi', 0, 1000, 200, 100_000),
      round: n,
      // 500 calls in each half second of the 1 s window, then 3 stragglers answered after the load stopped.
      timeline: [
        { tMs: 500, completed: 500, p50Us: 200, p99Us: 300, maxUs: 400 },
        { tMs: 1000, completed: 500, p50Us: 200, p99Us: 300, maxUs: 400 },
        { tMs: 1500, completed: 3, p50Us: 900, p99Us: 900, maxUs: 900 },
      ],
      samples: [{ tMs: 0, cpuUs: 0, rss: 1 }, { tMs: 500, cpuUs: 50_000, rss: 1 }, { tMs: 1000, cpuUs: 100_000, rss: 1 }, { tMs: 1002, cpuUs: 100_000, rss: 1 }],
    });
    const ws = [round(1), window('pipe', 0, 1000, 300, 1), round(2)];
    const o = opts('--targets', 'pipe,meltemi');
    const rows = summarize(o.targets, ws, 64);
    const report = buildReport(o, dubboProtocol, new Date(), 1, ws, rows, ratios(rows));
    assert.deepEqual(timelineRate(report.windows[0]!), [[500, 1000], [1000, 1000]]);
    assert.deepEqual(cpuCores(report.windows[0]!, 10_000), [[500, 0.1], [1000, 0.1]]);
    const [series] = overTime(report, ['meltemi'], timelineRate);
    assert.deepEqual(series!.points, [[0.5, 1000], [1, 1000], [1, Number.NaN], [1.5, 1000], [2, 1000]]);
    // In the SVG: two separate lines (two moves), never a point at 0.
    const html = renderHtml(report);
    const chart = html.slice(html.indexOf('Throughput over time'));
    const path = /<path d="([^"]+)" fill="none" stroke="#2ca02c"/.exec(chart)![1]!;
    assert.equal(path.match(/M/g)!.length, 2, path);
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
    // Where the numbers come from: the command, and how the meltemi target was started.
    assert.match(md, /Measured with `cd bench && npm run suite -- --only dubbo-64x1 --duration 5s --warmup 2s --rounds 3`/);
    assert.match(md, /The `meltemi` target is Meltemi started with `--concurrency 1`/);
    assert.doesNotMatch(md, /issue/i);
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
