/**
 * The kit as node:test tests: one test per conformance check, plus the micro-benchmark,
 * whose numbers go to the test report as diagnostics.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CodecFactory } from '../api/index.js';
import { benchmarkCodec, formatBench } from './bench.js';
import { CONFORMANCE_CHECKS, conformanceSubject } from './conformance.js';
import type { CodecSamples } from './samples.js';

/** Options of {@link runCodecConformance}. */
export interface ConformanceTestOptions {
  /** Run the micro-benchmark too (default true). */
  readonly bench?: boolean;
  /** Milliseconds per benchmarked operation and sample (default 100). */
  readonly benchMs?: number;
}

/**
 * Registers the conformance tests of `factory` with node:test, in a `describe` block named
 * after the codec. Call it at the top level of a test file:
 *
 * ```ts
 * import { runCodecConformance } from 'meltemi/codec-kit';
 * runCodecConformance(myCodecFactory, { requests: [...], responses: [...] });
 * ```
 */
export function runCodecConformance(factory: CodecFactory, samples: CodecSamples, options: ConformanceTestOptions = {}): void {
  const subject = conformanceSubject(factory, samples);
  void describe(`codec conformance: ${factory.name}`, () => {
    for (const check of CONFORMANCE_CHECKS) {
      if (!check.applies(subject)) continue;
      void test(check.name, (t) => {
        t.diagnostic(check.run(subject));
      });
    }
    if (options.bench !== false) {
      void test('micro-benchmark: decode, encode, id rewrite', (t) => {
        const results = benchmarkCodec(subject, options.benchMs ?? 100);
        for (const line of formatBench(results).split('\n')) t.diagnostic(line);
        assert.ok(results.length > 0 && results.every((r) => r.opsPerSec > 0), 'every operation completed at least once');
      });
    }
  });
}
