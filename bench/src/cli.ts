#!/usr/bin/env node
// `meltemi-bench` / `npm run bench`: parse options, run, print the table, optionally write JSON
// and a self-contained HTML report.
import { buildReport } from './report/document.ts';
import { renderHtml } from './report/html.ts';
import { writeJsonReport } from './report/json.ts';
import { prepareReportPath, writeReportFile } from './report/write-report-file.ts';
import { ratios as computeRatios, summarize } from './report/summary.ts';
import { soakVerdict } from './report/soak-verdict.ts';
import { describeRun, progressLine, renderTable } from './report/table.ts';
import { loadOptions, USAGE, type BenchOptions } from './options.ts';
import { loadProtocol } from './protocols/registry.ts';
import type { BenchProtocol } from './protocols/protocol.ts';
import { runBench } from './runner/run.ts';

async function main(): Promise<number> {
  let opts: BenchOptions | null;
  let protocol: BenchProtocol;
  try {
    opts = loadOptions(process.argv.slice(2));
    if (opts === null) {
      console.log(USAGE);
      return 0;
    }
    protocol = await loadProtocol(opts.protocol, opts.codecModule);
    if (opts.payload < protocol.minFrameSize) throw new Error(`payload must be at least ${protocol.minFrameSize} B for ${protocol.name}, got ${opts.payload}`);
    prepareReportPath(opts.json);
    prepareReportPath(opts.html);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  console.log(describeRun(opts, protocol));
  const startedAt = new Date();
  const rounds = opts.rounds;
  const { windows, echoPort } = await runBench(opts, protocol, {
    window: (w) => console.error(progressLine(w, rounds)),
    note: (line) => console.error(line),
  });
  const rows = summarize(opts.targets, windows, opts.connections);
  const ratios = computeRatios(rows);
  console.log(`\n${renderTable(opts, rows, ratios)}`);
  if (opts.json !== undefined || opts.html !== undefined) {
    const report = buildReport(opts, protocol, startedAt, echoPort, windows, rows, ratios);
    if (opts.json !== undefined) {
      writeJsonReport(opts.json, report);
      console.log(`raw results written to ${opts.json}`);
    }
    if (opts.html !== undefined) {
      writeReportFile(opts.html, renderHtml(report));
      console.log(`HTML report written to ${opts.html}`);
    }
  }
  let soakFailed = false;
  if (opts.mode === 'soak') {
    for (const w of windows) {
      if (w.round === 0) continue;
      const v = soakVerdict(w);
      for (const line of v.lines) console.log(line);
      soakFailed ||= !v.ok;
    }
  }
  return rows.some((r) => r.errorTotal > 0) || soakFailed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
