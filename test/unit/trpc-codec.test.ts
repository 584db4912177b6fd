import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodecError, ErrorType, FrameReader, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { ClientCodec, Message, ServerCodec } from '../../codecs/api/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { copy, decodeChunks, hex, readTaggedHex, splitAt, testContext } from '../peers/codec-harness.js';
import { TrpcTypes, b64, encodeTrpcFrame, parseTrpcFrame, pb, transInfo, unpb } from '../peers/trpc-peer.js';

const vectors = new Map(readTaggedHex('trpc-vectors.txt').map((v) => [v.tag, v.bytes]));
const V = (name: string): Buffer => copy(vectors.get(name)!);

// spec/test-vectors.md §4.1: trpc-go codec_stream_test.go.
const INIT_REQ = hex(
  '093001010000005300000000006400000a410a17747270632e6170702e7365727665722e736572766963651a262f747270632e746573742e68656c6c6f776f726c642e477265657465722f53617948656c6c6f',
);
const INIT_REQ_META = hex(
  '093001010000006300000000006400000a510a17747270632e6170702e7365727665722e736572766963651a262f747270632e746573742e68656c6c6f776f726c642e477265657465722f53617948656c6c6f2a0e0a0568656c6c6f1205776f726c64',
);
const INIT_RSP_ERR = hex('093001010000002d0000000000640000121b08021217736572766572207465737420656e636f6465206661696c');
const CLOSE = hex('09300104000000100000000000640000');
// §4.3: trpc-cpp response reconstructed from pic8 (0 @10, version 0).
const CPP_RSP = hex('0930000000000020000200000000000018050a0c48656c6c6f2c206669626572');

const server = (): ServerCodec => trpcCodecFactory.createServerCodec(testContext());
const client = (): ClientCodec => trpcCodecFactory.createClientCodec(testContext());

function decodeOne(codec: ServerCodec | ClientCodec, frame: Buffer): Message {
  const run = decodeChunks(codec, [copy(frame)]);
  assert.equal(run.error, undefined, run.error?.message);
  assert.equal(run.messages.length, 1);
  assert.equal(run.leftover, 0);
  return run.messages[0]!;
}

function assertSizes(frame: Buffer): void {
  assert.equal(frame.readUInt16BE(0), 0x0930);
  assert.equal(frame.readUInt32BE(4), frame.length, 'total_len');
}

function requestHeader(frame: Buffer): Record<string, unknown> {
  return unpb(TrpcTypes.RequestProtocol, parseTrpcFrame(frame).header);
}

function responseHeader(frame: Buffer): Record<string, unknown> {
  return unpb(TrpcTypes.ResponseProtocol, parseTrpcFrame(frame).header);
}

describe('trpc codec: factory', () => {
  it('registers under the Aeraki name', () => {
    assert.equal(trpcCodecFactory.name, 'aeraki.meta_protocol.codec.trpc');
    assert.equal(trpcCodecFactory.protocol, 'trpc');
    assert.equal(trpcCodecFactory.apiVersion, 1);
  });
});

