/**
 * The Dubbo codec on hostile bytes (issue 13, defect 1): bad code points in the header
 * strings, deep nesting and huge lengths are decode errors that get a BAD_REQUEST (40)
 * reply, never an exception out of decode or out of reading metadata.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodecError, ErrorType, FrameReader } from '../../codecs/api/index.js';
import type { CodecContext, Message } from '../../codecs/api/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import { touchMetadata } from '../../codecs/kit/subject.js';

const ctx: CodecContext = { maxFrameSize: 8 * 1024 * 1024, options: {}, wantedKeys: new Set() };
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const BAD_REQUEST = 40;

/** spec/test-vectors.md §1.1: sayHello("world") from apache-dubbo-js. */
const SAY_HELLO =
  'dabbc2000000000000000001000000aa05322e302e3217636f6d2e6578616d706c652e44656d6f5365727669636505312e302e300873617948656c6c6f124c6a6176612f6c616e672f537472696e673b05776f726c64480b6170706c69636174696f6e08647562626f2d6a7309696e7465726661636517636f6d2e6578616d706c652e44656d6f53657276696365047061746817636f6d2e6578616d706c652e44656d6f536572766963650776657273696f6e05312e302e305a';

/** The first message decoded from `bytes` (no exception may escape). */
function decodeFirst(bytes: Buffer): Message | CodecError | undefined {
  const r = new FrameReader();
  r.push(bytes);
  return dubboCodecFactory.createServerCodec(ctx).decode(r);
}

/** A request frame around `body`, with the body length set to fit. */
function request(body: Buffer): Buffer {
  const out = Buffer.concat([hex('dabbc2000000000000000001'), Buffer.alloc(4), body]);
  out.writeUInt32BE(body.length, 12);
  return out;
}

/** Asserts the frame is a request the proxy answers with BAD_REQUEST, and nothing throws. */
function assertBadRequest(bytes: Buffer): void {
  const m = decodeFirst(bytes);
  assert.ok(m !== undefined && !(m instanceof CodecError), 'a message, so that it can be answered');
  assert.ok(m.decodeError !== undefined, 'the message carries a decode error');
  touchMetadata(m);
  const reply = dubboCodecFactory.createServerCodec(ctx).errorReply(m, ErrorType.BadRequest, m.decodeError);
  assert.equal(reply[3], BAD_REQUEST);
}

describe('dubbo codec: hostile header strings', () => {
  test('the 25-byte request with U+1FFFFF in the dubbo version is a BAD_REQUEST', () => {
    assertBadRequest(hex('dabbc20000000000000000090000000901f7bfbfbf4e4e4e4e'));
  });

  test('sayHello with 00 fc inserted at offset 17 is a BAD_REQUEST', () => {
    const v = hex(SAY_HELLO);
    const raw = Buffer.concat([v.subarray(0, 17), hex('00fc'), v.subarray(17)]);
    assertBadRequest(raw);
    // The same with the body length fixed up, so the whole frame is one message.
    const fixed = Buffer.from(raw);
    fixed.writeUInt32BE(raw.length - 16, 12);
    assertBadRequest(fixed);
  });

  test('a bad code point in the service version is a BAD_REQUEST at decode, and metadata never throws', () => {
    const body = hex(SAY_HELLO).subarray(16);
    const at = body.indexOf(hex('05312e302e30'));
    // Four units: one 4-byte sequence (two units, U+1FFFFF is no code point) and "11".
    const bad = Buffer.concat([body.subarray(0, at), hex('04f7bfbfbf3131'), body.subarray(at + 6)]);
    assertBadRequest(request(bad));
  });

  test('a valid non-BMP character still decodes', () => {
    const body = hex(SAY_HELLO).subarray(16);
    const at = body.indexOf(hex('05312e302e30'));
    const ok = Buffer.concat([body.subarray(0, at), hex('04f09f9880312e'), body.subarray(at + 6)]);
    const m = decodeFirst(request(ok));
    assert.ok(m !== undefined && !(m instanceof CodecError));
    assert.equal(m.decodeError, undefined);
    assert.equal(m.metadata.get('version'), '\u{1F600}1.');
  });

  test('lead bytes f5-ff are refused wherever a string is walked', () => {
    for (let lead = 0xf5; lead <= 0xff; lead++) {
      const frame = hex(`dabbc20000000000000000090000000901${lead.toString(16)}8080804e4e4e4e`);
      assertBadRequest(frame);
    }
  });
});

describe('dubbo codec: hostile values after the header', () => {
  const head = hex(SAY_HELLO).subarray(16, hex(SAY_HELLO).indexOf(hex('05776f726c64')));

  test('arguments nested 100k deep: metadata reads as absent, no stack overflow', () => {
    const body = Buffer.concat([head, Buffer.alloc(100_000, 0x57)]);
    const m = decodeFirst(request(body));
    assert.ok(m !== undefined && !(m instanceof CodecError));
    assert.equal(m.metadata.get('application'), undefined);
    touchMetadata(m);
    // A mutation on such a request leaves its bytes as they are rather than throwing.
    const codec = dubboCodecFactory.createServerCodec(ctx);
    const out = codec.encode(m, new Map([['x-k', 'v']]));
    assert.ok(!(out instanceof CodecError) && out.length > 0);
  });

  test('a string of 100k empty chunks is skipped without recursion', () => {
    const chunks = Buffer.alloc(300_000);
    for (let i = 0; i < 100_000; i++) chunks[i * 3] = 0x52;
    const body = Buffer.concat([head, chunks, hex('00'), hex('4801610131'), hex('5a')]);
    const m = decodeFirst(request(body));
    assert.ok(m !== undefined && !(m instanceof CodecError));
    assert.equal(m.metadata.get('a'), '1');
  });

  test('huge string, list and binary lengths in the arguments and attachments do not throw', () => {
    for (const tail of ['53ffff41', '58d7ffff', '41ffff', '7fd7ffff', '48' + '53ffff', '4f90', '51d7ffff', '43' + '05616161616190' + '60', '7180']) {
      const m = decodeFirst(request(Buffer.concat([head, hex(tail)])));
      assert.ok(m !== undefined && !(m instanceof CodecError), tail);
      touchMetadata(m);
      dubboCodecFactory.createServerCodec(ctx).encode(m, new Map([['x-k', 'v']]));
    }
  });

  test('a response with hostile result bytes: metadata and mutation never throw', () => {
    for (const tail of ['93' + '57'.repeat(50_000), '9453ffff', '9301f7bfbfbf', '94' + '4801f7bfbfbf0130' + '5a']) {
      const body = hex(tail);
      const frame = Buffer.concat([hex('dabb02140000000000000001'), Buffer.alloc(4), body]);
      frame.writeUInt32BE(body.length, 12);
      const r = new FrameReader();
      r.push(frame);
      const client = dubboCodecFactory.createClientCodec(ctx);
      const m = client.decode(r);
      assert.ok(m !== undefined && !(m instanceof CodecError), tail.slice(0, 20));
      touchMetadata(m);
      client.encode(m, new Map([['x-k', 'v']]));
    }
  });
});
