/**
 * Every split point of every captured frame, byte-by-byte delivery, and all frames of a
 * direction pipelined in one chunk: the decoded frames must be the same whatever the chunking.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader } from '../../codecs/api/index.js';
import { clientCodec, decodeChunks, loadCapture, serverCodec, thriftCaptureFiles } from './thrift-fixtures.js';

/** The frames of one capture direction, as a fresh codec cuts them. */
function framesOf(chunks: Buffer[], server: boolean): Buffer[] {
  return decodeChunks(server ? serverCodec() : clientCodec(), chunks).map((m) => Buffer.from(m.frame));
}

for (const file of thriftCaptureFiles()) {
  describe(`splits of ${file}`, () => {
    for (const [conn, c] of loadCapture(file)) {
      for (const [dir, chunks, server] of [
        ['C->S', c.c2s, true],
        ['S->C', c.s2c, false],
      ] as const) {
        if (chunks.length === 0) continue;
        const frames = framesOf([...chunks], server);
        const all = Buffer.concat(chunks);

        it(`#${conn} ${dir}: every split point of each frame`, () => {
          // The preceding frames go in first so detection has happened as on the wire, then
          // frame i is cut at every offset.
          for (let i = 0; i < frames.length; i++) {
            const before = frames.slice(0, i);
            const f = frames[i]!;
            for (let cut = 1; cut < f.length; cut++) {
              const codec = server ? serverCodec() : clientCodec();
              const reader = new FrameReader();
              decodeChunks(codec, before, reader);
              const got = decodeChunks(codec, [f.subarray(0, cut), f.subarray(cut)], reader);
              assert.equal(got.length, 1, `frame ${i} cut at ${cut}`);
              assert.deepEqual(got[0]!.frame, f);
              assert.equal(reader.length, 0);
            }
          }
        });

        it(`#${conn} ${dir}: byte by byte`, () => {
          const bytes = [...all].map((b) => Buffer.from([b]));
          const got = decodeChunks(server ? serverCodec() : clientCodec(), bytes);
          assert.deepEqual(got.map((m) => m.frame), frames);
        });

        it(`#${conn} ${dir}: all frames pipelined in one read`, () => {
          const got = decodeChunks(server ? serverCodec() : clientCodec(), [Buffer.from(all)]);
          assert.deepEqual(got.map((m) => m.frame), frames);
        });

        it(`#${conn} ${dir}: odd chunk sizes across frame boundaries`, () => {
          for (const size of [2, 3, 5, 7, 13, 31]) {
            const parts: Buffer[] = [];
            for (let o = 0; o < all.length; o += size) parts.push(all.subarray(o, o + size));
            const got = decodeChunks(server ? serverCodec() : clientCodec(), parts);
            assert.deepEqual(got.map((m) => m.frame), frames, `chunk size ${size}`);
          }
        });
      }
    }
  });
}
