/**
 * Error replies read back by npm thrift's own protocol classes (a real peer), THeader
 * mutation, transport/protocol detection and options, and the size/depth limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodecError, ErrorType, FrameReader, MessageType } from '../../codecs/api/index.js';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { clientCodec, ctx, decodeChunks, decodeOne, hex, npmReadFrame, npmThrift, serverCodec } from './thrift-fixtures.js';

const REQUESTS: Array<{ name: string; bytes: string; transport: 'framed' | 'unframed' | 'header'; compact: boolean }> = [
  { name: 'framed binary', bytes: '0000001c80010001000000046661696c000000090b000100000004626f6f6d00', transport: 'framed', compact: false },
  { name: 'unframed binary', bytes: '80010001000000046661696c000000090b000100000004626f6f6d00', transport: 'unframed', compact: false },
  { name: 'framed compact', bytes: '0000000f822109046661696c1804626f6f6d00', transport: 'framed', compact: true },
  { name: 'unframed compact', bytes: '822109046661696c1804626f6f6d00', transport: 'unframed', compact: true },
  { name: 'THeader binary', bytes: '0000002a0fff00000000000900010000000080010001000000046661696c000000090b000100000004626f6f6d00', transport: 'header', compact: false },
  { name: 'THeader compact', bytes: '0000001d0fff00000000000900010200000082210904 6661696c1804626f6f6d00'.replace(' ', ''), transport: 'header', compact: true },
];

/** Decodes the same bytes through every chunking of one split, to be sure they are one frame. */
function only(bytes: Buffer): void {
  const r = decodeChunks(serverCodec(), [bytes]);
  assert.equal(r.length, 1);
}

describe('thrift errorReply read by npm thrift', () => {
  for (const r of REQUESTS) {
    it(r.name, () => {
      const req = decodeOne(hex(r.bytes));
      assert.equal(req.requestId, 9);
      const text = 'meltemi: no route for fail — ünïcode';
      const reply = serverCodec().errorReply(req, ErrorType.RouteNotFound, text);
      // our own client codec takes it as one Error message with the request's id
      const back = decodeOne(reply, false);
      assert.equal(back.type, MessageType.Error);
      assert.equal(back.requestId, 9);
      assert.equal(back.upstreamKey, req.upstreamKey);
      // and so does npm thrift, down to the TApplicationException fields
      const npm = npmReadFrame(reply, r.transport);
      assert.equal(npm.begin.fname, 'fail');
      assert.equal(npm.begin.mtype, 3);
      assert.equal(npm.begin.rseqid, 9);
      const x = new npmThrift.Thrift.TApplicationException();
      x.read(npm.protocol);
      assert.equal(x.message, text);
      assert.equal(x.type, 1);
      if (r.transport === 'header') assert.equal(reply[14], r.compact ? 2 : 0, 'protocol id');
      only(reply);
    });
  }
});

describe('thrift encode with mutation', () => {
  const headerCall = hex('0000003b0fff00000000000000050000010107782d7472616365066162633132330080010001000000046563686f000000000b00010000000568656c6c6f00');

  it('THeader: mutation keys become info headers, existing ones are kept or replaced', () => {
    const m = decodeOne(Buffer.from(headerCall));
    const codec = serverCodec();
    const out = codec.encode(
      m,
      new Map([
        ['X-Trace', 'zzz'],
        ['x-request-id', '5f2c'],
      ]),
    );
    assert.equal(out, m.frame, 'the message now carries the new frame');
    const npm = npmReadFrame(Buffer.from(out), 'header');
    assert.equal(npm.begin.fname, 'echo');
    assert.equal(npm.headers['X-Trace'], 'zzz');
    assert.equal(npm.headers['x-request-id'], '5f2c');
    assert.equal(npm.headers['x-trace'], undefined, 'replaced case-insensitively');
    assert.equal(m.metadata.get('x-trace'), 'zzz');
    assert.equal(m.metadata.get('x-request-id'), '5f2c');
    // the payload is untouched and setRequestId still finds the seqid
    assert.deepEqual(out.subarray(out.length - 29), headerCall.subarray(headerCall.length - 29));
    codec.setRequestId(m, 77);
    const again = decodeOne(Buffer.from(m.frame));
    assert.equal(again.requestId, 77);
    assert.equal(again.metadata.get('x-request-id'), '5f2c');
    assert.equal(m.frame.readUInt32BE(0), m.frame.length - 4);
  });

  it('THeader compact after mutation and varint growth', () => {
    const m = decodeOne(hex('0000002e0fff00000000000000050200010107782d74726163650661626331323300822100046563686f180568656c6c6f00'));
    const codec = serverCodec();
    codec.encode(m, new Map([['a', 'b'.repeat(100)]]));
    codec.setRequestId(m, 100000);
    const again = decodeOne(Buffer.from(m.frame));
    assert.equal(again.requestId, 100000);
    assert.equal(again.metadata.get('a'), 'b'.repeat(100));
    assert.equal(again.metadata.get('x-trace'), 'abc123');
    assert.equal(npmReadFrame(Buffer.from(m.frame), 'header').begin.rseqid, 100000);
  });

  it('non-THeader frames ignore the mutation', () => {
    const m = decodeOne(hex('0000001d80010001000000046563686f000000010b00010000000568656c6c6f00'));
    assert.equal(serverCodec().encode(m, new Map([['k', 'v']])), m.frame);
  });

  it('metadata entries list method and lower-cased info headers', () => {
    const m = decodeOne(Buffer.from(headerCall));
    assert.deepEqual([...m.metadata.entries()], [
      ['method', 'echo'],
      ['x-trace', 'abc123'],
    ]);
  });
});

