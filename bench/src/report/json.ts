// The raw record of a run, for later comparison between runs or commits and for rebuilding the
// HTML report and RESULTS.md: options, machine, every window with its full latency histogram,
// latency timeline and proxy resource samples, and the summary the table was printed from.
import type { BenchReport } from './document.ts';
import { writeReportFile } from './write-report-file.ts';

export function writeJsonReport(file: string, report: BenchReport): void {
  writeReportFile(file, `${JSON.stringify(report, null, 1)}\n`);
}