describe('trpc codec: golden vectors', () => {
  it('decodes UNARY_REQUEST with caller/callee/func/trans_info and forwards it untouched', () => {
    const codec = server();
    const msg = decodeOne(codec, V('UNARY_REQUEST'));
    assert.equal(msg.type, MessageType.Request);
    assert.equal(msg.requestId, 1);
    assert.equal(msg.streamId, 0);
    assert.equal(msg.headerSize, 16 + 0x7c);
    assert.equal(msg.bodySize, 0x93 - 16 - 0x7c);
    assert.equal(msg.metadata.get('caller'), 'trpc.app.client.service');
    assert.equal(msg.metadata.get('callee'), 'trpc.test.helloworld.Greeter');
    assert.equal(msg.metadata.get('func'), '/trpc.test.helloworld.Greeter/SayHello');
    assert.equal(msg.metadata.get('trpc-dyeing-key'), 'abc');
    assert.equal(msg.operationName, '/trpc.test.helloworld.Greeter/SayHello');
    assert.deepEqual(new Set(msg.metadata.entries()), new Set([
      ['trpc-dyeing-key', 'abc'],
      ['caller', 'trpc.app.client.service'],
      ['callee', 'trpc.test.helloworld.Greeter'],
      ['func', '/trpc.test.helloworld.Greeter/SayHello'],
    ]));
    assert.deepEqual(msg.frame, V('UNARY_REQUEST'));
    assert.equal(codec.encode(msg, null), msg.frame);
    assert.equal(codec.heartbeatReply(msg), null);
  });

  it('decodes ONEWAY_REQUEST (call_type 1) as Oneway', () => {
    const msg = decodeOne(server(), V('ONEWAY_REQUEST'));
    assert.equal(msg.type, MessageType.Oneway);
    assert.equal(msg.requestId, 2);
  });

  it('decodes REQUEST_WITH_ATTACHMENT', () => {
    const msg = decodeOne(server(), V('REQUEST_WITH_ATTACHMENT'));
    assert.equal(msg.requestId, 3);
    assert.equal(msg.metadata.get('callee'), undefined);
  });

  it('decodes responses: UNARY_RESPONSE ok, UNARY_ERROR_RET12 error, the trpc-cpp reply', () => {
    const ok = decodeOne(client(), V('UNARY_RESPONSE'));
    assert.deepEqual([ok.type, ok.requestId, ok.status], [MessageType.Response, 1, ResponseStatus.Ok]);
    const err = decodeOne(client(), V('UNARY_ERROR_RET12'));
    assert.deepEqual([err.type, err.requestId, err.status], [MessageType.Response, 1, ResponseStatus.Error]);
    const cpp = decodeOne(client(), CPP_RSP);
    assert.deepEqual([cpp.requestId, cpp.status, cpp.headerSize], [5, ResponseStatus.Ok, 18]);
  });

  it('decodes the trpc-go stream vectors', () => {
    const init = decodeOne(server(), INIT_REQ);
    assert.deepEqual([init.type, init.streamId, init.requestId, init.headerSize], [MessageType.StreamInit, 100, 100, 16]);
    assert.equal(init.metadata.get('caller'), 'trpc.app.server.service');
    assert.equal(init.metadata.get('func'), '/trpc.test.helloworld.Greeter/SayHello');
    const withMeta = decodeOne(server(), INIT_REQ_META);
    assert.equal(withMeta.metadata.get('hello'), 'world');
    const rsp = decodeOne(client(), INIT_RSP_ERR);
    assert.deepEqual([rsp.type, rsp.streamId, rsp.status], [MessageType.StreamInit, 100, ResponseStatus.Error]);
    const close = decodeOne(server(), CLOSE);
    assert.deepEqual([close.type, close.streamId, close.status], [MessageType.StreamCloseOneWay, 100, ResponseStatus.Ok]);
    for (const m of [init, withMeta, rsp, close]) assert.equal(server().encode(m, null), m.frame);
  });

  it('decodes DATA, FEEDBACK and RESET', () => {
    const head = { dataFrameType: 1, streamId: 7, version: 1 };
    const data = decodeOne(server(), encodeTrpcFrame({ ...head, streamFrameType: 2 }, Buffer.alloc(0), Buffer.from('xyz')));
    assert.deepEqual([data.type, data.streamId, data.bodySize], [MessageType.StreamData, 7, 3]);
    const fb = decodeOne(server(), encodeTrpcFrame({ ...head, streamFrameType: 3 }, Buffer.alloc(0), pb(TrpcTypes.FeedbackMeta, { window_size_increment: 1000 })));
    assert.equal(fb.type, MessageType.StreamData);
    const reset = decodeOne(client(), encodeTrpcFrame({ ...head, streamFrameType: 4 }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: 1, ret: 201 })));
    assert.deepEqual([reset.type, reset.status], [MessageType.StreamCloseTwoWay, ResponseStatus.Error]);
  });

  it('decodes every vector pipelined in one chunk and split at every point', () => {
    const reqs = [V('UNARY_REQUEST'), V('ONEWAY_REQUEST'), V('REQUEST_WITH_ATTACHMENT'), INIT_REQ, INIT_REQ_META, CLOSE];
    const all = Buffer.concat(reqs);
    const run = decodeChunks(server(), [copy(all)]);
    assert.deepEqual(run.messages.map((m) => m.requestId), [1, 2, 3, 100, 100, 100]);
    assert.deepEqual(Buffer.concat(run.messages.map((m) => m.frame)), all);
    for (const frame of reqs) {
      for (let i = 1; i < frame.length; i++) {
        const codec = server();
        const reader = new FrameReader();
        reader.push(copy(frame.subarray(0, i)));
        assert.equal(codec.decode(reader), undefined, `split ${i}`);
        reader.push(copy(frame.subarray(i)));
        const msg = codec.decode(reader);
        assert.ok(msg !== undefined && !(msg instanceof CodecError));
        assert.deepEqual(msg.frame, frame);
      }
    }
    const bytewise = decodeChunks(server(), Array.from(all, (b) => Buffer.from([b])));
    assert.equal(bytewise.messages.length, 6);
    assert.equal(decodeChunks(server(), splitAt(all, [3, 17, 100, 250, 251])).messages.length, 6);
  });

  it('refuses bad magic, oversized frames, bad lengths and unknown frame types', () => {
    assert.equal(decodeChunks(server(), [hex('0931')]).error?.code, 'MELTEMI_ERR_BAD_MAGIC');
    const small = trpcCodecFactory.createServerCodec(testContext({}, 64));
    assert.equal(decodeChunks(small, [V('UNARY_REQUEST').subarray(0, 16)]).error?.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    const short = V('UNARY_REQUEST');
    short.writeUInt32BE(20, 4);
    assert.match(decodeChunks(server(), [short]).error?.message ?? '', /total_len/);
    const type = V('UNARY_REQUEST');
    type[2] = 2;
    assert.match(decodeChunks(server(), [type]).error?.message ?? '', /data frame type/);
    const garbageHeader = encodeTrpcFrame({}, hex('0a05'));
    assert.match(decodeChunks(server(), [garbageHeader]).error?.message ?? '', /malformed header/);
  });
});

