// tRPC unary (spec/wire-formats.md §4) through the codec SPI, like bRPC: hand-built request and
// response frames, Meltemi's tRPC codec for framing and request ids.
import type { CodecBenchAdapter, SpiCodecFactory } from './codec-spi.ts';
import { encodeMessage, stringMessageOfSize } from './protobuf-frames.ts';
import { seqToId } from './protocol.ts';

const CALLEE = 'trpc.test.helloworld.Greeter';
const FUNC = '/trpc.test.helloworld.Greeter/SayHello';
const CALLER = 'trpc.bench.client.service';
const HEADER = 16;
const MAGIC = 0x0930;
const ID_WIDTH = 5;

function frame(pbHeader: Buffer, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER + pbHeader.length + body.length);
  out.writeUInt16BE(MAGIC, 0);
  // [2] unary data frame, [3] unary; [10..14) request id left 0 and [14] version 0: a v0 sender,
  // so the id lives only in the protobuf header, which the codec rewrites.
  out.writeUInt32BE(out.length, 4);
  out.writeUInt16BE(pbHeader.length, 8);
  pbHeader.copy(out, HEADER);
  body.copy(out, HEADER + pbHeader.length);
  return out;
}

const requestHeader = encodeMessage([
  { no: 3, varint: seqToId(0), width: ID_WIDTH },
  { no: 4, varint: 1000 },
  { no: 5, bytes: CALLER },
  { no: 6, bytes: CALLEE },
  { no: 7, bytes: FUNC },
]);
const responseHeader = encodeMessage([{ no: 3, varint: seqToId(0), width: ID_WIDTH }]);

function bodyFor(frameSize: number): Buffer {
  const b = stringMessageOfSize(frameSize - HEADER - requestHeader.length);
  if (b === null) throw new RangeError(`payload ${frameSize} B is below the ${HEADER + requestHeader.length + 2} B a tRPC request needs`);
  return b;
}

export function trpcAdapter(factory: SpiCodecFactory): CodecBenchAdapter {
  return {
    name: 'trpc',
    factory,
    routeMatch: [
      { name: 'callee', exact_match: CALLEE },
      { name: 'func', exact_match: FUNC },
    ],
    minFrameSize: HEADER + requestHeader.length + 2,
    requestFrame: (frameSize) => frame(requestHeader, bodyFor(frameSize)),
    responseFrame: (request) => frame(responseHeader, request.subarray(HEADER + request.readUInt16BE(8), request.readUInt32BE(4))),
  };
}
