/**
 * The fuzz settings every randomised check reads: MELTEMI_FUZZ_SEED (replay a printed seed)
 * and MELTEMI_FUZZ_RUNS (mutation inputs per run). The `meltemi-codec-kit` flags --seed and
 * --runs set them. Without a seed, one is drawn per process, and every report prints it.
 */
import { randomInt } from 'node:crypto';

/** Mutation inputs per codec when nothing says otherwise: a few seconds per codec. */
export const DEFAULT_MUTATION_RUNS = 5000;

function envInt(name: string, max: number): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new TypeError(`${name} must be an integer in 0..${max}, got '${text}'`);
  return n;
}

let drawn: number | undefined;

/** The seed of this process's fuzzing: MELTEMI_FUZZ_SEED, else one drawn once. */
export function fuzzSeed(): number {
  return envInt('MELTEMI_FUZZ_SEED', 0xffff_ffff) ?? (drawn ??= randomInt(0, 0xffff_ffff));
}

/** Mutation inputs per run: MELTEMI_FUZZ_RUNS, else `fallback`. */
export function mutationRuns(fallback = DEFAULT_MUTATION_RUNS): number {
  return envInt('MELTEMI_FUZZ_RUNS', Number.MAX_SAFE_INTEGER) ?? fallback;
}
