/**
 * A tiny multiplexing relay built only on a codec: every downstream connection shares ONE
 * upstream connection; request ids are rewritten to relay-assigned ids and restored on the
 * replies (through the downstream connection's own codec, as the proxy is expected to).
 * Stream frames go through a dedicated upstream connection per downstream connection, with
 * ids untouched. It lets the codec tests run the real peers through the same id rewriting
 * the proxy does, before the proxy exists.
 */
import net from 'node:net';
import { CodecError, FrameReader, MessageType } from '../../codecs/api/index.js';
import type { CodecFactory, Message, RequestId, ServerCodec } from '../../codecs/api/index.js';
import { encoded, testContext } from './codec-harness.js';

/** A running relay. */
export interface MuxRelay {
  port: number;
  /** Codec errors seen (should stay empty). */
  errors: string[];
  close(): Promise<void>;
}

const STREAM_TYPES = new Set([MessageType.StreamInit, MessageType.StreamData, MessageType.StreamCloseOneWay, MessageType.StreamCloseTwoWay]);

function pump(socket: net.Socket, decode: (r: FrameReader) => Message | undefined | CodecError, onMessage: (m: Message) => void, onError: (e: CodecError) => void): void {
  const reader = new FrameReader();
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (;;) {
      const r = decode(reader);
      if (r === undefined) return;
      if (r instanceof CodecError) {
        onError(r);
        socket.destroy();
        return;
      }
      onMessage(r);
    }
  });
}

/**
 * Starts a relay to 127.0.0.1:`upstreamPort` with `factory`'s codecs. `nextId` yields the
 * upstream ids (e.g. huge 64-bit ones to force varint growth).
 */
export async function startMuxRelay(factory: CodecFactory, upstreamPort: number, nextId: () => RequestId, options: Record<string, unknown> = {}): Promise<MuxRelay> {
  const errors: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): net.Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  };
  const upstream = track(net.connect(upstreamPort, '127.0.0.1'));
  await new Promise<void>((resolve) => upstream.once('connect', resolve));
  const upstreamCodec = factory.createClientCodec(testContext(options));
  const pending = new Map<RequestId, { down: net.Socket; codec: ServerCodec; clientId: RequestId }>();
  pump(
    upstream,
    (r) => upstreamCodec.decode(r),
    (rsp) => {
      const entry = pending.get(rsp.requestId);
      if (entry === undefined) {
        errors.push(`reply with unknown id ${rsp.requestId}`);
        return;
      }
      pending.delete(rsp.requestId);
      entry.codec.setRequestId(rsp, entry.clientId);
      entry.down.write(encoded(entry.codec.encode(rsp, null)));
    },
    (e) => errors.push(e.message),
  );

  const server = net.createServer((down) => {
    track(down);
    const codec = factory.createServerCodec(testContext(options));
    let streamUpstream: net.Socket | undefined;
    const streamSocket = (): net.Socket => {
      if (streamUpstream !== undefined) return streamUpstream;
      const s = track(net.connect(upstreamPort, '127.0.0.1'));
      const c = factory.createClientCodec(testContext(options));
      pump(s, (r) => c.decode(r), (m) => down.write(encoded(c.encode(m, null))), (e) => errors.push(e.message));
      streamUpstream = s;
      return s;
    };
    pump(
      down,
      (r) => codec.decode(r),
      (req) => {
        if (STREAM_TYPES.has(req.type)) {
          streamSocket().write(encoded(codec.encode(req, null)));
          return;
        }
        const clientId = req.requestId;
        const id = nextId();
        codec.setRequestId(req, id);
        if (req.type !== MessageType.Oneway) pending.set(req.requestId, { down, codec, clientId });
        upstream.write(encoded(codec.encode(req, new Map([['x-relayed', 'yes']]))));
      },
      (e) => errors.push(e.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
