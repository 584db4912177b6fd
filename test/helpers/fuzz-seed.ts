/**
 * One seed for every randomised test (issue 14): fast-check properties and the mutation
 * fuzzer read MELTEMI_FUZZ_SEED, so a failure reproduces with the seed it printed:
 *
 *   MELTEMI_FUZZ_SEED=123456 node scripts/run-tests.mjs thrift-property
 *
 * Without it a fresh seed is drawn per process and printed with every failure.
 */
import fc from 'fast-check';

/** The seed of this run: MELTEMI_FUZZ_SEED when set, else a fresh one (printed on failure). */
export const FUZZ_SEED: number = seedFromEnv() ?? (Date.now() ^ (process.pid << 16)) >>> 0;

function seedFromEnv(): number | undefined {
  const text = process.env['MELTEMI_FUZZ_SEED'];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new Error(`MELTEMI_FUZZ_SEED must be an integer in 0..2^32-1, got '${text}'`);
  return n;
}

/**
 * fast-check parameters for one property: the run's seed and a reporter that names the
 * property, the seed and how to replay it, ahead of fast-check's own counterexample.
 */
export function fcParams<Ts>(name: string, numRuns?: number): fc.Parameters<Ts> {
  return {
    seed: FUZZ_SEED,
    ...(numRuns === undefined ? {} : { numRuns }),
    reporter(details: fc.RunDetails<Ts>): void {
      if (!details.failed) return;
      const replay = `MELTEMI_FUZZ_SEED=${FUZZ_SEED}`;
      throw new Error(
        `${name}: failed with seed ${FUZZ_SEED} (rerun with ${replay}); counterexample ${fc.stringify(details.counterexample)} after ${details.numRuns} run(s)\n${fc.defaultReportMessage(details) ?? ''}`,
      );
    },
  };
}
