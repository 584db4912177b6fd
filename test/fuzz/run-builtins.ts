/**
 * The long mutation-fuzz run of every built-in codec (not a test: CI runs a bounded number
 * through the kit's fuzz check). Prints one line of counts per codec; on a failure prints the
 * seed, case and input to add to test/fixtures/fuzz-regressions, and exits 1.
 *
 *   node dist/test/fuzz/run-builtins.js [--runs 1000000] [--seed N] [--codec dubbo,...]
 */
import { parseArgs } from 'node:util';
import { conformanceSubject } from '../../codecs/kit/index.js';
import { formatCounts, runMutationFuzz } from '../../codecs/kit/fuzz/mutation-fuzz.js';
import { fuzzSeed } from '../../codecs/kit/fuzz/settings.js';
import { builtinSubjects } from './builtin-samples.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, codec: { type: 'string' } } });
const runs = Number(values.runs ?? '1000000');
const seed = values.seed === undefined ? fuzzSeed() : Number(values.seed);
const only = values.codec === undefined ? undefined : new Set(values.codec.split(','));
let failed = 0;
for (const s of builtinSubjects()) {
  if (only !== undefined && !only.has(s.name)) continue;
  const subject = conformanceSubject(s.factory, s.samples);
  try {
    const counts = runMutationFuzz(subject, runs, seed);
    process.stdout.write(`${s.name}: seed ${seed}: ${formatCounts(counts)}\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`${s.name}: FAILED\n${(err as Error).message}\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
