// `npm run bench`: parse options, run, print the table, optionally write JSON.
import { writeJsonReport } from './report/json.ts';
import { meltemiVsPipe, summarize } from './report/summary.ts';
import { describeRun, progressLine, renderTable } from './report/table.ts';
import { loadOptions, USAGE } from './options.ts';
import { runBench } from './runner/run.ts';

async function main(): Promise<number> {
  let opts;
  try {
    opts = loadOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (opts === null) {
    console.log(USAGE);
    return 0;
  }
  const rounds = opts.rounds;
  console.log(describeRun(opts));
  const startedAt = new Date();
  const { windows } = await runBench(opts, (w) => console.error(progressLine(w, rounds)));
  const rows = summarize(opts.targets, windows);
  const ratios = meltemiVsPipe(rows);
  console.log(`\n${renderTable(rows, ratios)}`);
  if (opts.json !== undefined) {
    writeJsonReport(opts.json, opts, startedAt, windows, rows, ratios);
    console.log(`raw results written to ${opts.json}`);
  }
  return rows.some((r) => r.errorTotal > 0) ? 1 : 0;
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
