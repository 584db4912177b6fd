/**
 * Golden vectors of spec/test-vectors.md §2: decoding, metadata and the error replies that
 * must match the bytes real servers sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorType, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { CODEC_API_VERSION } from '../../codecs/api/index.js';
import { decodeOne, hex, serverCodec } from './thrift-fixtures.js';

interface Vector {
  name: string;
  bytes: string;
  server: boolean;
  type: MessageType;
  method: string;
  seqid: number;
  key: string;
  headers?: Record<string, string>;
}

const VECTORS: Vector[] = [
  // §2.1 binary framed
  { name: 'echo call', bytes: '0000001d80010001000000046563686f000000010b00010000000568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 1, key: 'framed/binary' },
  { name: 'echo reply', bytes: '0000001d80010002000000046563686f000000010b00000000000568656c6c6f00', server: false, type: MessageType.Response, method: 'echo', seqid: 1, key: 'framed/binary' },
  { name: 'getPair call', bytes: '0000001e800100010000000767657450616972000000070b00010000000362616400', server: true, type: MessageType.Request, method: 'getPair', seqid: 7, key: 'framed/binary' },
  { name: 'getPair declared exception', bytes: '00000031800100020000000767657450616972000000070c00010b00010000000b6e6f2073756368206b65790800020000002a0000', server: false, type: MessageType.Response, method: 'getPair', seqid: 7, key: 'framed/binary' },
  { name: 'oneway fire', bytes: '00000027800100040000000466697265000000080b00010000000f666972652d616e642d666f7267657400', server: true, type: MessageType.Oneway, method: 'fire', seqid: 8, key: 'framed/binary' },
  { name: 'fail call', bytes: '0000001c80010001000000046661696c000000090b000100000004626f6f6d00', server: true, type: MessageType.Request, method: 'fail', seqid: 9, key: 'framed/binary' },
  { name: 'TApplicationException', bytes: '0000002d80010003000000046661696c000000090b00010000000e496e7465726e616c206572726f720800020000000600', server: false, type: MessageType.Error, method: 'fail', seqid: 9, key: 'framed/binary' },
  // §2.2 binary unframed
  { name: 'unframed echo call', bytes: '80010001000000046563686f000000010b00010000000568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 1, key: 'unframed/binary' },
  { name: 'unframed echo reply', bytes: '80010002000000046563686f000000010b00000000000568656c6c6f00', server: false, type: MessageType.Response, method: 'echo', seqid: 1, key: 'unframed/binary' },
  // §2.3 compact unframed
  { name: 'compact echo call', bytes: '822100046563686f180568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 0, key: 'unframed/compact' },
  { name: 'compact echo reply', bytes: '824100046563686f08000568656c6c6f00', server: false, type: MessageType.Response, method: 'echo', seqid: 0, key: 'unframed/compact' },
  { name: 'compact oneway', bytes: '8281000466697265180f666972652d616e642d666f7267657400', server: true, type: MessageType.Oneway, method: 'fire', seqid: 0, key: 'unframed/compact' },
  { name: 'compact fail', bytes: '822100046661696c1804626f6f6d00', server: true, type: MessageType.Request, method: 'fail', seqid: 0, key: 'unframed/compact' },
  { name: 'compact exception (node)', bytes: '826100046661696c1818756e6465636c61726564206661696c7572653a20626f6f6d00', server: false, type: MessageType.Error, method: 'fail', seqid: 0, key: 'unframed/compact' },
  // §2.4 compact framed
  { name: 'framed compact call', bytes: '00000010822101046563686f180568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 1, key: 'framed/compact' },
  { name: 'framed compact reply', bytes: '00000011824101046563686f08000568656c6c6f00', server: false, type: MessageType.Response, method: 'echo', seqid: 1, key: 'framed/compact' },
  { name: 'framed compact exception', bytes: '0000001b826109046661696c180e496e7465726e616c206572726f72150c00', server: false, type: MessageType.Error, method: 'fail', seqid: 9, key: 'framed/compact' },
  // §2.5 THeader
  { name: 'THeader binary call with x-trace', bytes: '0000003b0fff00000000000000050000010107782d7472616365066162633132330080010001000000046563686f000000000b00010000000568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 0, key: 'header/binary', headers: { 'x-trace': 'abc123' } },
  { name: 'THeader binary reply', bytes: '0000002b0fff00000000000000010000000080010002000000046563686f000000000b00000000000568656c6c6f00', server: false, type: MessageType.Response, method: 'echo', seqid: 0, key: 'header/binary' },
  { name: 'THeader compact call', bytes: '0000002e0fff00000000000000050200010107782d74726163650661626331323300822100046563686f180568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 0, key: 'header/compact', headers: { 'x-trace': 'abc123' } },
  { name: 'THeader C++ compact call', bytes: '000000320fff00000000000000060200010107782d7472616365076370702d31323300000000822100046563686f180568656c6c6f00', server: true, type: MessageType.Request, method: 'echo', seqid: 0, key: 'header/compact', headers: { 'x-trace': 'cpp-123' } },
  { name: 'THeader python compact reply', bytes: '0000001f0fff000000000000000102000000824100046563686f08000568656c6c6f00', server: false, type: MessageType.Response, method: 'echo', seqid: 0, key: 'header/compact' },
  // Envoy's minimal valid header (flags 1, seq 1), here without payload: a heartbeat
  { name: 'Envoy minimal THeader', bytes: '0000000e0fff000100000001000100000000', server: true, type: MessageType.Heartbeat, method: '', seqid: 1, key: 'header/binary' },
];

describe('thrift golden vectors (test-vectors.md §2)', () => {
  it('factory identity', () => {
    assert.equal(thriftCodecFactory.name, 'aeraki.meta_protocol.codec.thrift');
    assert.equal(thriftCodecFactory.protocol, 'thrift');
    assert.equal(thriftCodecFactory.apiVersion, CODEC_API_VERSION);
  });

  for (const v of VECTORS) {
    it(v.name, () => {
      const frame = hex(v.bytes);
      const m = decodeOne(frame, v.server);
      assert.equal(m.type, v.type);
      assert.equal(m.requestId, v.seqid);
      assert.equal(m.upstreamKey, v.key);
      assert.equal(m.operationName, v.method);
      assert.equal(m.metadata.get('method'), v.method === '' ? undefined : v.method);
      assert.equal(m.metadata.get('service'), undefined);
      assert.equal(m.status, v.type === MessageType.Error ? ResponseStatus.Error : ResponseStatus.Ok);
      assert.deepEqual(m.frame, frame);
      assert.equal(m.headerSize + m.bodySize, frame.length);
      for (const [k, val] of Object.entries(v.headers ?? {})) assert.equal(m.metadata.get(k), val);
      assert.equal(m.streamId, 0);
      // encode without mutation forwards the original bytes, same object
      assert.equal(serverCodec().encode(m, null), m.frame);
    });
  }

  it('header/body sizes of a framed binary call', () => {
    const m = decodeOne(hex(VECTORS[0]!.bytes));
    assert.equal(m.headerSize, 4 + 4 + 4 + 4 + 4); // length, version, name len, "echo", seqid
    assert.equal(m.bodySize, 13);
  });

  it('multiplexed name: service and method', () => {
    // A TMultiplexedProtocol call "Echo:add" in framed binary.
    const name = Buffer.from('Echo:add');
    const body = Buffer.concat([hex('80010001'), hex('00000008'), name, hex('00000005'), hex('00')]);
    const frame = Buffer.concat([Buffer.alloc(4), body]);
    frame.writeUInt32BE(body.length, 0);
    const m = decodeOne(frame);
    assert.equal(m.metadata.get('method'), 'add');
    assert.equal(m.metadata.get('service'), 'Echo');
    assert.equal(m.operationName, 'Echo:add');
    assert.deepEqual([...m.metadata.entries()], [
      ['method', 'add'],
      ['service', 'Echo'],
    ]);
    // The error reply names the bare method, as TMultiplexedProcessor's replies do.
    const reply = serverCodec().errorReply(m, ErrorType.RouteNotFound, 'no route');
    assert.ok(reply.includes(Buffer.from('add')) && !reply.includes(name));
  });
});

describe('thrift error replies (wire-formats.md §2.4)', () => {
  it('binary framed: reproduces the python server bytes', () => {
    const req = decodeOne(hex('0000001c80010001000000046661696c000000090b000100000004626f6f6d00'));
    const reply = serverCodec().errorReply(req, ErrorType.Unspecified, 'Internal error');
    assert.equal(
      reply.toString('hex'),
      '0000002d80010003000000046661696c000000090b00010000000e496e7465726e616c206572726f720800020000000600',
    );
  });

  it('compact framed: reproduces the python server bytes', () => {
    const req = decodeOne(hex('0000000f822109046661696c1804626f6f6d00'));
    assert.equal(req.requestId, 9);
    const reply = serverCodec().errorReply(req, ErrorType.NoHealthyUpstream, 'Internal error');
    assert.equal(reply.toString('hex'), '0000001b826109046661696c180e496e7465726e616c206572726f72150c00');
  });

  it('THeader compact: same protocol id and seqid, C++ reply layout', () => {
    const req = decodeOne(hex('000000320fff00000000000000060200010107782d7472616365076370702d31323300000000822100046563686f180568656c6c6f00'));
    const reply = serverCodec().errorReply(req, ErrorType.Timeout, 'x');
    // header: length, magic, flags 0, seqid 0, 1 word = proto 2, 0 transforms, 2 pad
    assert.equal(reply.subarray(4, 18).toString('hex'), '0fff00000000000000010200' + '0000');
    assert.equal(reply.readUInt32BE(0), reply.length - 4);
    const inner = reply.subarray(18);
    assert.equal(inner.toString('hex'), '826100046563686f180178150c00');
  });

  it('error type mapping', () => {
    const req = decodeOne(hex('0000001c80010001000000046661696c000000090b000100000004626f6f6d00'));
    const codeOf = (e: ErrorType): number => {
      const r = serverCodec().errorReply(req, e, 'm');
      return r.readInt32BE(r.length - 5);
    };
    assert.equal(codeOf(ErrorType.RouteNotFound), 1);
    assert.equal(codeOf(ErrorType.BadRequest), 7);
    for (const e of [
      ErrorType.ClusterNotFound,
      ErrorType.NoHealthyUpstream,
      ErrorType.BadResponse,
      ErrorType.Unspecified,
      ErrorType.OverLimit,
      ErrorType.Timeout,
      ErrorType.Unauthorized,
      ErrorType.UpstreamReset,
    ]) {
      assert.equal(codeOf(e), 6, ErrorType[e]);
    }
  });

  it('one-way requests and empty THeader frames get no reply', () => {
    const oneway = decodeOne(hex('00000027800100040000000466697265000000080b00010000000f666972652d616e642d666f7267657400'));
    assert.equal(serverCodec().errorReply(oneway, ErrorType.RouteNotFound, 'x').length, 0);
    const empty = decodeOne(hex('0000000e0fff000000000000000102000000'));
    assert.equal(empty.type, MessageType.Heartbeat);
    assert.equal(serverCodec().errorReply(empty, ErrorType.RouteNotFound, 'x').length, 0);
    assert.equal(serverCodec().heartbeatReply(empty), null);
  });
});
