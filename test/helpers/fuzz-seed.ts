/**
 * One seed for every randomised test (issue 14). Importing this module makes every
 * fast-check property of the test file run from MELTEMI_FUZZ_SEED (the same variable the
 * codec kit's mutation fuzzer reads), and a failure names the seed and how to replay it:
 *
 *   MELTEMI_FUZZ_SEED=123456 node scripts/run-tests.mjs thrift-property
 *
 * Without the variable a fresh seed is drawn per process.
 */
import fc from 'fast-check';
import { fuzzSeed } from '../../codecs/kit/fuzz/settings.js';

/** The seed of this process's randomised tests. */
export const FUZZ_SEED: number = fuzzSeed();

function report<Ts>(details: fc.RunDetails<Ts>): void {
  if (!details.failed) return;
  throw new Error(`property failed with seed ${FUZZ_SEED}: rerun with MELTEMI_FUZZ_SEED=${FUZZ_SEED}\n${fc.defaultReportMessage(details) ?? ''}`);
}

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: FUZZ_SEED, reporter: report });

/** Explicit parameters for a property (the global ones already apply; this adds numRuns). */
export function fcParams<Ts>(name: string, numRuns?: number): fc.Parameters<Ts> {
  return {
    seed: FUZZ_SEED,
    ...(numRuns === undefined ? {} : { numRuns }),
    reporter(details: fc.RunDetails<Ts>): void {
      if (!details.failed) return;
      throw new Error(`${name}: failed with seed ${FUZZ_SEED}: rerun with MELTEMI_FUZZ_SEED=${FUZZ_SEED}\n${fc.defaultReportMessage(details) ?? ''}`);
    },
  };
}
