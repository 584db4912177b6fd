#!/usr/bin/env node
/**
 * `meltemi-codec-kit <package or path> <samples.json|yaml>`: runs the conformance kit on a
 * codec package the way Meltemi would load it, prints one line per check and a benchmark
 * table, and exits 1 when a check fails (2 for usage errors).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { importCodecFactory } from '../../proxy/extension-loader.js';
import { benchmarkCodec, formatBench } from '../../codecs/kit/bench.js';
import { fuzzCheck } from '../../codecs/kit/checks/fuzz.js';
import { CONFORMANCE_CHECKS, conformanceSubject, runCheck } from '../../codecs/kit/conformance.js';
import type { CodecSamples } from '../../codecs/kit/samples.js';

const USAGE = `usage: meltemi-codec-kit <package or path> <samples.json|yaml> [--codec <name>] [--no-bench] [--bench-ms <n>] [--fuzz-runs <n>] [--runs <n>] [--seed <n>]

  <package or path>  the codec package, resolved from the working directory as Meltemi does
  <samples>          { "codec"?: name, "requests": [hex...], "responses": [hex...],
                       "heartbeat"?: { "request": hex, "reply"?: hex }, "options"?: {...},
                       "requestIds"?: [...] }  (a frame may also be { "name", "bytes": hex })
  --codec <name>     the codec name the package must register (default: the samples' "codec")
  --no-bench         skip the micro-benchmark
  --bench-ms <n>     milliseconds per benchmarked operation (default 200)
  --fuzz-runs <n>    fast-check cases per property (default 300)
  --runs <n>         mutation-fuzz inputs (default 5000); with --runs only the fuzz check
                     runs, and prints its counts (e.g. --runs 1000000 for a long run)
  --seed <n>         the fuzz seed (0..2^32-1): a failure prints the seed that replays it
                     (same as MELTEMI_FUZZ_SEED)
`;

function fail(message: string, code: number): number {
  process.stderr.write(`meltemi-codec-kit: ${message}\n`);
  return code;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        codec: { type: 'string' },
        'no-bench': { type: 'boolean' },
        'bench-ms': { type: 'string' },
        'fuzz-runs': { type: 'string' },
        runs: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 2) return fail(`expected a package and a samples file\n${USAGE}`, 2);
  const [pkg, samplesFile] = positionals as [string, string];
  if (values['fuzz-runs'] !== undefined) process.env['MELTEMI_KIT_FUZZ_RUNS'] = values['fuzz-runs'];
  for (const [flag, env] of [['runs', 'MELTEMI_FUZZ_RUNS'], ['seed', 'MELTEMI_FUZZ_SEED']] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) return fail(`--${flag} must be a non-negative integer, got '${v}'\n${USAGE}`, 2);
    process.env[env] = v;
  }
  const fuzzOnly = values.runs !== undefined;
  let samples: CodecSamples & { codec?: string };
  try {
    samples = parseYaml(readFileSync(samplesFile, 'utf8')) as CodecSamples & { codec?: string };
  } catch (err) {
    return fail(`cannot read samples ${samplesFile}: ${(err as Error).message}`, 2);
  }
  let factory;
  try {
    factory = await importCodecFactory(pkg, process.cwd(), values.codec ?? samples.codec);
  } catch (err) {
    return fail((err as Error).message, 1);
  }
  let subject;
  try {
    subject = conformanceSubject(factory, samples);
  } catch (err) {
    return fail(`samples ${samplesFile}: ${(err as Error).message}`, 2);
  }
  process.stdout.write(`${factory.name} (${factory.protocol}) from ${pkg}\n`);
  let failed = 0;
  for (const check of fuzzOnly ? CONFORMANCE_CHECKS.filter((c) => c === fuzzCheck) : CONFORMANCE_CHECKS) {
    const outcome = runCheck(check, subject);
    const tag = outcome.status === 'pass' ? 'ok  ' : outcome.status === 'fail' ? 'FAIL' : 'n/a ';
    if (outcome.status === 'fail') failed++;
    process.stdout.write(`${tag} ${outcome.name}\n     ${outcome.detail.split('\n').join('\n     ')}\n`);
  }
  if (failed === 0 && values['no-bench'] !== true && !fuzzOnly) {
    const ms = values['bench-ms'] === undefined ? 200 : Number(values['bench-ms']);
    process.stdout.write(`\n${formatBench(benchmarkCodec(subject, ms))}\n`);
  }
  process.stdout.write(`\n${failed === 0 ? 'all checks passed' : `${failed} check(s) failed`}\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`meltemi-codec-kit: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