describe('thrift transport and protocol detection', () => {
  it('non-strict binary, framed and unframed', () => {
    const body = Buffer.concat([hex('00000004'), Buffer.from('echo'), hex('01'), hex('0000002a'), hex('0b0001000000016100')]);
    const unframed = decodeOne(body);
    assert.equal(unframed.upstreamKey, 'unframed/binary');
    assert.equal(unframed.requestId, 42);
    assert.equal(unframed.metadata.get('method'), 'echo');
    const framed = Buffer.concat([Buffer.alloc(4), body]);
    framed.writeUInt32BE(body.length, 0);
    const f = decodeOne(framed);
    assert.equal(f.upstreamKey, 'framed/binary');
    assert.equal(f.requestId, 42);
    // its error reply is strict binary, which non-strict readers accept
    const reply = serverCodec().errorReply(f, ErrorType.Unspecified, 'x');
    assert.equal(npmReadFrame(reply, 'framed').begin.rseqid, 42);
  });

  it('a connection that switches transport or protocol is an error', () => {
    const framedBinary = hex('0000001d80010001000000046563686f000000010b00010000000568656c6c6f00');
    const framedCompact = hex('00000010822101046563686f180568656c6c6f00');
    const unframedBinary = hex('80010001000000046563686f000000010b00010000000568656c6c6f00');
    const unframedCompact = hex('822100046563686f180568656c6c6f00');
    const header = hex('0000002b0fff00000000000000010000000080010002000000046563686f000000000b00000000000568656c6c6f00');
    const cases: Array<[Buffer, Buffer]> = [
      [framedBinary, framedCompact],
      [framedBinary, header],
      [header, framedBinary],
      [unframedBinary, unframedCompact],
      [unframedCompact, unframedBinary],
      [framedCompact, unframedCompact],
    ];
    for (const [a, b] of cases) {
      const codec = serverCodec();
      const reader = new FrameReader();
      reader.push(a);
      assert.ok(!(codec.decode(reader) instanceof CodecError));
      reader.push(b);
      const r = codec.decode(reader);
      assert.ok(r instanceof CodecError, `${a.toString('hex').slice(0, 12)} then ${b.toString('hex').slice(0, 12)}`);
      assert.equal(codec.decode(reader), r, 'the failure is sticky');
    }
  });

  it('THeader frames may change protocol id (the C++ server answers compact with binary)', () => {
    const compact = hex('0000001f0fff000000000000000102000000824100046563686f08000568656c6c6f00');
    const binary = hex('0000002b0fff00000000000000010000000080010002000000046563686f000000000b00000000000568656c6c6f00');
    const got = decodeChunks(clientCodec(), [compact, binary]);
    assert.deepEqual(got.map((m) => m.upstreamKey), ['header/compact', 'header/binary']);
  });

  it('options fix the transport and protocol', () => {
    const framedCompact = hex('00000010822101046563686f180568656c6c6f00');
    assert.equal(decodeOne(framedCompact, true, { transport: 'framed', protocol: 'compact' }).upstreamKey, 'framed/compact');
    const reader = new FrameReader();
    reader.push(framedCompact);
    assert.ok(serverCodec({ protocol: 'binary' }).decode(reader) instanceof CodecError);
    const r2 = new FrameReader();
    r2.push(hex('0000001d80010001000000046563686f000000010b00010000000568656c6c6f000000001d'));
    assert.ok(serverCodec({ transport: 'buffered' }).decode(r2) instanceof CodecError);
    const r3 = new FrameReader();
    r3.push(hex('0000002b0fff00000000000000010000000080010002000000046563686f000000000b00000000000568656c6c6f00'));
    assert.ok(serverCodec({ transport: 'framed' }).decode(r3) instanceof CodecError);
    assert.throws(() => thriftCodecFactory.createServerCodec(ctx({ transport: 'http' })), TypeError);
    assert.throws(() => thriftCodecFactory.createServerCodec(ctx({ protocol: 'json' })), TypeError);
    assert.throws(() => thriftCodecFactory.createServerCodec(ctx({ maxDepth: 0 })), TypeError);
  });

  it('HTTP and garbage are refused at once', () => {
    for (const s of ['POST / HTTP/1.1\r\n', 'GET / HTTP/1.1\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03']) {
      const reader = new FrameReader();
      reader.push(Buffer.from(s, 'latin1'));
      const r = serverCodec().decode(reader);
      assert.ok(r instanceof CodecError, JSON.stringify(s));
    }
  });

  it('unsupported THeader protocol id or transform is a clean error', () => {
    for (const h of ['0000000e0fff000000000000000101000000', '0000000e0fff000000000000000100010300']) {
      const reader = new FrameReader();
      reader.push(hex(h));
      const r = serverCodec().decode(reader);
      assert.ok(r instanceof CodecError);
      assert.equal(r.code, 'MELTEMI_ERR_UNSUPPORTED');
    }
  });
});

