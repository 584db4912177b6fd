/**
 * Property tests for the bRPC codec: random and corrupted input never throws out of decode
 * and never stalls; random valid frames (built by protobufjs) decode to what was encoded,
 * and id rewrites round-trip for any 64-bit id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { ResponseStatus } from '../../codecs/api/index.js';
import type { CodecBase } from '../../codecs/api/index.js';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { BrpcTypes, encodeBrpcFrame, parseBrpcFrame } from '../peers/brpc-peer.js';
import { copy, decodeChunks, readTaggedHex, splitAt, testContext } from '../peers/codec-harness.js';

const codecs = (): CodecBase[] => [
  brpcCodecFactory.createServerCodec(testContext()),
  brpcCodecFactory.createClientCodec(testContext()),
  brpcCodecFactory.createServerCodec(testContext({ pinStreams: true })),
  brpcCodecFactory.createClientCodec(testContext({ pinStreams: true }, 4096)),
];

const vectors = readTaggedHex('raw-client-vs-brpc.out').map((l) => l.bytes);

/** Runs every codec over `bytes` cut at `cuts`, touching everything a proxy would touch. */
function exercise(bytes: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  for (const codec of codecs()) {
    const run = decodeChunks(codec, splitAt(copy(bytes), points));
    for (const m of run.messages) {
      void m.operationName;
      for (const _ of m.metadata.entries());
      m.metadata.get('x-any');
      codec.encode(m, new Map([['x-k', 'v']]));
      codec.setRequestId(m, 1n << 63n);
      codec.setRequestId(m, 3);
    }
  }
}

/** A frame with a valid header around arbitrary meta and body bytes. */
function framed(magic: string, meta: Uint8Array, rest: Uint8Array): Buffer {
  const head = Buffer.alloc(12);
  head.write(magic, 0, 'latin1');
  head.writeUInt32BE(meta.length + rest.length, 4);
  head.writeUInt32BE(meta.length, 8);
  return Buffer.concat([head, meta, rest]);
}

const cutsArb = fc.array(fc.nat(400), { maxLength: 6 });

describe('brpc codec: fuzz', () => {
  it('random bytes: no exception, no stall', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cutsArb, (bytes, cuts) => exercise(Buffer.from(bytes), cuts)),
      { numRuns: 500 },
    );
  });

  it('valid header around random meta: no exception, no stall', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('PRPC', 'STRM'),
        fc.uint8Array({ maxLength: 120 }),
        fc.uint8Array({ maxLength: 40 }),
        cutsArb,
        (magic, meta, rest, cuts) => exercise(framed(magic, meta, rest), cuts),
      ),
      { numRuns: 1000 },
    );
  });

  it('corrupted real frames: no exception, no stall', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...vectors),
        fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(200),
        cutsArb,
        (vector, flips, truncate, cuts) => {
          const bytes = copy(vector);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          exercise(Buffer.concat([bytes.subarray(0, Math.max(truncate, 12)), vector]), cuts);
        },
      ),
      { numRuns: 1000 },
    );
  });

  const idArb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  const keyArb = fc.string({ minLength: 1, maxLength: 8 }).map((s) => s.toLowerCase());
  const requestArb = fc.record({
    service: fc.string({ maxLength: 30 }),
    method: fc.string({ maxLength: 12 }),
    id: idArb,
    logId: fc.option(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), { nil: undefined }),
    userFields: fc.dictionary(keyArb, fc.string({ maxLength: 10 }), { maxKeys: 4 }),
    payload: fc.uint8Array({ maxLength: 50 }),
    attachment: fc.uint8Array({ maxLength: 10 }),
  });

  it('random valid requests decode to what protobufjs encoded; id rewrites round-trip', () => {
    fc.assert(
      fc.property(requestArb, idArb, cutsArb, (r, upstreamId, cuts) => {
        const request: Record<string, unknown> = { service_name: r.service, method_name: r.method };
        if (r.logId !== undefined) request['log_id'] = r.logId.toString();
        const frame = encodeBrpcFrame(
          { request, correlation_id: BigInt.asIntN(64, r.id).toString(), user_fields: r.userFields },
          r.payload,
          r.attachment,
        );
        const codec = brpcCodecFactory.createServerCodec(testContext());
        const points = [...new Set(cuts.map((c) => c % (frame.length + 1)))].sort((a, b) => a - b);
        const run = decodeChunks(codec, splitAt(copy(frame), points));
        assert.equal(run.error, undefined);
        assert.equal(run.messages.length, 1);
        const m = run.messages[0]!;
        assert.equal(BigInt(m.requestId), r.id);
        assert.equal(typeof m.requestId === 'number', r.id <= BigInt(Number.MAX_SAFE_INTEGER));
        assert.equal(m.metadata.get('service'), r.service);
        assert.equal(m.metadata.get('method'), r.method);
        for (const [k, v] of Object.entries(r.userFields)) {
          if (k !== 'service' && k !== 'method') assert.equal(m.metadata.get(k), v);
        }
        codec.setRequestId(m, upstreamId);
        const parsed = parseBrpcFrame(m.frame);
        assert.equal(BigInt.asUintN(64, BigInt(parsed.meta.correlation_id!)), upstreamId);
        assert.deepEqual(parsed.payload, Buffer.from(r.payload));
        assert.deepEqual(parsed.attachment, Buffer.from(r.attachment));
        codec.setRequestId(m, r.id);
        assert.deepEqual(m.frame, frame);
      }),
      { numRuns: 300 },
    );
  });

  it('random error replies decode with protobufjs', () => {
    fc.assert(
      fc.property(idArb, fc.integer({ min: 0, max: 9 }), fc.string({ maxLength: 40 }), (id, errorType, text) => {
        const codec = brpcCodecFactory.createServerCodec(testContext());
        const run = decodeChunks(codec, [encodeBrpcFrame({ request: { service_name: 's', method_name: 'm' }, correlation_id: BigInt.asIntN(64, id).toString() }, Buffer.alloc(0))]);
        const reply = codec.errorReply(run.messages[0]!, errorType, text);
        const meta = BrpcTypes.RpcMeta.toObject(BrpcTypes.RpcMeta.decode(reply.subarray(12, 12 + reply.readUInt32BE(8))), { longs: String });
        assert.equal(BigInt.asUintN(64, BigInt(meta['correlation_id'] as string)), id);
        assert.equal((meta['response'] as { error_text: string }).error_text, text);
        const back = decodeChunks(brpcCodecFactory.createClientCodec(testContext()), [reply]);
        assert.equal(back.messages[0]!.status, ResponseStatus.Error);
      }),
      { numRuns: 200 },
    );
  });
});
