import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodecError, ErrorType, FrameReader, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { ClientCodec, Message, ServerCodec } from '../../codecs/api/index.js';
import { STREAM_UNSUPPORTED, brpcCodecFactory } from '../../codecs/brpc/index.js';
import { BrpcTypes, decodeRpcMeta, encodeBrpcFrame, parseBrpcFrame } from '../peers/brpc-peer.js';
import { copy, decodeChunks, hex, readCapture, readTaggedHex, splitAt, testContext } from '../peers/codec-harness.js';

// spec/test-vectors.md §3.1: real brpc echo_client -> echo_server, attachment "ATT".
const REQ_31 = hex(
  '505250430000003f0000002f0a1d0a136578616d706c652e4563686f5365727669636512044563686f1800180020828080801028035000580062000a0b68656c6c6f20776f726c64415454',
);
const RSP_31 = hex('50525043000000240000001412020800180020828080801028035000580062000a0b68656c6c6f20776f726c64415454');
// §3.3: the minimal error reply (ENOMETHOD, correlation 9) accepted by the real client.
const ERR_33 = hex(
  '505250430000002900000029122508ea0712204661696c20746f2066696e64206d6574686f643d4e6f537563684d6574686f642009',
);

const server = (options: Record<string, unknown> = {}): ServerCodec => brpcCodecFactory.createServerCodec(testContext(options));
const client = (options: Record<string, unknown> = {}): ClientCodec => brpcCodecFactory.createClientCodec(testContext(options));

function decodeOne(codec: ServerCodec | ClientCodec, frame: Buffer): Message {
  const run = decodeChunks(codec, [copy(frame)]);
  assert.equal(run.error, undefined, run.error?.message);
  assert.equal(run.messages.length, 1);
  assert.equal(run.leftover, 0);
  return run.messages[0]!;
}

function metaWithout(meta: Buffer, field: string): Record<string, unknown> {
  const obj = decodeRpcMeta(meta) as Record<string, unknown>;
  delete obj[field];
  return obj;
}

function metaOf(frame: Buffer): Buffer {
  return frame.subarray(12, 12 + frame.readUInt32BE(8));
}

function assertSizes(frame: Buffer): void {
  assert.equal(frame.toString('latin1', 0, 4), 'PRPC');
  assert.equal(frame.readUInt32BE(4), frame.length - 12, 'body_size');
  assert.ok(frame.readUInt32BE(8) <= frame.readUInt32BE(4), 'meta_size <= body_size');
}

describe('brpc codec: factory', () => {
  it('registers under the Aeraki name', () => {
    assert.equal(brpcCodecFactory.name, 'aeraki.meta_protocol.codec.brpc');
    assert.equal(brpcCodecFactory.protocol, 'brpc');
    assert.equal(brpcCodecFactory.apiVersion, 1);
  });
});

