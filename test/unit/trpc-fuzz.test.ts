/**
 * Property tests for the tRPC codec: random and corrupted input never throws out of decode
 * and never stalls; random valid frames (built by protobufjs) decode to what was encoded,
 * and id rewrites round-trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { MessageType } from '../../codecs/api/index.js';
import type { CodecBase } from '../../codecs/api/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { copy, decodeChunks, readTaggedHex, splitAt, testContext } from '../peers/codec-harness.js';
import { TrpcTypes, encodeTrpcFrame, parseTrpcFrame, pb, unpb } from '../peers/trpc-peer.js';

const codecs = (): CodecBase[] => [
  trpcCodecFactory.createServerCodec(testContext()),
  trpcCodecFactory.createClientCodec(testContext()),
  trpcCodecFactory.createServerCodec(testContext({}, 4096)),
];

const vectors = readTaggedHex('trpc-vectors.txt').map((v) => v.bytes);

function exercise(bytes: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  for (const codec of codecs()) {
    const run = decodeChunks(codec, splitAt(copy(bytes), points));
    for (const m of run.messages) {
      void m.operationName;
      for (const _ of m.metadata.entries());
      codec.encode(m, new Map([['x-k', 'v']]));
      codec.setRequestId(m, 0xffff_ffff);
      codec.setRequestId(m, 0);
    }
  }
}

const cutsArb = fc.array(fc.nat(400), { maxLength: 6 });

describe('trpc codec: fuzz', () => {
  it('random bytes: no exception, no stall', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cutsArb, (bytes, cuts) => exercise(Buffer.from(bytes), cuts)),
      { numRuns: 500 },
    );
  });

  it('valid fixed header around random protobuf bytes: no exception, no stall', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 5 }),
        fc.uint8Array({ maxLength: 120 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat(0xffff_ffff),
        cutsArb,
        (dataType, streamType, header, rest, id, cuts) => {
          const frame = encodeTrpcFrame({ dataFrameType: dataType, streamFrameType: streamType, streamId: id }, header, rest);
          exercise(frame, cuts);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('corrupted vectors: no exception, no stall', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...vectors),
        fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(200),
        cutsArb,
        (vector, flips, truncate, cuts) => {
          const bytes = copy(vector);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          exercise(Buffer.concat([bytes.subarray(0, Math.max(truncate, 16)), vector]), cuts);
        },
      ),
      { numRuns: 1000 },
    );
  });

  const keyArb = fc.string({ minLength: 1, maxLength: 8 }).map((s) => s.toLowerCase());
  it('random valid requests decode to what protobufjs encoded; id rewrites round-trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.nat(0xffff_ffff),
          callType: fc.integer({ min: 0, max: 1 }),
          callee: fc.string({ maxLength: 30 }),
          func: fc.string({ maxLength: 30 }),
          transInfo: fc.dictionary(keyArb, fc.string({ maxLength: 10 }), { maxKeys: 4 }),
          body: fc.uint8Array({ maxLength: 50 }),
          version: fc.integer({ min: 0, max: 1 }),
        }),
        fc.nat(0xffff_ffff),
        (r, upstreamId) => {
          const ti: Record<string, Buffer> = {};
          for (const [k, v] of Object.entries(r.transInfo)) ti[k] = Buffer.from(v);
          const header = pb(TrpcTypes.RequestProtocol, {
            call_type: r.callType,
            request_id: r.id,
            callee: Buffer.from(r.callee),
            func: Buffer.from(r.func),
            trans_info: ti,
          });
          const frame = encodeTrpcFrame({ streamId: r.version >= 1 ? r.id : 0, version: r.version }, header, r.body);
          const codec = trpcCodecFactory.createServerCodec(testContext());
          const run = decodeChunks(codec, [copy(frame)]);
          assert.equal(run.error, undefined);
          const m = run.messages[0]!;
          assert.equal(m.type, r.callType === 1 ? MessageType.Oneway : MessageType.Request);
          assert.equal(m.requestId, r.id);
          assert.equal(m.metadata.get('callee'), r.callee.length > 0 ? r.callee : undefined);
          for (const [k, v] of Object.entries(r.transInfo)) {
            if (!['caller', 'callee', 'func'].includes(k)) assert.equal(m.metadata.get(k), v);
          }
          codec.setRequestId(m, upstreamId);
          const parsed = parseTrpcFrame(m.frame);
          assert.equal(unpb(TrpcTypes.RequestProtocol, parsed.header)['request_id'] ?? 0, upstreamId);
          assert.equal(parsed.streamId, upstreamId);
          assert.deepEqual(parsed.body, Buffer.from(r.body));
          codec.setRequestId(m, r.id);
          if (r.version === 0) m.frame.writeUInt32BE(0, 10);
          assert.deepEqual(m.frame, frame);
        },
      ),
      { numRuns: 300 },
    );
  });
});
