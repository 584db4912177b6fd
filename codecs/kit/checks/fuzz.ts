/**
 * Random and corrupt input: fast-check properties (random bytes, and sample frames with bits
 * flipped, bytes overwritten, inserted or cut off, arriving in random chunks), then the
 * mutation fuzzer (fuzz/mutation-fuzz.ts: edited lengths, spliced frames, nesting 100k deep).
 * Decode may return messages or an error, but no exception may escape it, nor from reading
 * the metadata of what it returns, re-id'ing, encoding or answering it: the proxy would crash
 * on live traffic. Both are seeded from MELTEMI_FUZZ_SEED (fuzz/settings.ts); a failure
 * prints the seed that replays it.
 */
import fc from 'fast-check';
import { ErrorType, MessageType } from '../../api/index.js';
import type { CodecBase, Message, ServerCodec } from '../../api/index.js';
import type { Sample } from '../samples.js';
import { ConformanceFailure, decodeChunks, splitAt, touchMetadata } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';
import { formatCounts, runMutationFuzz } from '../fuzz/mutation-fuzz.js';
import { fuzzSeed, mutationRuns } from '../fuzz/settings.js';

/** How many cases each property runs; `MELTEMI_KIT_FUZZ_RUNS` overrides it. */
export const DEFAULT_FUZZ_RUNS = 300;

type Corruption =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function corrupt(bytes: Buffer, changes: readonly Corruption[]): Buffer {
  let out = Buffer.from(bytes);
  for (const c of changes) {
    if (out.length === 0) break;
    const at = c.at % out.length;
    if (c.kind === 'flip') out[at] = out[at]! ^ (1 << c.bit);
    else if (c.kind === 'set') out[at] = c.value;
    else if (c.kind === 'truncate') out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), c.bytes, out.subarray(at)]);
  }
  return out;
}

/** Cuts `buf` at the given offsets (taken modulo its length, sorted, deduplicated). */
function cut(buf: Buffer, offsets: readonly number[]): Buffer[] {
  if (buf.length < 2) return [buf];
  const points = [...new Set(offsets.map((o) => 1 + (o % (buf.length - 1))))].sort((a, b) => a - b);
  return splitAt(buf, points);
}

/** Decodes `chunks` and uses every message as the proxy would; any exception is a failure. */
function survive(codec: CodecBase, chunks: Buffer[], replier: ServerCodec | undefined): void {
  try {
    const run = decodeChunks(codec, chunks);
    for (const msg of run.messages) use(msg, replier);
  } catch (err) {
    if (err instanceof ConformanceFailure) throw err;
    throw new ConformanceFailure(`an exception escaped: ${(err as Error).stack ?? String(err)}`);
  }
}

function use(msg: Message, replier: ServerCodec | undefined): void {
  touchMetadata(msg);
  if (replier !== undefined && msg.type === MessageType.Request) replier.errorReply(msg, msg.decodeError === undefined ? ErrorType.RouteNotFound : ErrorType.BadRequest, 'fuzz');
}

function runs(): number {
  const env = Number(process.env['MELTEMI_KIT_FUZZ_RUNS']);
  return Number.isInteger(env) && env > 0 ? env : DEFAULT_FUZZ_RUNS;
}

function property<Ts extends [unknown, ...unknown[]]>(name: string, prop: fc.IPropertyWithHooks<Ts>): void {
  try {
    fc.assert(prop, { numRuns: runs(), seed: fuzzSeed() });
  } catch (err) {
    // fast-check's message holds the counterexample and seed; the cause says what went wrong.
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? `\n${cause.message}` : '';
    throw new ConformanceFailure(`${name} (seed ${fuzzSeed()}; rerun with MELTEMI_FUZZ_SEED=${fuzzSeed()}): ${(err as Error).message.trim()}${why}`);
  }
}

function fuzzSide(side: 'server' | 'client', make: () => CodecBase, samples: readonly Sample[], replier: () => ServerCodec | undefined): void {
  const chunkCuts = fc.array(fc.nat(), { maxLength: 6 });
  property(
    `${side} half, random bytes`,
    fc.property(fc.uint8Array({ maxLength: 512 }), chunkCuts, (bytes, cuts) => survive(make(), cut(Buffer.from(bytes), cuts), replier())),
  );
  if (samples.length === 0) return;
  const pick = fc.nat({ max: samples.length - 1 });
  property(
    `${side} half, corrupted samples`,
    fc.property(pick, fc.array(corruption, { minLength: 1, maxLength: 4 }), chunkCuts, (i, changes, cuts) =>
      survive(make(), cut(corrupt(samples[i]!.bytes, changes), cuts), replier()),
    ),
  );
  property(
    `${side} half, a good frame followed by random bytes`,
    fc.property(pick, fc.uint8Array({ minLength: 1, maxLength: 64 }), chunkCuts, (i, tail, cuts) =>
      survive(make(), cut(Buffer.concat([samples[i]!.bytes, tail]), cuts), replier()),
    ),
  );
}

export const fuzzCheck: ConformanceCheck = {
  name: 'random and corrupt input: no exception escapes decode (fast-check)',
  applies: () => true,
  run(s: KitSubject): string {
    fuzzSide('server', () => s.server(), s.samples.requests, () => s.server());
    fuzzSide('client', () => s.client(), s.samples.responses, () => undefined);
    const counts = runMutationFuzz(s, mutationRuns(), fuzzSeed());
    return `seed ${fuzzSeed()}: ${runs()} fast-check case(s) per property; mutation fuzz ${formatCounts(counts)}`;
  },
};
