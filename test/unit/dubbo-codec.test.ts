/**
 * The Dubbo codec against bytes captured between real implementations
 * (spec/test-vectors.md §1, spec/captures/*-to-sofa.hex).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { CodecError, ErrorType, FrameReader, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { CodecContext, Message } from '../../codecs/api/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import { Hessian2Reader } from '../../codecs/dubbo/hessian2-reader.js';
import { RequestBody } from '../../codecs/dubbo/request-body.js';
import { dubboRequest, hessianDecodeAll, hessianEncode } from '../helpers/dubbo-frames.js';
import { readCapture } from '../helpers/spec-files.js';

const ctx: CodecContext = { maxFrameSize: 8 * 1024 * 1024, options: {}, wantedKeys: new Set() };
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
/** The bytes of an encode result (a CodecError fails the test). */
const bytesOf = (r: Buffer | CodecError): Buffer => {
  if (r instanceof CodecError) throw r;
  return r;
};

const V1_1_REQ =
  'dabbc2000000000000000001000000aa05322e302e3217636f6d2e6578616d706c652e44656d6f5365727669636505312e302e300873617948656c6c6f124c6a6176612f6c616e672f537472696e673b05776f726c64480b6170706c69636174696f6e08647562626f2d6a7309696e7465726661636517636f6d2e6578616d706c652e44656d6f53657276696365047061746817636f6d2e6578616d706c652e44656d6f536572766963650776657273696f6e05312e302e305a';
const V1_1_RSP = 'dabb021400000000000000010000000d910b68656c6c6f20776f726c64';
const V1_3_REQ =
  'dabbc2000000000000000001000000b005352e332e3017636f6d2e6578616d706c652e44656d6f5365727669636505312e302e300873617948656c6c6f124c6a6176612f6c616e672f537472696e673b05776f726c644805647562626f05352e332e300567726f757004534f4641047061746817636f6d2e6578616d706c652e44656d6f5365727669636507736572766963651d636f6d2e6578616d706c652e44656d6f536572766963653a312e302e300776657273696f6e05312e302e305a';
const V1_7_REQ =
  'dabbc2000000000000000005000000cc05322e302e3230216f72672e6170616368652e647562626f2e64656d6f2e44656d6f5365727669636505312e302e300873617948656c6c6f124c6a6176612f6c616e672f537472696e673b05647562626f480567726f757002673109696e7465726661636530216f72672e6170616368652e647562626f2e64656d6f2e44656d6f53657276696365047061746830216f72672e6170616368652e647562626f2e64656d6f2e44656d6f536572766963650774696d656f757404333030300776657273696f6e05312e302e305a';
const V1_7_RSP4 = 'dabb021400000000000000050000001b940b68656c6c6f20647562626f4805647562626f05322e302e325a';

function decodeAll(bytes: Buffer, side: 'server' | 'client' = 'server'): Message[] {
  const codec = side === 'server' ? dubboCodecFactory.createServerCodec(ctx) : dubboCodecFactory.createClientCodec(ctx);
  const r = new FrameReader();
  r.push(bytes);
  const out: Message[] = [];
  for (;;) {
    const m = codec.decode(r);
    if (m === undefined) break;
    if (m instanceof CodecError) throw m;
    out.push(m);
  }
  assert.equal(r.length, 0, 'every byte consumed');
  return out;
}

