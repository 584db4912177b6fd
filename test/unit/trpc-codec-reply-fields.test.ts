/**
 * tRPC replies carry the client's own fixed-header fields (issue 13, defect 9): the version
 * byte @14 and the u32 @10 as the client wrote them, whatever the upstream writes and whatever
 * other clients' conventions a connection has seen. And a rewrite that would push the
 * protobuf header past header_len's u16 is an error value from encode, never a throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodecError, ErrorType } from '../../codecs/api/index.js';
import type { ClientCodec, Message, ServerCodec } from '../../codecs/api/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { copy, decodeChunks, testContext } from '../peers/codec-harness.js';
import { TrpcTypes, encodeTrpcFrame, pb } from '../peers/trpc-peer.js';

const server = (): ServerCodec => trpcCodecFactory.createServerCodec(testContext());
const client = (): ClientCodec => trpcCodecFactory.createClientCodec(testContext());

function decodeOne(codec: ServerCodec | ClientCodec, frame: Buffer): Message {
  const run = decodeChunks(codec, [copy(frame)]);
  assert.equal(run.error, undefined, run.error?.message);
  assert.equal(run.messages.length, 1);
  return run.messages[0]!;
}

const fields = (frame: Buffer): [number, number] => [frame[14]!, frame.readUInt32BE(10)];

function request(version: number, field10: number, requestId: number, extra: Record<string, unknown> = {}): Buffer {
  return encodeTrpcFrame({ streamId: field10, version }, pb(TrpcTypes.RequestProtocol, { request_id: requestId, func: Buffer.from('/a.B/C'), ...extra }));
}

/** What a trpc-go (v1) upstream answers to the forwarded request: its id @10 and in the header. */
function v1Answer(forwarded: Message): Buffer {
  const id = forwarded.requestId as number;
  return encodeTrpcFrame({ streamId: id, version: 1 }, pb(TrpcTypes.ResponseProtocol, { request_id: id }), Buffer.from('0a00', 'hex'));
}

describe('trpc replies carry the client fixed-header fields', () => {
  it('a v0 request (version 0, @10 0) gets version 0 and 0 @10 back from a v1 upstream, after a v1 request on the same connection', () => {
    const down = server();
    const v0 = decodeOne(down, request(0, 0, 6));
    const v1 = decodeOne(down, request(1, 7, 7));
    down.setRequestId(v0, 100);
    down.setRequestId(v1, 101);
    const up = client();
    const r0 = decodeOne(up, v1Answer(v0));
    const r1 = decodeOne(up, v1Answer(v1));
    down.setRequestId(r1, 7);
    down.setRequestId(r0, 6);
    assert.deepEqual(fields(r0.frame), [0, 0], 'the v0 client gets its own version and @10');
    assert.deepEqual(fields(r1.frame), [1, 7], 'the v1 client gets its id @10');
  });

  it('the same, with the v0 request decoded last', () => {
    const down = server();
    const v1 = decodeOne(down, request(1, 7, 7));
    const v0 = decodeOne(down, request(0, 0, 6));
    down.setRequestId(v1, 101);
    down.setRequestId(v0, 100);
    const up = client();
    const r1 = decodeOne(up, v1Answer(v1));
    const r0 = decodeOne(up, v1Answer(v0));
    down.setRequestId(r1, 7);
    down.setRequestId(r0, 6);
    assert.deepEqual(fields(r1.frame), [1, 7]);
    assert.deepEqual(fields(r0.frame), [0, 0]);
  });

  it('error replies: the client @10 verbatim, even after the request was rewritten for the upstream', () => {
    const cases: [number, number, number][] = [
      [0, 0, 6],
      [1, 0, 6], // a version-1 client that writes 0 @10
      [0, 9, 6], // a client that writes something else @10
      [1, 6, 6],
    ];
    for (const [version, field10, id] of cases) {
      const down = server();
      const req = decodeOne(down, request(version, field10, id));
      // Forwarding rewrote the request's @10 and request_id in place.
      client().setRequestId(req, 4242);
      req.requestId = id;
      const reply = down.errorReply(req, ErrorType.Timeout, 'late');
      assert.deepEqual(fields(reply), [version, field10], `version ${version}, @10 ${field10}`);
    }
  });
});

describe('trpc: a header past 65535 bytes is an error value', () => {
  it('a request mutation that pushes the header over 65535 bytes: encode returns a CodecError', () => {
    const down = server();
    const req = decodeOne(down, request(1, 1, 1));
    const out = client().encode(req, new Map([['x-big', 'v'.repeat(70_000)]]));
    assert.ok(out instanceof CodecError, 'an error value, not a throw');
    assert.match(out.message, /65535/);
    // A mutation that fits still works.
    const ok = client().encode(req, new Map([['x-small', 'v']]));
    assert.ok(!(ok instanceof CodecError));
  });

  it('a response mutation likewise', () => {
    const rsp = decodeOne(client(), encodeTrpcFrame({ streamId: 1, version: 1 }, pb(TrpcTypes.ResponseProtocol, { request_id: 1 })));
    assert.ok(server().encode(rsp, new Map([['x-big', 'v'.repeat(66_000)]])) instanceof CodecError);
  });

  it('an id rewrite that would grow a full header does not throw; encode reports it', () => {
    // No request_id (proto3 omits 0), a header of 65534 bytes: adding the id overflows header_len.
    const filler = 65_534 - 2 - 8;
    const header = pb(TrpcTypes.RequestProtocol, { func: Buffer.from('/a.B/C'), caller: Buffer.alloc(filler - 3, 0x61) });
    assert.ok(header.length >= 65_530 && header.length <= 65_535, `header of ${header.length}`);
    const req = decodeOne(server(), encodeTrpcFrame({ streamId: 0, version: 0 }, header));
    const up = client();
    up.setRequestId(req, 0x0fff_ffff);
    assert.ok(up.encode(req, null) instanceof CodecError);
  });
});
