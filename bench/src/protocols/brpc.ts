// bRPC baidu_std (spec/wire-formats.md §3) through the codec SPI: the bench builds one request
// and one response frame, and Meltemi's own bRPC codec (meltemi/codecs) finds frames and
// rewrites correlation ids, the same path a custom codec package takes.
import type { CodecBenchAdapter, SpiCodecFactory } from './codec-spi.ts';
import { encodeMessage, stringMessageOfSize } from './protobuf-frames.ts';
import { seqToId } from './protocol.ts';

const SERVICE = 'example.EchoService';
const METHOD = 'Echo';
const HEADER = 12;
/** correlation_id is written in the 5 bytes every bench id takes. */
const ID_WIDTH = 5;

function frame(meta: Buffer, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + meta.length + payload.length);
  out.write('PRPC', 0, 'latin1');
  out.writeUInt32BE(meta.length + payload.length, 4);
  out.writeUInt32BE(meta.length, 8);
  meta.copy(out, HEADER);
  payload.copy(out, HEADER + meta.length);
  return out;
}

const requestMeta = encodeMessage([
  { no: 1, bytes: encodeMessage([{ no: 1, bytes: SERVICE }, { no: 2, bytes: METHOD }]) },
  { no: 4, varint: seqToId(0), width: ID_WIDTH },
]);
// error_code 0 written out so the response meta is present and non-empty.
const responseMeta = encodeMessage([
  { no: 2, bytes: encodeMessage([{ no: 1, varint: 0 }]) },
  { no: 4, varint: seqToId(0), width: ID_WIDTH },
]);

function payloadFor(frameSize: number): Buffer {
  const p = stringMessageOfSize(frameSize - HEADER - requestMeta.length);
  if (p === null) throw new RangeError(`payload ${frameSize} B is below the ${HEADER + requestMeta.length + 2} B a bRPC request needs`);
  return p;
}

export function brpcAdapter(factory: SpiCodecFactory): CodecBenchAdapter {
  return {
    name: 'brpc',
    factory,
    routeMatch: [
      { name: 'service', exact_match: SERVICE },
      { name: 'method', exact_match: METHOD },
    ],
    minFrameSize: HEADER + requestMeta.length + 2,
    requestFrame: (frameSize) => frame(requestMeta, payloadFor(frameSize)),
    // The echo service answers with the request's payload: EchoResponse has the same shape.
    responseFrame: (request) => frame(responseMeta, request.subarray(HEADER + request.readUInt32BE(8), HEADER + request.readUInt32BE(4))),
  };
}