describe('decoding golden vectors', () => {
  test('apache-dubbo-js request: header keys and attachments', () => {
    const [m] = decodeAll(hex(V1_1_REQ));
    assert.ok(m !== undefined);
    assert.equal(m.type, MessageType.Request);
    assert.equal(m.requestId, 1);
    assert.equal(m.metadata.get('interface'), 'com.example.DemoService');
    assert.equal(m.metadata.get('method'), 'sayHello');
    assert.equal(m.metadata.get('version'), '1.0.0');
    assert.equal(m.metadata.get('application'), 'dubbo-js');
    assert.equal(m.metadata.get('path'), 'com.example.DemoService');
    assert.equal(m.metadata.get('group'), undefined);
    assert.equal(m.operationName, 'com.example.DemoService/sayHello');
    assert.equal(m.headerSize + m.bodySize, m.frame.length);
  });

  test('sofa-rpc-node request: group SOFA and service attachments', () => {
    const [m] = decodeAll(hex(V1_3_REQ));
    assert.equal(m!.metadata.get('group'), 'SOFA');
    assert.equal(m!.metadata.get('dubbo'), '5.3.0');
    assert.equal(m!.metadata.get('service'), 'com.example.DemoService:1.0.0');
    const keys = new Map(m!.metadata.entries());
    assert.equal(keys.get('interface'), 'com.example.DemoService');
    assert.equal(keys.get('group'), 'SOFA');
  });

  test('Java-style request with 2-byte string lengths, group and timeout', () => {
    const [m] = decodeAll(hex(V1_7_REQ));
    assert.equal(m!.metadata.get('interface'), 'org.apache.dubbo.demo.DemoService');
    assert.equal(m!.metadata.get('group'), 'g1');
    assert.equal(m!.metadata.get('timeout'), '3000');
  });

  test('responses: OK value, error status, value with attachments', () => {
    const [ok] = decodeAll(hex(V1_1_RSP), 'client');
    assert.equal(ok!.type, MessageType.Response);
    assert.equal(ok!.status, ResponseStatus.Ok);
    const [err] = decodeAll(hex('dabb025000000000000000030000001110626f6f6d2066726f6d20736572766572'), 'client');
    assert.equal(err!.type, MessageType.Error);
    assert.equal(err!.status, ResponseStatus.Error);
    assert.equal(err!.requestId, 3);
    const [att] = decodeAll(hex(V1_7_RSP4), 'client');
    assert.equal(att!.type, MessageType.Response);
  });

  test('heartbeat request and reply', () => {
    const codec = dubboCodecFactory.createServerCodec(ctx);
    const [hb] = decodeAll(hex('dabbe2000000000000000007000000014e'));
    assert.equal(hb!.type, MessageType.Heartbeat);
    assert.equal(codec.heartbeatReply(hb!)?.toString('hex'), 'dabb22140000000000000007000000014e');
    const [reply] = decodeAll(hex('dabb22140000000000000007000000014e'), 'client');
    assert.equal(reply!.type, MessageType.Heartbeat);
    assert.equal(dubboCodecFactory.createClientCodec(ctx).heartbeatReply?.(reply!), null, 'a heartbeat response needs no answer');
  });

  test('the read-only event of a draining provider is a go-away', () => {
    const [ev] = decodeAll(hex('dabba2000000000000000009000000020152'), 'client');
    assert.equal(ev!.type, MessageType.Heartbeat);
    assert.equal(ev!.goAway, true);
  });

  test('a one-way request', () => {
    const frame = hex(V1_1_REQ);
    frame[2] = 0x82;
    const [m] = decodeAll(frame);
    assert.equal(m!.type, MessageType.Oneway);
  });
});

describe('replaying real captures', () => {
  for (const name of ['cap.adj-to-sofa.hex', 'cap.dubbo2js-to-sofa.hex', 'cap.sofa-to-sofa.hex']) {
    test(name, () => {
      const reads = readCapture(name);
      for (const dir of ['C->S', 'S->C'] as const) {
        const codec = dir === 'C->S' ? dubboCodecFactory.createServerCodec(ctx) : dubboCodecFactory.createClientCodec(ctx);
        const r = new FrameReader();
        const frames: Buffer[] = [];
        const input = reads.filter((x) => x.dir === dir).map((x) => x.bytes);
        for (const bytes of input) {
          r.push(bytes);
          for (;;) {
            const m = codec.decode(r);
            if (m === undefined) break;
            assert.ok(!(m instanceof CodecError), String(m));
            if (dir === 'C->S' && m.type === MessageType.Request) assert.equal(m.metadata.get('interface'), 'com.example.DemoService');
            frames.push(Buffer.from(m.frame));
          }
        }
        assert.equal(r.length, 0);
        assert.deepEqual(Buffer.concat(frames), Buffer.concat(input), 'the frames are the stream, byte for byte');
        assert.ok(frames.length >= 3);
      }
    });
  }
});