describe('brpc codec: golden vectors', () => {
  it('decodes the real brpc request (§3.1) and forwards it byte for byte', () => {
    const codec = server();
    const msg = decodeOne(codec, REQ_31);
    assert.equal(msg.type, MessageType.Request);
    assert.equal(msg.requestId, 4294967298);
    assert.equal(msg.metadata.get('service'), 'example.EchoService');
    assert.equal(msg.metadata.get('method'), 'Echo');
    assert.equal(msg.operationName, 'example.EchoService/Echo');
    assert.equal(msg.headerSize, 12 + 0x2f);
    assert.equal(msg.bodySize, 0x3f - 0x2f);
    assert.equal(msg.streamId, 0);
    assert.deepEqual(msg.frame, REQ_31);
    assert.equal(codec.encode(msg, null), msg.frame);
    assert.equal(codec.encode(msg, new Map()), msg.frame);
    assert.equal(codec.heartbeatReply(msg), null);
  });

  it('decodes the real brpc response (§3.1)', () => {
    const msg = decodeOne(client(), RSP_31);
    assert.equal(msg.type, MessageType.Response);
    assert.equal(msg.status, ResponseStatus.Ok);
    assert.equal(msg.requestId, 4294967298);
    assert.deepEqual(msg.frame, RSP_31);
  });

  it('decodes five pipelined requests (§3.2) from one chunk, 64-bit ids included', () => {
    const reqs = readTaggedHex('raw-client-vs-brpc.out').filter((l) => l.tag === 'REQ');
    assert.equal(reqs.length, 5);
    const run = decodeChunks(server(), [Buffer.concat(reqs.map((r) => r.bytes))]);
    assert.equal(run.error, undefined);
    assert.deepEqual(
      run.messages.map((m) => m.requestId),
      [7, 8, 9, 10, 1152921504606846977n],
    );
    assert.deepEqual(
      run.messages.map((m) => m.operationName),
      [
        'example.EchoService/Echo',
        'example.EchoService/Echo',
        'example.EchoService/NoSuchMethod',
        'example.NoSuchService/Echo',
        'example.EchoService/Echo',
      ],
    );
    assert.equal(run.messages[1]!.metadata.get('x-proxy'), 'tproxy');
    assert.deepEqual(new Map(run.messages[1]!.metadata.entries()), new Map([
      ['x-proxy', 'tproxy'],
      ['service', 'example.EchoService'],
      ['method', 'Echo'],
    ]));
    run.messages.forEach((m, i) => assert.deepEqual(m.frame, reqs[i]!.bytes));
  });

  it('decodes the out-of-order replies (§3.2) with their statuses', () => {
    const rsps = readTaggedHex('raw-client-vs-brpc.out').filter((l) => l.tag === 'RSP');
    const run = decodeChunks(client(), rsps.map((r) => copy(r.bytes)));
    assert.equal(run.error, undefined);
    assert.deepEqual(
      run.messages.map((m) => [m.requestId, m.status]),
      [
        [1152921504606846977n, ResponseStatus.Error],
        [10, ResponseStatus.Error],
        [9, ResponseStatus.Error],
        [8, ResponseStatus.Ok],
        [7, ResponseStatus.Ok],
      ],
    );
    run.messages.forEach((m, i) => assert.deepEqual(m.frame, rsps[i]!.bytes));
  });

  it('replays the real client/server capture, every read in order, byte for byte', () => {
    const reads = readCapture('cap.brpc-client-to-brpc-server.hex');
    for (const dir of ['C->S', 'S->C'] as const) {
      const lines = reads.filter((r) => r.dir === dir);
      const run = decodeChunks(dir === 'C->S' ? server() : client(), lines.map((l) => copy(l.bytes)));
      assert.equal(run.error, undefined);
      assert.equal(run.leftover, 0);
      assert.equal(run.messages.length, 3);
      assert.deepEqual(Buffer.concat(run.messages.map((m) => m.frame)), Buffer.concat(lines.map((l) => l.bytes)));
      assert.deepEqual(
        run.messages.map((m) => m.requestId),
        [4294967298, 12884901890, 17179869186],
      );
    }
  });

  it('replays the protobufjs-server capture (raw-server-vs-brpc-client.out)', () => {
    const lines = readTaggedHex('raw-server-vs-brpc-client.out');
    const got = decodeChunks(server(), lines.filter((l) => l.tag === 'GOT').map((l) => copy(l.bytes)));
    const snd = decodeChunks(client(), lines.filter((l) => l.tag === 'SND').map((l) => copy(l.bytes)));
    assert.deepEqual(got.messages.map((m) => m.requestId), [4294967298, 8589934598, 12884901890]);
    assert.deepEqual(snd.messages.map((m) => m.requestId), [4294967298, 8589934598, 12884901890]);
    assert.ok(snd.messages.every((m) => m.status === ResponseStatus.Ok));
  });
});

