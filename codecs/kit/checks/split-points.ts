/**
 * Every split point: a frame that arrives in two chunks, cut at every offset, and one that
 * arrives a byte at a time, decodes to the same message. Until the last byte the codec must
 * ask for more (no message, no error).
 */
import type { CodecBase } from '../../api/index.js';
import type { Sample } from '../samples.js';
import { ConformanceFailure, decodeChunks, expectBytes, splitAt } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

function expectWhole(make: () => CodecBase, sample: Sample, chunks: Buffer[], how: string): void {
  const codec = make();
  const run = decodeChunks(codec, chunks);
  const what = `${sample.label} ${how}`;
  if (run.error !== undefined) throw new ConformanceFailure(`${what}: decode returned an error: ${run.error.message}`);
  if (run.messages.length !== 1 || run.leftover !== 0) {
    throw new ConformanceFailure(`${what}: expected one message and no byte left, got ${run.messages.length} message(s) and ${run.leftover} byte(s) left`);
  }
  expectBytes(codec.encode(run.messages[0]!, null), sample.bytes, `${what}: encode(message, null)`);
}

function splits(make: () => CodecBase, sample: Sample): number {
  const bytes = sample.bytes;
  for (let p = 1; p < bytes.length; p++) {
    // Copies, so that a codec keeping a view of the first chunk sees it stay intact.
    expectWhole(make, sample, [Buffer.from(bytes.subarray(0, p)), Buffer.from(bytes.subarray(p))], `split at byte ${p}`);
  }
  const oneByOne = Array.from({ length: bytes.length }, (_, i) => Buffer.from(bytes.subarray(i, i + 1)));
  expectWhole(make, sample, oneByOne, 'fed one byte at a time');
  if (bytes.length >= 3) expectWhole(make, sample, splitAt(Buffer.from(bytes), [1, bytes.length - 1]), 'split after the first and before the last byte');
  return bytes.length;
}

export const splitPointsCheck: ConformanceCheck = {
  name: 'every split point: a frame cut anywhere decodes the same',
  applies: () => true,
  run(s: KitSubject): string {
    let cuts = 0;
    for (const r of s.samples.requests) cuts += splits(() => s.server(), r);
    for (const r of s.samples.responses) cuts += splits(() => s.client(), r);
    return `${cuts} split point(s)`;
  },
};
