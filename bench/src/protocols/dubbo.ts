// Dubbo2 / hessian2 for the bench: hand-built requests (see src/dubbo/), the 64-bit id's high
// half set to the connection number + 1 so a proxy must restore all 64 bits.
import { echoReply } from '../dubbo/echo-reply.ts';
import {
  buildRequestTemplate,
  ECHO_REQUEST,
  FLAG_EVENT,
  FLAG_REQUEST,
  HEADER_SIZE,
  MAGIC_HI,
  MAGIC_LO,
  minFrameSize,
  STATUS_OK,
  writeRequestId,
} from '../dubbo/frame.ts';
import { LengthSplitter, type LengthFraming } from './length-splitter.ts';
import { Outcome, type BenchProtocol, type ClientFramer, type EchoFramer, type ResponseHandler } from './protocol.ts';

const FRAMING: LengthFraming = {
  protocol: 'Dubbo',
  headerSize: HEADER_SIZE,
  frameLength: (buf, off) => (buf[off] === MAGIC_HI && buf[off + 1] === MAGIC_LO ? HEADER_SIZE + buf.readUInt32BE(off + 12) : -1),
};

export const dubboProtocol: BenchProtocol = {
  name: 'dubbo',
  codecName: 'aeraki.meta_protocol.codec.dubbo',
  codecPackage: undefined,
  codecConfig: undefined,
  routeMatch: [
    { name: 'interface', exact_match: ECHO_REQUEST.service },
    { name: 'method', exact_match: ECHO_REQUEST.method },
  ],
  minFrameSize: minFrameSize(ECHO_REQUEST),
  createClient: (frameSize, connection) => new DubboClient(frameSize, connection),
  createEcho: (): EchoFramer => {
    const splitter = new LengthSplitter(FRAMING);
    return {
      push(chunk, reply) {
        return splitter.push(chunk, (buf, off, length) => {
          const r = echoReply(buf, off, length);
          if (r !== null) reply(r);
        });
      },
    };
  },
};

class DubboClient implements ClientFramer {
  readonly #frame: Buffer;
  readonly #responseSize: number;
  readonly #idHi: number;
  readonly #splitter = new LengthSplitter(FRAMING);
  readonly requestSize: number;

  constructor(frameSize: number, connection: number) {
    const t = buildRequestTemplate(ECHO_REQUEST, frameSize);
    this.#frame = t.frame;
    this.#responseSize = t.responseSize;
    this.#idHi = connection + 1;
    this.requestSize = t.frame.length;
  }

  writeRequest(buf: Buffer, off: number, seq: number): void {
    this.#frame.copy(buf, off);
    writeRequestId(buf, off, this.#idHi, seq);
  }

  push(chunk: Buffer, onResponse: ResponseHandler): string | null {
    return this.#splitter.push(chunk, (buf, off, length) => {
      // Requests from the peer and heartbeat replies are not answers to our load.
      if ((buf[off + 2]! & (FLAG_REQUEST | FLAG_EVENT)) !== 0) return;
      const seq = buf.readUInt32BE(off + 4) === this.#idHi ? buf.readUInt32BE(off + 8) : -1;
      const outcome = buf[off + 3] !== STATUS_OK ? Outcome.Status : length !== this.#responseSize ? Outcome.Mismatch : Outcome.Ok;
      onResponse(seq, outcome);
    });
  }
}