describe('encoding', () => {
  const server = dubboCodecFactory.createServerCodec(ctx);
  const request = (id: number): Message => {
    const [m] = decodeAll(hex(V1_1_REQ));
    server.setRequestId(m!, id);
    return m!;
  };

  test('error replies match the vectors decoded by Caucho Hessian2Input', () => {
    assert.equal(server.errorReply(request(43), ErrorType.Timeout, 'upstream timeout').toString('hex'), 'dabb021f000000000000002b0000001110757073747265616d2074696d656f7574');
    assert.equal(
      server.errorReply(request(44), ErrorType.BadRequest, "Fail to decode request due to: bad body").toString('hex'),
      'dabb0228000000000000002c0000002930274661696c20746f206465636f646520726571756573742064756520746f3a2062616420626f6479',
    );
  });

  test('error statuses per error type', () => {
    const status = (e: ErrorType): number => server.errorReply(request(1), e, 'x')[3]!;
    assert.equal(status(ErrorType.RouteNotFound), 60);
    assert.equal(status(ErrorType.NoHealthyUpstream), 80);
    assert.equal(status(ErrorType.OverLimit), 100);
    assert.equal(status(ErrorType.Timeout), 31);
  });

  test('request ids are rewritten in place, 64-bit ids survive', () => {
    const m = request(1);
    const ids: (number | bigint)[] = [0, 1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, 0xffff_ffff_ffff_fffen];
    for (const id of ids) {
      server.setRequestId(m, id);
      const [again] = decodeAll(Buffer.from(m.frame));
      assert.equal(again!.requestId, id);
    }
  });

  test('a mutation rewrites the attachments and the body length; hessian.js reads the result', () => {
    const m = request(9);
    const out = bytesOf(server.encode(m, new Map([['x-request-id', 'abc'], ['application', 'meltemi-héllo€']])));
    assert.notEqual(out, m.frame);
    assert.equal(out.readUInt32BE(12), out.length - 16);
    const [again] = decodeAll(out);
    assert.equal(again!.metadata.get('x-request-id'), 'abc');
    assert.equal(again!.metadata.get('application'), 'meltemi-héllo€');
    assert.equal(again!.metadata.get('path'), 'com.example.DemoService');
    // Decode the attachment map with an independent implementation.
    const values = hessianDecodeAll(out.subarray(16));
    assert.equal(values.length, 7, 'five header strings, one argument, the attachments');
    assert.equal(values[5], 'world');
    const map = values[6] as Record<string, string>;
    assert.equal(map['x-request-id'], 'abc');
    assert.equal(map['application'], 'meltemi-héllo€');
    assert.equal(server.encode(m, null), m.frame, 'no mutation: the original bytes');
  });

  test('response attachments are mutated only where the response has them', () => {
    const client = dubboCodecFactory.createClientCodec(ctx);
    const [withAtt] = decodeAll(hex(V1_7_RSP4), 'client');
    const out = bytesOf(client.encode(withAtt!, new Map([['k', 'v']])));
    assert.equal(out.readUInt32BE(12), out.length - 16);
    assert.ok(out.includes(Buffer.from('016b0176', 'hex')));
    const [plain] = decodeAll(hex(V1_1_RSP), 'client');
    assert.equal(client.encode(plain!, new Map([['k', 'v']])), plain!.frame);
  });

  test('strings hessian.js writes in chunks (over 32k units), read and skipped to the same end', () => {
    for (const text of ['', 'a', 'é😀'.repeat(20_000), 'x'.repeat(70_000), 'ü'.repeat(1023)]) {
      const bytes = Buffer.concat([hessianEncode(text), hessianEncode(7)]);
      const read = new Hessian2Reader(bytes, 0);
      assert.equal(read.readString(), text);
      const skip = new Hessian2Reader(bytes, 0);
      skip.skipString();
      assert.equal(skip.pos, read.pos);
      assert.equal(read.readInt(), 7);
    }
  });

  test('which clients read response attachments: dubbo 2.0.2 to 2.0.99, as Version.isSupportResponseAttachment', () => {
    const cases: [string, boolean][] = [
      ['2.0.2', true], ['2.0.10', true], ['2.0.99', true], ['2.0.2-SNAPSHOT', true],
      ['2.0.1', false], ['2.0.100', false], ['2.0.', false], ['2.7.8', false], ['5.3.0', false], ['', false],
      // Longer than 31 characters: a different string tag, read the slow way.
      ['2.0.2'.padEnd(40, '-x'), true], ['3.0.2'.padEnd(40, '-x'), false],
    ];
    for (const [dubboVersion, expected] of cases) {
      const body = new RequestBody(dubboRequest({ id: 1, dubboVersion }));
      assert.equal(body.readsResponseAttachments, expected, dubboVersion);
      assert.equal(body.dubboVersion, dubboVersion);
      assert.equal(body.version, '1.0.0');
    }
  });

  test('a request with non-BMP characters and hessian.js-encoded arguments of many types', () => {
    const frame = dubboRequest({
      id: 3,
      desc: 'Ljava/lang/String;Ljava/util/Map;Ljava/util/List;IJZ',
      args: ['😀 héllo', { a: [1, 2, { b: 'c' }], d: null }, [1.5, 'x', true, 2 ** 40], 7, 2 ** 40, true],
      attachments: { group: 'g-😀' },
    });
    const [m] = decodeAll(frame);
    assert.equal(m!.metadata.get('group'), 'g-😀');
  });
});

