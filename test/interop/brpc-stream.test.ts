/**
 * bRPC streaming (STRM frames) through Meltemi. With codec option pinStreams a client
 * connection gets its own upstream connection: the RPC that opens a stream (stream_settings)
 * and every STRM frame, both ways, pass through it, frames untouched. Without it the
 * connection is refused cleanly: closed, with a log line and request_decoding_error.
 * The server below plays brpc's part on the protobufjs peer helpers (test/peers/brpc-peer.ts).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { registerCodec } from '../../proxy/codec-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { BrpcFramer, BrpcTypes, encodeBrpcFrame } from '../peers/brpc-peer.js';
import type { BrpcFrame } from '../peers/brpc-peer.js';

const FRAME_CLOSE = 2;
const FRAME_DATA = 3;

/** A `STRM` frame: StreamFrameMeta + data. */
function strmFrame(meta: Record<string, unknown>, data: Buffer = Buffer.alloc(0)): Buffer {
  const metaBytes = BrpcTypes.StreamFrameMeta.encode(BrpcTypes.StreamFrameMeta.fromObject(meta)).finish();
  const head = Buffer.alloc(12);
  head.write('STRM', 0, 'latin1');
  head.writeUInt32BE(metaBytes.length + data.length, 4);
  head.writeUInt32BE(metaBytes.length, 8);
  return Buffer.concat([head, metaBytes, data]);
}

function echoPayload(message: string): Uint8Array {
  return BrpcTypes.EchoRequest.encode({ message }).finish();
}

function echoMessage(f: BrpcFrame): string {
  return (BrpcTypes.EchoResponse.toObject(BrpcTypes.EchoResponse.decode(f.payload)) as { message: string }).message;
}

type StrmMeta = { stream_id?: string; source_stream_id?: string; frame_type?: number };

/**
 * A streaming echo server in brpc's manner: an RPC with stream_settings{stream_id: C} is
 * accepted with the server's own stream id S in the response's stream_settings; STRM DATA
 * addressed to S is echoed as STRM DATA addressed to C; CLOSE is answered with CLOSE.
 */
async function startStreamServer(): Promise<{ port: number; received: Buffer[]; connections: () => number; open: () => number; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let nextServerStream = 9000;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new BrpcFramer();
    const clientOf = new Map<string, string>();
    socket.on('data', (chunk: Buffer) => {
      const out: Buffer[] = [];
      for (const f of framer.push(chunk)) {
        received.push(Buffer.from(f.raw));
        if (f.magic === 'STRM') {
          const m = f.meta as StrmMeta;
          const client = clientOf.get(m.stream_id ?? '') ?? '0';
          if (m.frame_type === FRAME_DATA) {
            out.push(strmFrame({ stream_id: client, source_stream_id: m.stream_id, frame_type: FRAME_DATA }, Buffer.from(`srv:${f.payload.toString()}`)));
          } else if (m.frame_type === FRAME_CLOSE) {
            out.push(strmFrame({ stream_id: client, source_stream_id: m.stream_id, frame_type: FRAME_CLOSE }));
          }
          continue;
        }
        const meta: Record<string, unknown> = { response: { error_code: 0 }, correlation_id: f.meta.correlation_id };
        const settings = f.meta['stream_settings'] as { stream_id?: string } | undefined;
        if (settings !== undefined) {
          const serverStream = String(nextServerStream++);
          clientOf.set(serverStream, settings.stream_id ?? '0');
          meta['stream_settings'] = { stream_id: serverStream, writable: true };
        }
        const req = BrpcTypes.EchoRequest.toObject(BrpcTypes.EchoRequest.decode(f.payload)) as { message: string };
        out.push(encodeBrpcFrame(meta, BrpcTypes.EchoResponse.encode({ message: `srv:${req.message}` }).finish()));
      }
      if (out.length > 0) socket.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    connections: () => accepted,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A raw bRPC client that keeps every frame and can wait for one. */
class RawBrpcClient {
  readonly frames: BrpcFrame[] = [];
  readonly closed: Promise<void>;
  readonly socket: net.Socket;
  readonly #framer = new BrpcFramer();
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.#framer.push(chunk));
      this.#wake?.();
    });
  }

  static async connect(port: number): Promise<RawBrpcClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawBrpcClient(socket);
  }

  /** Waits until `n` frames arrived in total. */
  async frameCount(n: number, timeoutMs = 3000): Promise<BrpcFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} frames, got ${this.frames.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.frames;
  }
}