describe('thrift limits', () => {
  it('framed: a frame above maxFrameSize is refused before it is buffered', () => {
    const reader = new FrameReader();
    reader.push(hex('0010000080010001'));
    const r = serverCodec({}, 1024).decode(reader);
    assert.ok(r instanceof CodecError);
    assert.equal(r.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
  });

  it('unframed: a message that runs past maxFrameSize is refused', () => {
    // A string field claiming 1 MiB.
    const msg = Buffer.concat([hex('80010001000000046563686f000000010b0001'), hex('00100000'), Buffer.alloc(100)]);
    const reader = new FrameReader();
    reader.push(msg);
    const r = serverCodec({}, 4096).decode(reader);
    assert.ok(r instanceof CodecError);
    assert.equal(r.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
  });

  it('unframed: nesting deeper than maxDepth is refused; within it is accepted', () => {
    const nested = (depth: number): Buffer => {
      // field 1 struct, `depth` times, then the STOPs
      const open = Buffer.alloc(depth * 3);
      for (let i = 0; i < depth; i++) open.set([0x0c, 0x00, 0x01], i * 3);
      return Buffer.concat([hex('80010001000000046563686f00000001'), open, Buffer.alloc(depth + 1)]);
    };
    assert.equal(decodeChunks(serverCodec(), [nested(30)]).length, 1);
    const reader = new FrameReader();
    reader.push(nested(200));
    const r = serverCodec().decode(reader);
    assert.ok(r instanceof CodecError);
    assert.match(r.message, /too deep/);
    const reader2 = new FrameReader();
    reader2.push(nested(10));
    assert.ok(serverCodec({ maxDepth: 5 }).decode(reader2) instanceof CodecError);
  });

  it('unframed: pipelined messages beyond the parse window, then one larger than it', () => {
    const small = hex('80010001000000046563686f000000010b0001000003e8');
    const one = Buffer.concat([small, Buffer.alloc(1000, 0x62), hex('00')]);
    const big = Buffer.concat([hex('80010001000000046563686f000000020b000100030d40'), Buffer.alloc(200_000, 0x63), hex('00')]);
    const all = Buffer.concat([...Array.from({ length: 150 }, () => one), big, one]);
    const got = decodeChunks(serverCodec(), [all]);
    assert.equal(got.length, 152);
    assert.deepEqual(got[150]!.frame, big);
  });

  it('unframed: a huge string length waits without rescanning, then completes', () => {
    const big = Buffer.alloc(200_000, 0x61);
    const head = hex('80010001000000046563686f000000010b0001');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(big.length);
    const whole = Buffer.concat([head, len, big, hex('00')]);
    const parts: Buffer[] = [];
    for (let o = 0; o < whole.length; o += 1000) parts.push(whole.subarray(o, o + 1000));
    const got = decodeChunks(serverCodec(), parts);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.frame, whole);
  });
});

describe('thrift codec: varint seqids', () => {
  it('asks for length-matched upstream ids exactly when the protocol is compact (framed or unframed)', () => {
    assert.equal(serverCodec({ transport: 'framed', protocol: 'compact' }).varintRequestIds, true);
    assert.equal(serverCodec({ transport: 'framed', protocol: 'binary' }).varintRequestIds, false);
    for (const r of REQUESTS) {
      const codec = serverCodec();
      assert.equal(codec.varintRequestIds, false, `${r.name}: unknown before the first frame`);
      const reader = new FrameReader();
      reader.push(hex(r.bytes));
      assert.ok(!(codec.decode(reader) instanceof CodecError));
      // THeader carries a fixed 4-byte seqid in its own header, whatever the payload protocol.
      assert.equal(codec.varintRequestIds, r.compact && r.transport !== 'header', r.name);
    }
  });

  it('a compact seqid of the same encoded length is written in place', () => {
    const codec = serverCodec();
    const msg = decodeOne(hex(REQUESTS[2]!.bytes));
    const frame = msg.frame;
    codec.setRequestId(msg, 5);
    assert.equal(msg.frame, frame, 'same buffer');
    assert.equal(decodeOne(msg.frame).requestId, 5);
  });
});
