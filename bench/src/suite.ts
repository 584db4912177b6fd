// `npm run suite -- [flags]`: runs a list of scenarios one after another, each writing
// results/<scenario>.json and .html, then regenerates RESULTS.md from them. Flags after `--`
// are passed to every scenario (e.g. `--duration 3s --rounds 3 --warmup 1s` for a short run).
// `--only a,b` picks scenarios by name.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Every measurement RESULTS.md reports: each protocol at 64 x 1 and 64 x 8, open loop, idle, sweep, workers. */
export const SUITE = [
  'dubbo-64x1', 'dubbo-64x8', 'thrift-binary-64x1', 'thrift-binary-64x8', 'thrift-compact-64x1', 'thrift-compact-64x8',
  'brpc-64x1', 'brpc-64x8', 'trpc-64x1', 'trpc-64x8', 'dubbo-open-10k', 'idle-10k', 'dubbo-sweep', 'dubbo-workers',
] as const;

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results.js', import.meta.url));

function main(): number {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  let names: readonly string[] = SUITE;
  if (onlyAt >= 0) {
    names = (args[onlyAt + 1] ?? '').split(',').filter((s) => s !== '');
    args.splice(onlyAt, 2);
  }
  mkdirSync(`${BENCH_DIR}results`, { recursive: true });
  const failed: string[] = [];
  for (const name of names) {
    console.log(`\n=== ${name}`);
    const out = `${BENCH_DIR}results/${name}`;
    const r = spawnSync(process.execPath, [CLI, name, ...args, '--json', `${out}.json`, '--html', `${out}.html`], { stdio: 'inherit', cwd: BENCH_DIR });
    // Exit 1 with a JSON file is a run that counted errors: still a result worth reporting.
    if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
  }
  const res = spawnSync(process.execPath, [RESULTS], { stdio: 'inherit', cwd: BENCH_DIR });
  if (failed.length > 0) console.log(`\nscenarios that failed or counted errors: ${failed.join(', ')}`);
  return failed.length > 0 || res.status !== 0 ? 1 : 0;
}

process.exitCode = main();