describe('brpc codec: framing', () => {
  it('decodes a frame split at every point', () => {
    for (const frame of [REQ_31, ...readTaggedHex('raw-client-vs-brpc.out').filter((l) => l.tag === 'REQ').map((l) => l.bytes)]) {
      for (let i = 1; i < frame.length; i++) {
        const codec = server();
        const reader = new FrameReader();
        reader.push(copy(frame.subarray(0, i)));
        assert.equal(codec.decode(reader), undefined, `split ${i}`);
        reader.push(copy(frame.subarray(i)));
        const msg = codec.decode(reader);
        assert.ok(msg !== undefined && !(msg instanceof CodecError), `split ${i}`);
        assert.deepEqual(msg.frame, frame);
        assert.equal(reader.length, 0);
      }
    }
  });

  it('decodes pipelined frames fed byte by byte and in random chunks', () => {
    const all = Buffer.concat([REQ_31, REQ_31, REQ_31]);
    const bytes = decodeChunks(server(), Array.from(all, (b) => Buffer.from([b])));
    assert.equal(bytes.messages.length, 3);
    const chunks = decodeChunks(server(), splitAt(all, [5, 13, 80, 81, 150, 200]));
    assert.equal(chunks.messages.length, 3);
    assert.deepEqual(Buffer.concat(chunks.messages.map((m) => m.frame)), all);
  });

  it('refuses a bad magic as soon as it arrives', () => {
    const r = decodeChunks(server(), [Buffer.from('GE')]);
    assert.ok(r.error instanceof CodecError);
    assert.equal(r.error.code, 'MELTEMI_ERR_BAD_MAGIC');
  });

  it('refuses frames over maxFrameSize before buffering them', () => {
    const codec = brpcCodecFactory.createServerCodec(testContext({}, 64));
    const r = decodeChunks(codec, [REQ_31.subarray(0, 12)]);
    assert.equal(r.error?.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
  });

  it('refuses meta_size > body_size and malformed meta', () => {
    const bad = copy(REQ_31);
    bad.writeUInt32BE(0x40, 8);
    assert.ok(decodeChunks(server(), [bad]).error instanceof CodecError);
    const truncated = encodeRaw(hex('0a1d0a13'), Buffer.alloc(0));
    assert.match(decodeChunks(server(), [truncated]).error?.message ?? '', /malformed meta/);
  });

  it('refuses a request without RpcMeta.request on the server side', () => {
    const r = decodeChunks(server(), [copy(RSP_31)]);
    assert.match(r.error?.message ?? '', /without RpcMeta.request/);
  });

  it('accepts a response without RpcMeta.response (error_code defaults to 0)', () => {
    const msg = decodeOne(client(), encodeRaw(hex('2007'), Buffer.alloc(0)));
    assert.equal(msg.type, MessageType.Response);
    assert.equal(msg.status, ResponseStatus.Ok);
    assert.equal(msg.requestId, 7);
  });
});

function encodeRaw(meta: Buffer, rest: Buffer, magic = 'PRPC'): Buffer {
  const head = Buffer.alloc(12);
  head.write(magic, 0, 'latin1');
  head.writeUInt32BE(meta.length + rest.length, 4);
  head.writeUInt32BE(meta.length, 8);
  return Buffer.concat([head, meta, rest]);
}

describe('brpc codec: request id rewriting', () => {
  it('patches a same-size id in place', () => {
    const codec = server();
    const msg = decodeOne(codec, REQ_31);
    const before = msg.frame;
    codec.setRequestId(msg, 4294967299);
    assert.equal(msg.frame, before, 'same buffer');
    assert.equal(msg.requestId, 4294967299);
    assert.equal(decodeRpcMeta(metaOf(msg.frame)).correlation_id, '4294967299');
  });

  it('grows the varint to 10 bytes for a 64-bit id, fixes both sizes, keeps everything else, and restores', () => {
    const vector = readTaggedHex('raw-client-vs-brpc.out').find((l) => l.tag === 'REQ')!.bytes; // correlation 7
    const codec = server();
    const msg = decodeOne(codec, vector);
    const big = (1n << 63n) + 5n;
    codec.setRequestId(msg, big);
    assert.equal(msg.requestId, big);
    assertSizes(msg.frame);
    assert.equal(msg.frame.length, vector.length + 9);
    assert.equal(msg.headerSize, 12 + msg.frame.readUInt32BE(8));
    const parsed = parseBrpcFrame(msg.frame);
    assert.equal(BigInt.asUintN(64, BigInt(parsed.meta.correlation_id!)), big);
    assert.deepEqual(metaWithout(metaOf(msg.frame), 'correlation_id'), metaWithout(metaOf(vector), 'correlation_id'));
    assert.deepEqual(parsed.payload, parseBrpcFrame(vector).payload);
    // The decoder sees the new id too.
    assert.equal(decodeOne(server(), msg.frame).requestId, big);
    // Restoring the client's id gives back the original bytes exactly.
    codec.setRequestId(msg, 7);
    assert.deepEqual(msg.frame, vector);
    assert.equal(msg.requestId, 7);
  });

  it('shrinks the varint (64-bit client id -> small upstream id) and keeps the attachment', () => {
    const codec = server();
    const msg = decodeOne(codec, REQ_31);
    codec.setRequestId(msg, 1);
    assertSizes(msg.frame);
    const parsed = parseBrpcFrame(msg.frame);
    assert.equal(parsed.meta.correlation_id, '1');
    assert.equal(parsed.attachment.toString(), 'ATT');
    codec.setRequestId(msg, 4294967298n);
    assert.equal(msg.requestId, 4294967298, 'safe bigints become numbers');
    assert.deepEqual(msg.frame, REQ_31);
  });

  it('a repeated correlation_id (the last one counts) is rewritten whole, not patched at one place', () => {
    // request{service "S", method "Echo"}, correlation_id 5, correlation_id 6.
    const frame = encodeRaw(hex('0a090a015312044563686f' + '2005' + '2006'), hex('0a0268690a'));
    const codec = server();
    const msg = decodeOne(codec, frame);
    assert.equal(msg.requestId, 6);
    codec.setRequestId(msg, 9);
    assertSizes(msg.frame);
    assert.equal(decodeOne(server(), msg.frame).requestId, 9);
    codec.setRequestId(msg, 8);
    assert.equal(decodeOne(server(), msg.frame).requestId, 8);
  });

  it('after a mutation replaced the frame, ids are written into the new frame', () => {
    const codec = server();
    const msg = decodeOne(codec, REQ_31);
    const mutated = codec.encode(msg, new Map([['x-k', 'v']]));
    assert.notEqual(mutated, REQ_31);
    codec.setRequestId(msg, 4294967297);
    assert.equal(decodeOne(server(), msg.frame).requestId, 4294967297);
    assert.equal(decodeOne(server(), msg.frame).metadata.get('x-k'), 'v');
  });

  it('keeps unknown fields (vendor extensions 100/101, unknown 13, groups) when rewriting', () => {
    // request{service "S", method "Echo"}, correlation_id 5, then fields no schema here knows:
    // 100 (varint 42) and 101 (bytes "abc") as vendor extensions, 13 (bool), a group 14.
    const metaFixed = hex('0a090a015312044563686f' + '2005' + 'a0062a' + 'aa0603616263' + '6801' + '73080174');
    const frame = encodeRaw(metaFixed, hex('0a0268690a'));
    const codec = server();
    const msg = decodeOne(codec, frame);
    assert.equal(msg.requestId, 5);
    codec.setRequestId(msg, 1n << 40n);
    const newMeta = metaOf(msg.frame);
    for (const unknown of ['a0062a', 'aa0603616263', '6801', '73080174']) {
      assert.ok(newMeta.toString('hex').includes(unknown), `keeps ${unknown}`);
    }
    codec.setRequestId(msg, 5);
    assert.deepEqual(msg.frame, frame);
  });

  it('adds correlation_id when the request has none', () => {
    const frame = encodeRaw(hex('0a090a015312044563686f'), Buffer.alloc(0));
    const codec = server();
    const msg = decodeOne(codec, frame);
    assert.equal(msg.requestId, 0);
    codec.setRequestId(msg, 300);
    assert.equal(decodeRpcMeta(metaOf(msg.frame)).correlation_id, '300');
    assertSizes(msg.frame);
  });
});

describe('brpc codec: mutation', () => {
  it('adds and replaces user_fields entries, keeps others, fixes sizes', () => {
    const vector = readTaggedHex('raw-client-vs-brpc.out').filter((l) => l.tag === 'REQ')[1]!.bytes; // user_fields x-proxy
    const codec = server();
    const msg = decodeOne(codec, vector);
    const out = codec.encode(msg, new Map([['x-proxy', 'meltemi'], ['x-new', 'v']]));
    assert.equal(out, msg.frame);
    assertSizes(out);
    const parsed = parseBrpcFrame(out);
    assert.deepEqual(parsed.meta.user_fields, { 'x-proxy': 'meltemi', 'x-new': 'v' });
    assert.equal(parsed.attachment.toString(), 'ATT!');
    assert.deepEqual(metaWithout(metaOf(out), 'user_fields'), metaWithout(metaOf(vector), 'user_fields'));
    // A later id rewrite composes with the mutation.
    codec.setRequestId(msg, 1n << 62n);
    assert.deepEqual(parseBrpcFrame(msg.frame).meta.user_fields, { 'x-proxy': 'meltemi', 'x-new': 'v' });
    assert.equal(decodeOne(server(), msg.frame).metadata.get('x-new'), 'v');
  });

  it('writes user_fields into a frame that has none', () => {
    const codec = server();
    const msg = decodeOne(codec, REQ_31);
    codec.encode(msg, new Map([['x-request-id', 'abc']]));
    assert.deepEqual(parseBrpcFrame(msg.frame).meta.user_fields, { 'x-request-id': 'abc' });
    assert.equal(parseBrpcFrame(msg.frame).attachment.toString(), 'ATT');
  });
});

describe('brpc codec: error replies', () => {
  it('matches the §3.3 ENOMETHOD reply accepted by the real brpc client', () => {
    const req = decodeOne(server(), encodeBrpcFrame({ request: { service_name: 'example.EchoService', method_name: 'NoSuchMethod' }, correlation_id: 9 }, hex('0a0178')));
    const reply = server().errorReply(req, ErrorType.RouteNotFound, 'Fail to find method=NoSuchMethod');
    assert.deepEqual(reply, ERR_33);
  });

  const cases: [ErrorType, number][] = [
    [ErrorType.RouteNotFound, 1002],
    [ErrorType.ClusterNotFound, 1002],
    [ErrorType.Timeout, 1008],
    [ErrorType.OverLimit, 2004],
    [ErrorType.BadRequest, 1003],
    [ErrorType.Unauthorized, 1004],
    [ErrorType.NoHealthyUpstream, 2001],
    [ErrorType.Unspecified, 2001],
    [ErrorType.UpstreamReset, 2001],
    [ErrorType.BadResponse, 2001],
  ];
  for (const [type, code] of cases) {
    it(`${ErrorType[type]} -> error_code ${code}, 64-bit correlation_id echoed, no payload`, () => {
      const codec = server();
      const req = decodeOne(codec, readTaggedHex('raw-client-vs-brpc.out').filter((l) => l.tag === 'REQ')[4]!.bytes);
      const reply = codec.errorReply(req, type, `proxy: ${ErrorType[type]}`);
      assert.equal(reply.readUInt32BE(4), reply.readUInt32BE(8), 'body_size == meta_size');
      const meta = BrpcTypes.RpcMeta.toObject(BrpcTypes.RpcMeta.decode(metaOf(reply)), { longs: String });
      assert.deepEqual(meta, {
        response: { error_code: code, error_text: `proxy: ${ErrorType[type]}` },
        correlation_id: '1152921504606846977',
      });
      const back = decodeOne(client(), reply);
      assert.equal(back.status, ResponseStatus.Error);
      assert.equal(back.requestId, 1152921504606846977n);
    });
  }
});

describe('brpc codec: streaming (STRM)', () => {
  const strm = (streamId: number, frameType: number, data = ''): Buffer =>
    encodeRaw(Buffer.from(BrpcTypes.StreamFrameMeta.encode({ stream_id: streamId, frame_type: frameType }).finish()), Buffer.from(data), 'STRM');

  it('refuses STRM frames on a multiplexed connection', () => {
    for (const codec of [server(), client()]) {
      const r = decodeChunks(codec, [strm(42, 3, 'x')]);
      assert.equal(r.error?.code, 'MELTEMI_ERR_UNSUPPORTED');
      assert.equal(r.error?.message, STREAM_UNSUPPORTED);
      assert.match(STREAM_UNSUPPORTED, /^bRPC streaming \(STRM\) is not supported on a multiplexed connection/);
    }
  });

  it('refuses a request that opens a stream (stream_settings) unless streams are pinned', () => {
    const frame = encodeBrpcFrame(
      { request: { service_name: 'S', method_name: 'M' }, correlation_id: 3, stream_settings: { stream_id: 77 } },
      Buffer.alloc(0),
    );
    assert.equal(decodeChunks(server(), [copy(frame)]).error?.code, 'MELTEMI_ERR_UNSUPPORTED');
    assert.equal(decodeOne(server({ pinStreams: true }), frame).type, MessageType.Request);
  });

  it('decodes STRM frames as stream messages when pinStreams is set', () => {
    const codec = server({ pinStreams: true });
    const run = decodeChunks(codec, [Buffer.concat([strm(42, 3, 'data'), strm(42, 4), strm(42, 2), strm(43, 1)])]);
    assert.equal(run.error, undefined);
    assert.deepEqual(
      run.messages.map((m) => [m.type, m.streamId, m.requestId]),
      [
        [MessageType.StreamData, 42, 42],
        [MessageType.StreamData, 42, 42],
        [MessageType.StreamCloseTwoWay, 42, 42],
        [MessageType.StreamCloseTwoWay, 43, 43],
      ],
    );
    const msg = run.messages[0]!;
    codec.setRequestId(msg, 1000);
    assert.equal(msg.streamId, 1000);
    assert.equal(BrpcTypes.StreamFrameMeta.decode(metaOf(msg.frame)).toJSON()['stream_id'], '1000');
    assert.equal(codec.encode(msg, new Map([['a', 'b']])), msg.frame);
    const rst = codec.errorReply(msg, ErrorType.UpstreamReset, 'gone');
    assert.equal(rst.toString('latin1', 0, 4), 'STRM');
    assert.equal(BrpcTypes.StreamFrameMeta.decode(metaOf(rst)).toJSON()['frame_type'], 1);
  });
});
