/**
 * Replays every input that ever made a codec throw (test/fixtures/fuzz-regressions, see its
 * README): each is decoded and used the way the mutation fuzzer does, and no exception may
 * escape. A new bug found by the fuzzer gets its input added there.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { CodecFactory } from '../../codecs/api/index.js';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import { exerciseInput } from '../../codecs/kit/fuzz/mutation-fuzz.js';
import type { FuzzSide } from '../../codecs/kit/fuzz/mutation-fuzz.js';
import { conformanceSubject } from '../../codecs/kit/index.js';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';

/** The fixtures folder of the repository (tests run from dist/test/unit). */
const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/fuzz-regressions');

const FACTORIES: Record<string, CodecFactory> = {
  dubbo: dubboCodecFactory,
  thrift: thriftCodecFactory,
  brpc: brpcCodecFactory,
  trpc: trpcCodecFactory,
};

interface Vector {
  readonly file: string;
  readonly side: FuzzSide;
  readonly options: Record<string, unknown>;
  readonly chunks: Buffer[];
}

function parse(file: string): Vector {
  let side: FuzzSide | undefined;
  let options: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const header = /^#\s*(\w+):\s*(.*)$/.exec(line);
    if (header !== null) {
      if (header[1] === 'side') side = header[2] === 'client' ? 'client' : 'server';
      if (header[1] === 'options') options = JSON.parse(header[2]!) as Record<string, unknown>;
      continue;
    }
    if (line.startsWith('#')) continue;
    assert.match(line, /^([0-9a-f]{2})+$/, `${file}: a chunk line must be hex`);
    chunks.push(Buffer.from(line, 'hex'));
  }
  assert.ok(side !== undefined, `${file}: no '# side:' line`);
  assert.ok(chunks.length > 0, `${file}: no input`);
  return { file, side, options, chunks };
}

const codecs = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory());

describe('fuzz regression vectors', () => {
  it('the folder holds vectors, and only for known codecs', () => {
    assert.ok(codecs.length > 0);
    for (const d of codecs) assert.ok(FACTORIES[d.name] !== undefined, `unknown codec folder ${d.name}`);
  });

  for (const d of codecs) {
    const factory = FACTORIES[d.name];
    if (factory === undefined) continue;
    for (const name of readdirSync(path.join(DIR, d.name)).filter((f) => f.endsWith('.hex')).sort()) {
      it(`${d.name}/${name}: no exception escapes`, () => {
        const v = parse(path.join(DIR, d.name, name));
        const subject = conformanceSubject(factory, { requests: [Buffer.concat(v.chunks)], responses: [], options: v.options });
        // Twice: whole, and in the recorded chunks (one chunk files: byte by byte at the head).
        exerciseInput(subject, v.side, [Buffer.concat(v.chunks)]);
        const all = Buffer.concat(v.chunks);
        const chunks = v.chunks.length > 1 ? v.chunks : [...Array.from({ length: Math.min(64, all.length) }, (_, i) => all.subarray(i, i + 1)), all.subarray(64)];
        const r = exerciseInput(subject, v.side, chunks);
        assert.ok(r.messages + (r.decodeError ? 1 : 0) > 0 || all.length < 16, 'the input was decoded to something');
      });
    }
  }
});
