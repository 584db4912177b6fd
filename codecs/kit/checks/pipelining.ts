/**
 * Pipelining: several frames back to back in one chunk, or spread over chunks that cut them
 * anywhere, decode in order, each to its own bytes.
 */
import type { CodecBase } from '../../api/index.js';
import type { Sample } from '../samples.js';
import { ConformanceFailure, decodeChunks, expectBytes } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

/** Chunk sizes that cut frames at many different offsets. */
const CHUNK_SIZES = [1, 7, 3, 13, 2, 31, 5, 64];

function chunked(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = CHUNK_SIZES[i % CHUNK_SIZES.length]!;
    out.push(Buffer.from(buf.subarray(at, at + n)));
    at += n;
  }
  return out;
}

function pipeline(make: () => CodecBase, samples: readonly Sample[], side: string): number {
  if (samples.length === 0) return 0;
  // Each sample twice, so equal frames follow each other too.
  const order = [...samples, ...samples];
  const stream = Buffer.concat(order.map((s) => s.bytes));
  for (const [how, chunks] of [
    ['in one chunk', [Buffer.from(stream)]],
    ['in uneven chunks', chunked(stream)],
  ] as const) {
    const codec = make();
    const run = decodeChunks(codec, chunks);
    const what = `${order.length} pipelined ${side} frame(s) ${how}`;
    if (run.error !== undefined) throw new ConformanceFailure(`${what}: decode returned an error after ${run.messages.length} message(s): ${run.error.message}`);
    if (run.messages.length !== order.length || run.leftover !== 0) {
      throw new ConformanceFailure(`${what}: decoded ${run.messages.length} message(s) with ${run.leftover} byte(s) left`);
    }
    run.messages.forEach((m, i) => expectBytes(codec.encode(m, null), order[i]!.bytes, `${what}: message ${i} (${order[i]!.label})`));
  }
  return order.length;
}

export const pipeliningCheck: ConformanceCheck = {
  name: 'pipelining: frames back to back decode in order',
  applies: () => true,
  run(s: KitSubject): string {
    const n = pipeline(() => s.server(), s.samples.requests, 'request') + pipeline(() => s.client(), s.samples.responses, 'response');
    return `${n} frame(s) per run`;
  },
};
