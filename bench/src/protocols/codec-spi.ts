// Any codec that follows Meltemi's codec SPI (codecs/api/codec.ts) as a bench protocol: the
// codec itself finds frames, reads and rewrites request ids, so a custom codec package gets
// load generation and an echo server without protocol code in the bench. All the package
// supplies beyond its CodecFactory is one request and one response frame (a CodecBenchAdapter).
// The SPI types are restated structurally here so the bench compiles without the proxy built.
import { idToSeq, Outcome, seqToId, type BenchProtocol, type ClientFramer, type EchoFramer, type ResponseHandler, type RouteMatch } from './protocol.ts';

/** The part of the SPI's Message the bench reads (codecs/api/message.ts). */
export interface SpiMessage {
  type: number;
  requestId: number | bigint;
  frame: Buffer;
  status: number;
}

/** The part of the SPI's FrameReader the bench calls; codecs call the rest. */
export interface SpiFrameReader {
  push(chunk: Buffer): void;
}

/** CodecBase of the SPI, as far as the bench uses it. */
export interface SpiCodec {
  decode(reader: never): SpiMessage | undefined | Error;
  setRequestId(message: SpiMessage, id: number): void;
}

export interface SpiCodecFactory {
  readonly name: string;
  readonly protocol: string;
  readonly apiVersion: number;
  createServerCodec(ctx: SpiCodecContext): SpiCodec;
  createClientCodec(ctx: SpiCodecContext): SpiCodec;
}

export interface SpiCodecContext {
  maxFrameSize: number;
  options: Readonly<Record<string, unknown>>;
  wantedKeys: ReadonlySet<string>;
}

/**
 * What a custom codec package exports for the bench (`--codec-module <file>`, as the default
 * export or as `benchAdapter`). The bench never builds frames itself for such a codec: it
 * decodes the two sample frames with the codec and rewrites their ids with `setRequestId`.
 */
export interface CodecBenchAdapter {
  /** Bench protocol name shown in reports. */
  readonly name: string;
  readonly factory: SpiCodecFactory;
  /**
   * The codec package for Meltemi to load (`meltemi --codec <factory.name>=<this>`): a path,
   * relative to the adapter module, or a package name. Leave it out for codecs built into Meltemi.
   */
  readonly codecPackage?: string;
  /** `codec.config` for both the bench's codec instances and the generated Meltemi bootstrap. */
  readonly codecConfig?: Readonly<Record<string, unknown>>;
  /** The two metadata keys the generated route matches (values as `requestFrame` carries them). */
  readonly routeMatch: readonly RouteMatch[];
  readonly minFrameSize: number;
  /** A complete two-way request of exactly `frameSize` bytes; any id. */
  requestFrame(frameSize: number): Buffer;
  /**
   * The complete OK response the echo server sends to `request` (a request as the echo server
   * received it: a proxy may have re-encoded its header); any id, the bench sets it. It should
   * carry the request's payload back, so its size does not depend on how the header was encoded.
   */
  responseFrame(request: Buffer): Buffer;
}

/** The FrameReader class codecs decode from: the proxy's own (meltemi/codec). */
export type FrameReaderClass = new () => SpiFrameReader;

const MESSAGE_TYPE_REQUEST = 0;
const MESSAGE_TYPE_RESPONSE = 1;
const RESPONSE_STATUS_OK = 0;
const MAX_FRAME = 16 * 1024 * 1024;

/** Wraps a codec package's adapter as a bench protocol. */
export function codecProtocol(adapter: CodecBenchAdapter, FrameReader: FrameReaderClass, codecPackage?: string): BenchProtocol {
  const ctx = (): SpiCodecContext => ({
    maxFrameSize: MAX_FRAME,
    options: adapter.codecConfig ?? {},
    // The bench only needs ids: let codecs skip their deep parse.
    wantedKeys: new Set<string>(),
  });
  const decodeOne = (codec: SpiCodec, frame: Buffer, what: string): SpiMessage => {
    const reader = new FrameReader();
    reader.push(Buffer.from(frame));
    const m = codec.decode(reader as never);
    if (m === undefined || m instanceof Error) {
      throw new Error(`${adapter.name}: the codec does not decode the adapter's ${what} frame: ${m === undefined ? 'incomplete' : m.message}`);
    }
    return m;
  };
  return {
    name: adapter.name,
    codecName: adapter.factory.name,
    codecPackage,
    codecConfig: adapter.codecConfig,
    routeMatch: adapter.routeMatch,
    minFrameSize: adapter.minFrameSize,
    createClient(frameSize): ClientFramer {
      const server = adapter.factory.createServerCodec(ctx());
      const client = adapter.factory.createClientCodec(ctx());
      const requestFrame = adapter.requestFrame(frameSize);
      const request = decodeOne(server, requestFrame, 'request');
      const responseSize = adapter.responseFrame(requestFrame).length;
      const reader = new FrameReader();
      return {
        requestSize: request.frame.length,
        writeRequest(buf, off, seq) {
          server.setRequestId(request, seqToId(seq));
          if (request.frame.length !== this.requestSize) throw new Error(`${adapter.name}: setRequestId changed the frame size`);
          request.frame.copy(buf, off);
        },
        push(chunk, onResponse: ResponseHandler) {
          reader.push(chunk);
          for (;;) {
            const m = client.decode(reader as never);
            if (m === undefined) return null;
            if (m instanceof Error) return `${adapter.name}: ${m.message}`;
            if (m.type !== MESSAGE_TYPE_RESPONSE) continue;
            const outcome = m.status !== RESPONSE_STATUS_OK ? Outcome.Status : m.frame.length !== responseSize ? Outcome.Mismatch : Outcome.Ok;
            onResponse(typeof m.requestId === 'number' ? idToSeq(m.requestId) : -1, outcome);
          }
        },
      };
    },
    createEcho(): EchoFramer {
      const server = adapter.factory.createServerCodec(ctx());
      const client = adapter.factory.createClientCodec(ctx());
      const reader = new FrameReader();
      /**
       * Response templates by request frame size, each decoded once: within a run every request
       * carries the same payload, so requests of one size differ only in their ids.
       */
      const templates = new Map<number, SpiMessage>();
      return {
        push(chunk, reply) {
          reader.push(chunk);
          for (;;) {
            const m = server.decode(reader as never);
            if (m === undefined) return null;
            if (m instanceof Error) return `${adapter.name}: ${m.message}`;
            if (m.type !== MESSAGE_TYPE_REQUEST) continue;
            let t = templates.get(m.frame.length);
            if (t === undefined) {
              t = decodeOne(client, adapter.responseFrame(m.frame), 'response');
              templates.set(m.frame.length, t);
            }
            client.setRequestId(t, Number(m.requestId));
            reply(Buffer.from(t.frame));
          }
        },
      };
    },
  };
}
