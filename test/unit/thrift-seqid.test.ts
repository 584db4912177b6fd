/**
 * Request id rewriting (spec/wire-formats.md §2.3): the proxy gives each upstream request its
 * own id and restores the client's id on the reply. After a rewrite the frame must decode
 * (here and in npm thrift) with the new id and nothing else changed; restoring must give the
 * original bytes back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../codecs/api/index.js';
import { decodeOne, hex, npmReadFrame, serverCodec } from './thrift-fixtures.js';

const CASES: Array<{ name: string; bytes: string; transport: 'framed' | 'unframed' | 'header' }> = [
  { name: 'framed binary', bytes: '0000001d80010001000000046563686f000000010b00010000000568656c6c6f00', transport: 'framed' },
  { name: 'unframed binary', bytes: '80010001000000046563686f000000010b00010000000568656c6c6f00', transport: 'unframed' },
  { name: 'unframed compact', bytes: '822100046563686f180568656c6c6f00', transport: 'unframed' },
  { name: 'framed compact', bytes: '00000010822101046563686f180568656c6c6f00', transport: 'framed' },
  { name: 'THeader binary', bytes: '0000003b0fff00000000000000050000010107782d7472616365066162633132330080010001000000046563686f000000000b00010000000568656c6c6f00', transport: 'header' },
  { name: 'THeader compact', bytes: '0000002e0fff00000000000000050200010107782d74726163650661626331323300822100046563686f180568656c6c6f00', transport: 'header' },
];

/** Decodes `m.frame` from scratch and checks the seqid everywhere it is written. */
function checkFrame(m: Message, id: number, transport: 'framed' | 'unframed' | 'header'): void {
  const again = decodeOne(Buffer.from(m.frame));
  assert.equal(again.requestId, id);
  assert.equal(again.operationName, 'echo');
  assert.equal(again.headerSize + again.bodySize, m.frame.length);
  const npm = npmReadFrame(Buffer.from(m.frame), transport);
  assert.equal(npm.begin.rseqid >>> 0, id);
  assert.equal(npm.begin.fname, 'echo');
  if (transport === 'framed') assert.equal(m.frame.readUInt32BE(0), m.frame.length - 4);
  if (transport === 'header') {
    assert.equal(m.frame.readUInt32BE(0), m.frame.length - 4);
    assert.equal(m.frame.readUInt32BE(8), id, 'THeader seqid @8');
    assert.equal(npm.headers['x-trace'], 'abc123');
    assert.equal(again.metadata.get('x-trace'), 'abc123');
  }
}

describe('thrift setRequestId', () => {
  for (const c of CASES) {
    it(`${c.name}: rewrite and restore, through varint growth`, () => {
      const original = hex(c.bytes);
      const m = decodeOne(Buffer.from(original));
      const first = Number(m.requestId);
      const codec = serverCodec();
      for (const id of [0, 1, 127, 128, 300, 16384, 0x7fffffff, 0xffffffff, 5, 300]) {
        codec.setRequestId(m, id);
        assert.equal(m.requestId, id);
        checkFrame(m, id, c.transport);
      }
      codec.setRequestId(m, first);
      assert.deepEqual(m.frame, original, 'restored bytes');
    });
  }

  it('binary rewrites in place (same buffer)', () => {
    const m = decodeOne(hex(CASES[0]!.bytes));
    const before = m.frame;
    serverCodec().setRequestId(m, 0x7fffffff);
    assert.equal(m.frame, before);
  });

  it('compact keeps the buffer while the varint length holds, re-frames when it changes', () => {
    const m = decodeOne(hex(CASES[3]!.bytes));
    const before = m.frame;
    serverCodec().setRequestId(m, 127);
    assert.equal(m.frame, before, 'one-byte varint: in place');
    serverCodec().setRequestId(m, 300);
    assert.notEqual(m.frame, before, 'two-byte varint: new frame');
    assert.equal(m.frame.length, before.length + 1);
  });

  it('accepts signed i32 and bigint ids, refuses ids that do not fit', () => {
    const m = decodeOne(hex(CASES[0]!.bytes));
    const codec = serverCodec();
    codec.setRequestId(m, -1);
    assert.equal(m.requestId, 0xffffffff);
    codec.setRequestId(m, 42n);
    assert.equal(m.requestId, 42);
    assert.throws(() => codec.setRequestId(m, 2 ** 32), RangeError);
    assert.throws(() => codec.setRequestId(m, 1.5), RangeError);
  });

  it('works on a plain copy of a message (not the codec object)', () => {
    const m = decodeOne(hex(CASES[3]!.bytes));
    const copy: Message = { ...m, metadata: m.metadata, operationName: m.operationName };
    serverCodec().setRequestId(copy, 300);
    assert.equal(copy.requestId, 300);
    assert.equal(decodeOne(copy.frame).requestId, 300);
  });

  it('THeader with a zlib transform: rewrite re-compresses the payload', async () => {
    const { deflateSync } = await import('node:zlib');
    const payload = hex('80010001000000046563686f000000070b00010000000568656c6c6f00');
    const z = deflateSync(payload);
    // header: proto 0, 1 transform (zlib = 1), pad to 4 bytes
    const header = hex('00010100');
    const frame = Buffer.concat([Buffer.alloc(14), header, z]);
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt16BE(0x0fff, 4);
    frame.writeUInt32BE(7, 8);
    frame.writeUInt16BE(1, 12);
    const m = decodeOne(frame);
    assert.equal(m.requestId, 7);
    assert.equal(m.metadata.get('method'), 'echo');
    serverCodec().setRequestId(m, 300);
    const again = decodeOne(m.frame);
    assert.equal(again.requestId, 300);
    assert.equal(m.frame.readUInt32BE(8), 300);
    assert.equal(m.frame.readUInt32BE(0), m.frame.length - 4);
  });
});