describe('framing robustness', () => {
  test('every split point of a pipelined stream yields the same messages', () => {
    const stream = Buffer.concat([hex(V1_1_REQ), hex('dabbe2000000000000000007000000014e'), hex(V1_3_REQ)]);
    for (let cut = 1; cut < stream.length; cut++) {
      const codec = dubboCodecFactory.createServerCodec(ctx);
      const r = new FrameReader();
      const got: Message[] = [];
      for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
        r.push(part);
        for (;;) {
          const m = codec.decode(r);
          if (m === undefined) break;
          assert.ok(!(m instanceof CodecError));
          got.push(m);
        }
      }
      assert.deepEqual(
        got.map((m) => [m.type, m.requestId]),
        [
          [MessageType.Request, 1],
          [MessageType.Heartbeat, 7],
          [MessageType.Request, 1],
        ],
      );
      assert.equal(got[2]!.metadata.get('group'), 'SOFA');
    }
  });

  test('bad magic and oversized frames are CodecErrors', () => {
    const codec = dubboCodecFactory.createServerCodec({ ...ctx, maxFrameSize: 1024 });
    const r = new FrameReader();
    r.push(hex('dabbc20000000000000000010000ffff'));
    const big = codec.decode(r);
    assert.ok(big instanceof CodecError);
    assert.equal(big.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    const r2 = new FrameReader();
    r2.push(Buffer.from('GET /'));
    const bad = codec.decode(r2);
    assert.ok(bad instanceof CodecError);
    assert.equal(bad.code, 'MELTEMI_ERR_BAD_MAGIC');
  });

  test('random and corrupted input never throws and never loops (fast-check)', () => {
    const base = [hex(V1_1_REQ), hex(V1_3_REQ), hex(V1_7_REQ), hex(V1_7_RSP4), hex('dabbe2000000000000000007000000014e')];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
          fc.tuple(fc.constantFrom(...base), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 })).map(([b, flips]) => {
            const c = Buffer.from(b);
            for (const [at, v] of flips) c[at % c.length] = v;
            return c;
          }),
        ),
        fc.integer({ min: 1, max: 64 }),
        (bytes, chunk) => {
          const codec = dubboCodecFactory.createServerCodec(ctx);
          const r = new FrameReader();
          let steps = 0;
          for (let off = 0; off < bytes.length; off += chunk) {
            r.push(bytes.subarray(off, off + chunk));
            for (;;) {
              assert.ok(++steps < 10_000, 'decode loops');
              const m = codec.decode(r);
              if (m === undefined || m instanceof CodecError) break;
              // Lazy metadata must not throw either.
              for (const _ of m.metadata.entries()) void _;
              void m.metadata.get('group');
              codec.encode(m, new Map([['k', 'v']]));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