describe('trpc codec: request id rewriting', () => {
  it('rewrites request_id and @10 in place when the varint keeps its size', () => {
    const codec = server();
    const msg = decodeOne(codec, V('UNARY_REQUEST'));
    const before = msg.frame;
    codec.setRequestId(msg, 99);
    assert.equal(msg.frame, before);
    assert.equal(requestHeader(msg.frame)['request_id'], 99);
    assert.equal(msg.frame.readUInt32BE(10), 99);
  });

  it('grows the varint to 5 bytes, fixes header_len and total_len, restores byte for byte', () => {
    const codec = server();
    const original = V('UNARY_REQUEST');
    const msg = decodeOne(codec, original);
    codec.setRequestId(msg, 0xffff_fff0);
    assertSizes(msg.frame);
    assert.equal(msg.frame.length, original.length + 4);
    assert.equal(msg.frame.readUInt16BE(8), 0x7c + 4);
    assert.equal(msg.headerSize, 16 + 0x7c + 4);
    const before = requestHeader(original);
    const after = requestHeader(msg.frame);
    assert.equal(after['request_id'], 0xffff_fff0);
    assert.deepEqual({ ...after, request_id: 1 }, before);
    assert.equal(msg.frame.readUInt32BE(10), 0xffff_fff0);
    assert.deepEqual(parseTrpcFrame(msg.frame).body, parseTrpcFrame(original).body);
    assert.equal(decodeOne(server(), msg.frame).requestId, 0xffff_fff0);
    codec.setRequestId(msg, 1);
    assert.deepEqual(msg.frame, original);
  });

  it('a repeated request_id (the last one counts) is rewritten whole, not patched at one place', () => {
    // RequestProtocol with request_id 5 and then request_id 6 (field 3, varint), func "/a.B/C".
    const header = Buffer.concat([hex('1805'), hex('1806'), pb(TrpcTypes.RequestProtocol, { func: Buffer.from('/a.B/C') })]);
    const codec = server();
    const msg = decodeOne(codec, encodeTrpcFrame({ streamId: 6, version: 1 }, header, hex('0a0568656c6c6f')));
    assert.equal(msg.requestId, 6);
    codec.setRequestId(msg, 9);
    assertSizes(msg.frame);
    assert.equal(decodeOne(server(), msg.frame).requestId, 9);
    codec.setRequestId(msg, 8);
    assert.equal(decodeOne(server(), msg.frame).requestId, 8);
    assert.equal(msg.frame.readUInt32BE(10), 8);
  });

  it('refuses ids that are not uint32', () => {
    const codec = server();
    const msg = decodeOne(codec, V('UNARY_REQUEST'));
    assert.throws(() => codec.setRequestId(msg, 2 ** 32), RangeError);
    assert.throws(() => codec.setRequestId(msg, 1n << 40n), RangeError);
  });

  it('v1 client -> trpc-go style upstream -> restore: the reply is what the client expects', () => {
    const down = server();
    const req = decodeOne(down, V('UNARY_REQUEST')); // v1, id 1 @10 and in the header
    down.setRequestId(req, 70000);
    // The upstream (trpc-go) answers with the id it saw in the header and @10, version copied.
    const upstreamReply = encodeTrpcFrame({ streamId: req.frame.readUInt32BE(10), version: req.frame[14]! }, hex('18f0a204'), hex('0a0568656c6c6f'));
    const rsp = decodeOne(client(), upstreamReply);
    assert.equal(rsp.requestId, 70000);
    down.setRequestId(rsp, 1);
    assert.deepEqual(rsp.frame, V('UNARY_RESPONSE'));
  });

  it('v0 client (trpc-cpp) -> restore gives 0 @10 and version 0 back', () => {
    const down = server();
    const header = pb(TrpcTypes.RequestProtocol, { request_id: 6, timeout: 1000, func: Buffer.from('/trpc.test.helloworld.Greeter/SayHello') });
    const req = decodeOne(down, encodeTrpcFrame({ streamId: 0, version: 0 }, header, pb(TrpcTypes.HelloRequest, { msg: 'fiber' })));
    assert.equal(req.requestId, 6);
    down.setRequestId(req, 1234567);
    assert.equal(req.frame.readUInt32BE(10), 1234567, 'upstream id also @10 (harmless for v0 servers)');
    assert.equal(req.frame[14], 0, 'version untouched');
    // A trpc-cpp upstream answers 0 @10 and version 0; a trpc-go one would echo @10 and version 0.
    for (const streamId of [0, 1234567]) {
      const rsp = decodeOne(client(), encodeTrpcFrame({ streamId, version: 0 }, pb(TrpcTypes.ResponseProtocol, { request_id: 1234567 }), hex('0a0c48656c6c6f2c206669626572')));
      down.setRequestId(rsp, 5);
      assert.deepEqual(rsp.frame, CPP_RSP);
    }
  });

  it('v1 client behind a v0 (trpc-cpp) upstream: restoring through the downstream codec upgrades the reply', () => {
    const down = server();
    const req = decodeOne(down, V('UNARY_REQUEST'));
    down.setRequestId(req, 9);
    const rsp = decodeOne(client(), encodeTrpcFrame({ streamId: 0, version: 0 }, hex('1809'), hex('0a0568656c6c6f')));
    down.setRequestId(rsp, 1);
    assert.deepEqual(rsp.frame, V('UNARY_RESPONSE'));
  });

  it('restoring id 0 drops the field (proto3 writes no zero scalars)', () => {
    const down = server();
    const original = encodeTrpcFrame({ streamId: 0, version: 0 }, pb(TrpcTypes.RequestProtocol, { func: Buffer.from('/a.B/C') }));
    const req = decodeOne(down, original);
    assert.equal(req.requestId, 0);
    down.setRequestId(req, 300);
    assert.equal(requestHeader(req.frame)['request_id'], 300);
    req.frame.writeUInt32BE(0, 10);
    down.setRequestId(req, 0);
    req.frame.writeUInt32BE(0, 10);
    assert.deepEqual(req.frame, original);
  });

  it('keeps unknown header fields when rewriting', () => {
    const header = Buffer.concat([hex('1801'), hex('a0062a'), hex('aa0603616263'), hex('3a062f612e422f43')]);
    const original = encodeTrpcFrame({ streamId: 1 }, header, hex('0a00'));
    const codec = server();
    const msg = decodeOne(codec, original);
    codec.setRequestId(msg, 1 << 30);
    const h = parseTrpcFrame(msg.frame).header.toString('hex');
    assert.ok(h.includes('a0062a') && h.includes('aa0603616263') && h.includes('3a062f612e422f43'));
    codec.setRequestId(msg, 1);
    assert.deepEqual(msg.frame, original);
  });

  it('rewrites a stream id @10 in place', () => {
    const codec = server();
    const msg = decodeOne(codec, INIT_REQ);
    const before = msg.frame;
    codec.setRequestId(msg, 5000);
    assert.equal(msg.frame, before);
    assert.deepEqual([msg.streamId, msg.requestId, msg.frame.readUInt32BE(10)], [5000, 5000, 5000]);
    codec.setRequestId(msg, 100);
    assert.deepEqual(msg.frame, INIT_REQ);
  });
});