describe('bRPC STRM through the proxy', () => {
  let server: Awaited<ReturnType<typeof startStreamServer>>;
  let proxy: RunningMeltemi;

  before(async () => {
    registerCodec(brpcCodecFactory);
    server = await startStreamServer();
    const routes = [{ name: 'echo', match: { service: 'example.EchoService' }, cluster: 'echo' }];
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            name: 'pinned',
            codec: brpcCodecFactory.name,
            protocol: 'brpc',
            routes,
            extra: { codec: { name: brpcCodecFactory.name, config: { pinStreams: true } } },
          }),
          metaProtocolListener({ name: 'shared', codec: brpcCodecFactory.name, protocol: 'brpc', routes }),
        ],
        [staticCluster('echo', [server.port])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await server.close();
  });

  test('a pinned connection carries a stream to the server and back, frames untouched and in order', async () => {
    const c = await RawBrpcClient.connect(proxy.listenerPort('pinned'));
    const connectionsBefore = server.connections();
    const receivedBefore = server.received.length;
    try {
      const correlation = ((1n << 32n) + 2n).toString();
      c.socket.write(
        encodeBrpcFrame(
          { request: { service_name: 'example.EchoService', method_name: 'Echo' }, correlation_id: correlation, stream_settings: { stream_id: '7', writable: true } },
          echoPayload('open'),
        ),
      );
      const [opened] = await c.frameCount(1);
      assert.equal(opened!.magic, 'PRPC');
      assert.equal(opened!.meta.correlation_id, correlation, 'the client correlation id restored');
      assert.equal(echoMessage(opened!), 'srv:open');
      const serverStream = (opened!.meta['stream_settings'] as { stream_id: string }).stream_id;

      const sent = ['a', 'b', 'c', 'd'].map((d) => strmFrame({ stream_id: serverStream, source_stream_id: '7', frame_type: FRAME_DATA }, Buffer.from(d)));
      c.socket.write(Buffer.concat(sent));
      // A unary call on the same connection while the stream is open.
      c.socket.write(encodeBrpcFrame({ request: { service_name: 'example.EchoService', method_name: 'Echo' }, correlation_id: '5' }, echoPayload('unary')));
      c.socket.write(strmFrame({ stream_id: serverStream, source_stream_id: '7', frame_type: FRAME_CLOSE }));
      const frames = await c.frameCount(7);

      const strm = frames.filter((f) => f.magic === 'STRM');
      assert.deepEqual(
        strm.map((f) => [(f.meta as StrmMeta).stream_id, (f.meta as StrmMeta).frame_type, f.payload.toString()]),
        [['7', FRAME_DATA, 'srv:a'], ['7', FRAME_DATA, 'srv:b'], ['7', FRAME_DATA, 'srv:c'], ['7', FRAME_DATA, 'srv:d'], ['7', FRAME_CLOSE, '']],
      );
      const unary = frames.filter((f) => f.magic === 'PRPC' && f.meta.correlation_id === '5');
      assert.equal(unary.length, 1);
      assert.equal(echoMessage(unary[0]!), 'srv:unary');
      // The server got the STRM frames byte for byte, on the one connection the proxy opened for this client.
      const strmAtServer = server.received.slice(receivedBefore).filter((b) => b.toString('latin1', 0, 4) === 'STRM');
      assert.deepEqual(strmAtServer.slice(0, 4), sent);
      assert.equal(server.connections() - connectionsBefore, 1);
    } finally {
      c.socket.destroy();
    }
  });

  test('two pinned clients get one upstream connection each', async () => {
    const before = server.connections();
    const clients = await Promise.all([RawBrpcClient.connect(proxy.listenerPort('pinned')), RawBrpcClient.connect(proxy.listenerPort('pinned'))]);
    try {
      for (const c of clients) c.socket.write(encodeBrpcFrame({ request: { service_name: 'example.EchoService', method_name: 'Echo' }, correlation_id: '1' }, echoPayload('x')));
      await Promise.all(clients.map((c) => c.frameCount(1)));
      assert.equal(server.connections() - before, 2);
    } finally {
      for (const c of clients) c.socket.destroy();
    }
  });

  test('the pinned upstream connection closes when its client leaves', async () => {
    const c = await RawBrpcClient.connect(proxy.listenerPort('pinned'));
    c.socket.write(encodeBrpcFrame({ request: { service_name: 'example.EchoService', method_name: 'Echo' }, correlation_id: '1' }, echoPayload('x')));
    await c.frameCount(1);
    const open = server.open();
    assert.ok(open >= 1);
    c.socket.destroy();
    const deadline = Date.now() + 3000;
    while (server.open() >= open && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.open(), open - 1);
  });

  test('a STRM frame before any request pinned an upstream closes the connection', async () => {
    const stats = proxy.server.listenerStats('pinned');
    const errors = stats.request_decoding_error;
    const c = await RawBrpcClient.connect(proxy.listenerPort('pinned'));
    c.socket.write(strmFrame({ stream_id: '1', frame_type: FRAME_DATA }, Buffer.from('x')));
    await c.closed;
    assert.equal(stats.request_decoding_error - errors, 1);
  });

  test('without pinStreams, a request opening a stream is refused: connection closed and counted', async () => {
    const stats = proxy.server.listenerStats('shared');
    const errors = stats.request_decoding_error;
    const c = await RawBrpcClient.connect(proxy.listenerPort('shared'));
    const t0 = Date.now();
    c.socket.write(
      encodeBrpcFrame({ request: { service_name: 'example.EchoService', method_name: 'Echo' }, correlation_id: '3', stream_settings: { stream_id: '7' } }, echoPayload('open')),
    );
    await c.closed;
    assert.ok(Date.now() - t0 < 1000, 'closed at once');
    assert.deepEqual(c.frames, [], 'nothing was answered or forwarded');
    assert.equal(stats.request_decoding_error - errors, 1);
  });

  test('without pinStreams, a STRM frame is refused the same way', async () => {
    const stats = proxy.server.listenerStats('shared');
    const errors = stats.request_decoding_error;
    const c = await RawBrpcClient.connect(proxy.listenerPort('shared'));
    c.socket.write(strmFrame({ stream_id: '1', frame_type: FRAME_DATA }, Buffer.from('x')));
    await c.closed;
    assert.equal(stats.request_decoding_error - errors, 1);
  });
});
