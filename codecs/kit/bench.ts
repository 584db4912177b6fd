/**
 * A micro-benchmark of a codec's per-frame work: decode, encode without mutation (what the
 * proxy does for every forwarded frame) and an id rewrite and restore. It reports numbers;
 * it asserts nothing about them (DESIGN.md §8: speed lives in reports, not in tests).
 */
import { FrameReader } from '../api/index.js';
import type { CodecBase } from '../api/index.js';
import type { Sample } from './samples.js';
import { decodeOne } from './subject.js';
import type { KitSubject } from './subject.js';

/** One measured operation on one sample. */
export interface BenchResult {
  readonly sample: string;
  readonly operation: 'decode' | 'encode' | 'rewrite id';
  readonly opsPerSec: number;
  readonly nsPerOp: number;
}

/** Runs `op` in batches of 100 for `ms` milliseconds; returns the operation count and the nanoseconds taken. */
function runFor(op: () => void, ms: number): { ops: number; ns: number } {
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 100; i++) op();
    ops += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  return { ops, ns: Number(elapsed) };
}

/** Measures `op` for about `ms` milliseconds, after a warm-up long enough for the JIT to optimise it. */
function measure(op: () => void, ms: number): { opsPerSec: number; nsPerOp: number } {
  runFor(op, Math.max(20, ms / 2));
  const { ops, ns } = runFor(op, ms);
  const per = ns / ops;
  return { opsPerSec: Math.round(1e9 / per), nsPerOp: Math.round(per) };
}

function benchSample(make: () => CodecBase, rewriter: CodecBase, sample: Sample, ms: number): BenchResult[] {
  const decoder = make();
  const reader = new FrameReader();
  const frame = Buffer.from(sample.bytes);
  const decode = measure(() => {
    reader.push(frame);
    decoder.decode(reader);
  }, ms);
  const msg = decodeOne(make(), { label: sample.label, bytes: Buffer.from(sample.bytes) });
  const encode = measure(() => decoder.encode(msg, null), ms);
  const original = msg.requestId;
  const rewrite = measure(() => {
    rewriter.setRequestId(msg, 0x1234_5678);
    rewriter.setRequestId(msg, original);
  }, ms);
  return [
    { sample: sample.label, operation: 'decode', ...decode },
    { sample: sample.label, operation: 'encode', ...encode },
    { sample: sample.label, operation: 'rewrite id', ...rewrite },
  ];
}

/** Measures every sample (requests on the server half, responses on the client half). */
export function benchmarkCodec(s: KitSubject, msPerOperation = 200): BenchResult[] {
  const out: BenchResult[] = [];
  for (const r of s.samples.requests) out.push(...benchSample(() => s.server(), s.client(), r, msPerOperation));
  for (const r of s.samples.responses) out.push(...benchSample(() => s.client(), s.server(), r, msPerOperation));
  return out;
}

/** The results as an aligned text table. */
export function formatBench(results: readonly BenchResult[]): string {
  const width = Math.max(6, ...results.map((r) => r.sample.length));
  const lines = [`${'sample'.padEnd(width)}  ${'operation'.padEnd(10)}  ${'ops/s'.padStart(12)}  ${'ns/op'.padStart(8)}`];
  for (const r of results) {
    lines.push(`${r.sample.padEnd(width)}  ${r.operation.padEnd(10)}  ${r.opsPerSec.toLocaleString('en-US').padStart(12)}  ${String(r.nsPerOp).padStart(8)}`);
  }
  return lines.join('\n');
}