describe('trpc codec: mutation', () => {
  it('adds and replaces trans_info entries in a request, fixing sizes', () => {
    const codec = server();
    const msg = decodeOne(codec, V('UNARY_REQUEST'));
    const out = codec.encode(msg, new Map([['trpc-dyeing-key', 'xyz'], ['x-new', 'v']]));
    assert.equal(out, msg.frame);
    assertSizes(out);
    assert.equal(out.readUInt16BE(8), msg.headerSize - 16);
    const h = requestHeader(out);
    assert.deepEqual(transInfo(h['trans_info']), { 'trpc-dyeing-key': 'xyz', 'x-new': 'v' });
    assert.equal(b64(h['func']), '/trpc.test.helloworld.Greeter/SayHello');
    assert.deepEqual(parseTrpcFrame(out).body, parseTrpcFrame(V('UNARY_REQUEST')).body);
    codec.setRequestId(msg, 1 << 20);
    assert.equal(decodeOne(server(), msg.frame).metadata.get('x-new'), 'v');
  });

  it('writes trans_info (field 8) into a response', () => {
    const codec = client();
    const msg = decodeOne(codec, V('UNARY_RESPONSE'));
    codec.encode(msg, new Map([['k', 'v']]));
    assert.deepEqual(transInfo(responseHeader(msg.frame)['trans_info']), { k: 'v' });
    assert.equal(decodeOne(client(), msg.frame).metadata.get('k'), 'v');
  });

  it('writes trans_info into a stream INIT request_meta', () => {
    const codec = server();
    const msg = decodeOne(codec, INIT_REQ_META);
    codec.encode(msg, new Map([['hello', 'there'], ['a', 'b']]));
    assertSizes(msg.frame);
    const init = unpb(TrpcTypes.InitMeta, parseTrpcFrame(msg.frame).header) as { request_meta: Record<string, unknown> };
    assert.deepEqual(transInfo(init.request_meta['trans_info']), { hello: 'there', a: 'b' });
    assert.equal(b64(init.request_meta['caller']), 'trpc.app.server.service');
    const data = decodeOne(codec, CLOSE);
    assert.equal(codec.encode(data, new Map([['a', 'b']])), data.frame);
  });
});

