/**
 * The codec conformance kit (`meltemi/codec-kit`): checks a codec against the contract the
 * proxy relies on, with sample frames its author provides. Use {@link runCodecConformance}
 * in a node:test file, {@link checkCodecConformance} for a report, or the
 * `meltemi-codec-kit` command.
 */
export { benchmarkCodec, formatBench } from './bench.js';
export type { BenchResult } from './bench.js';
export type { ConformanceCheck } from './checks/check.js';
export { CONFORMANCE_CHECKS, checkCodecConformance, conformanceSubject, runCheck } from './conformance.js';
export type { CheckOutcome } from './conformance.js';
export { runCodecConformance } from './node-test.js';
export type { ConformanceTestOptions } from './node-test.js';
export { DEFAULT_REQUEST_IDS, normalizeSamples } from './samples.js';
export type { CodecSamples, NormalizedSamples, Sample, SampleFrame } from './samples.js';
export { ConformanceFailure, decodeChunks } from './subject.js';
export type { DecodeRun, KitSubject } from './subject.js';
