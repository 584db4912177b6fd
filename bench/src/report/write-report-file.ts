// Report files go where the user points, folders included: `--html results/bench.html` on a
// fresh clone has no results/ yet, and a finished run must not be lost to ENOENT.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeReportFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Makes the report's folder before the run, so a path that cannot be written fails in a second, not after the run. */
export function prepareReportPath(file: string | undefined): void {
  if (file !== undefined) mkdirSync(dirname(file), { recursive: true });
}