describe('trpc codec: error replies', () => {
  it('has the shape of UNARY_ERROR_RET12 (ret 11 for no route)', () => {
    const req = decodeOne(server(), V('UNARY_REQUEST'));
    const reply = server().errorReply(req, ErrorType.RouteNotFound, 'service has no func');
    const expected = V('UNARY_ERROR_RET12');
    expected[19] = 11; // 200c -> 200b: ret 12 (NOFUNC) becomes 11 (NOSERVICE)
    assert.deepEqual(reply, expected);
  });

  const cases: [ErrorType, number][] = [
    [ErrorType.RouteNotFound, 11],
    [ErrorType.ClusterNotFound, 11],
    [ErrorType.Timeout, 21],
    [ErrorType.OverLimit, 22],
    [ErrorType.Unauthorized, 41],
    [ErrorType.NoHealthyUpstream, 31],
    [ErrorType.Unspecified, 31],
    [ErrorType.UpstreamReset, 31],
  ];
  for (const [type, ret] of cases) {
    it(`${ErrorType[type]} -> ret ${ret}, decoded by protobufjs`, () => {
      const req = decodeOne(server(), V('ONEWAY_REQUEST'));
      const reply = server().errorReply(req, type, 'meltemi says no');
      assertSizes(reply);
      assert.deepEqual(responseHeader(reply), { request_id: 2, ret, error_msg: Buffer.from('meltemi says no').toString('base64') });
      assert.deepEqual([reply.readUInt32BE(10), reply[14]], [2, 1], 'v1 id @10 and version');
      assert.equal(decodeOne(client(), reply).status, ResponseStatus.Error);
    });
  }

  it('answers a v0 request with 0 @10 and version 0', () => {
    const req = decodeOne(server(), encodeTrpcFrame({ streamId: 0, version: 0 }, pb(TrpcTypes.RequestProtocol, { request_id: 6 })));
    const reply = server().errorReply(req, ErrorType.Timeout, 't');
    assert.deepEqual([reply.readUInt32BE(10), reply[14]], [0, 0]);
    assert.equal(responseHeader(reply)['request_id'], 6);
  });

  it('answers a stream INIT with an INIT response_meta (shape of the trpc-go vector)', () => {
    const init = decodeOne(server(), INIT_REQ);
    const reply = server().errorReply(init, ErrorType.Unspecified, 'server test encode fail');
    const expected = copy(INIT_RSP_ERR);
    expected[19] = 31; // 0802 -> 081f: ret 2 (ENCODE_ERR) becomes 31 (SYSTEM_ERR)
    assert.deepEqual(reply, expected);
  });

  it('answers other stream frames with CLOSE/RESET', () => {
    const close = decodeOne(server(), CLOSE);
    const reply = server().errorReply(close, ErrorType.OverLimit, 'busy');
    const frame = parseTrpcFrame(reply);
    assert.deepEqual([frame.dataFrameType, frame.streamFrameType, frame.streamId], [1, 4, 100]);
    assert.deepEqual(unpb(TrpcTypes.CloseMeta, frame.header), { close_type: 1, ret: 22, msg: Buffer.from('busy').toString('base64') });
    assert.equal(decodeOne(client(), reply).type, MessageType.StreamCloseTwoWay);
  });
});
