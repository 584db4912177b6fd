// Framed Thrift (binary or compact) for the bench. The route matches `service` and `method`,
// which the codec reads from the multiplexed name `Echo:echo`.
import { buildThriftRequest, isReply, METHOD, minThriftFrame, readThriftHeader, SERVICE, thriftEchoReply, writeSeqid, type ThriftEncoding } from '../thrift/frames.ts';
import { LengthSplitter, type LengthFraming } from './length-splitter.ts';
import { idToSeq, Outcome, seqToId, type BenchProtocol, type ClientFramer, type EchoFramer, type ResponseHandler } from './protocol.ts';

const FRAMING: LengthFraming = {
  protocol: 'framed Thrift',
  headerSize: 4,
  frameLength: (buf, off) => 4 + buf.readUInt32BE(off),
};

export function thriftProtocol(encoding: ThriftEncoding): BenchProtocol {
  return {
    name: `thrift-${encoding}`,
    codecName: 'aeraki.meta_protocol.codec.thrift',
    codecPackage: undefined,
    codecConfig: { transport: 'framed', protocol: encoding },
    routeMatch: [
      { name: 'service', exact_match: SERVICE },
      { name: 'method', exact_match: METHOD },
    ],
    minFrameSize: minThriftFrame(encoding),
    createClient: (frameSize) => new ThriftClient(encoding, frameSize),
    createEcho: (): EchoFramer => {
      const splitter = new LengthSplitter(FRAMING);
      return {
        push(chunk, reply) {
          return splitter.push(chunk, (buf, off, length) => {
            const r = thriftEchoReply(buf, off, length);
            if (r !== null) reply(r);
          });
        },
      };
    },
  };
}

class ThriftClient implements ClientFramer {
  readonly #encoding: ThriftEncoding;
  readonly #frame: Buffer;
  readonly #seqidOffset: number;
  readonly #responseSize: number;
  readonly #splitter = new LengthSplitter(FRAMING);
  readonly requestSize: number;

  constructor(encoding: ThriftEncoding, frameSize: number) {
    const t = buildThriftRequest(encoding, frameSize);
    this.#encoding = encoding;
    this.#frame = t.frame;
    this.#seqidOffset = t.seqidOffset;
    this.#responseSize = t.responseSize;
    this.requestSize = frameSize;
  }

  writeRequest(buf: Buffer, off: number, seq: number): void {
    this.#frame.copy(buf, off);
    writeSeqid(this.#encoding, buf, off + this.#seqidOffset, seqToId(seq));
  }

  push(chunk: Buffer, onResponse: ResponseHandler): string | null {
    return this.#splitter.push(chunk, (buf, off, length) => {
      const h = readThriftHeader(buf, off, length);
      if (h === null) {
        onResponse(-1, Outcome.Status);
        return;
      }
      const outcome = !isReply(h) ? Outcome.Status : length !== this.#responseSize ? Outcome.Mismatch : Outcome.Ok;
      onResponse(idToSeq(h.seqid), outcome);
    });
  }
}
