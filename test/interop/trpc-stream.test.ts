/**
 * tRPC streaming through Meltemi, with the protobufjs peers (test/peers/trpc-peer.ts): many
 * streams on one client connection over shared upstream connections (stream ids rewritten
 * and restored), frames in order both ways, unary calls beside streams, close and reset
 * from either side, the idle-stream timeout, an unroutable INIT, and either connection
 * going away. A scripted server (below, on the same peer helpers) plays the server's part
 * of the close, reset and silence cases; its behaviour is chosen by the stream's func.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { registerCodec } from '../../proxy/codec-registry.js';
import type { ListenerStats } from '../../proxy/stats.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { TrpcClient, TrpcFramer, TrpcTypes, b64, encodeTrpcFrame, pb, startTrpcServer, unpb } from '../peers/trpc-peer.js';
import type { TrpcFrame, TrpcServer } from '../peers/trpc-peer.js';

const INIT = 1;
const DATA = 2;
const FEEDBACK = 3;
const CLOSE = 4;
const RESET = 1;
const SCRIPTED = 'trpc.test.scripted.Svc';
const IDLE_MS = 400;

interface Received {
  type: number;
  streamId: number;
  closeType: number;
  func: string;
}

/** A stream server whose reply to each INIT depends on the func's method name. */
async function startScriptedServer(): Promise<{ port: number; received: Received[]; dropConnections(): void; close(): Promise<void> }> {
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new TrpcFramer();
    const methodOf = new Map<number, string>();
    socket.on('data', (chunk: Buffer) => {
      for (const f of framer.push(chunk)) {
        const head = { dataFrameType: 1, streamId: f.streamId, version: f.version };
        const meta = f.streamFrameType === INIT ? (unpb(TrpcTypes.InitMeta, f.header) as { request_meta?: { func?: string } }) : {};
        const close = f.streamFrameType === CLOSE ? (unpb(TrpcTypes.CloseMeta, f.header) as { close_type?: number }) : {};
        const func = b64(meta.request_meta?.func);
        if (f.streamFrameType === INIT) methodOf.set(f.streamId, func.slice(func.lastIndexOf('/') + 1));
        received.push({ type: f.streamFrameType, streamId: f.streamId, closeType: close.close_type ?? 0, func });
        const method = methodOf.get(f.streamId) ?? '';
        const out: Buffer[] = [];
        if (f.streamFrameType === INIT) {
          const ret = method === 'Refuse' ? 12 : 0;
          out.push(encodeTrpcFrame({ ...head, streamFrameType: INIT }, Buffer.alloc(0), pb(TrpcTypes.InitMeta, { response_meta: { ret } })));
          if (method === 'ServerClose') {
            out.push(encodeTrpcFrame({ ...head, streamFrameType: DATA }, Buffer.alloc(0), pb(TrpcTypes.HelloReply, { msg: 'bye' })));
            out.push(encodeTrpcFrame({ ...head, streamFrameType: CLOSE }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: 0 })));
          }
        } else if (f.streamFrameType === FEEDBACK && method === 'Feedback') {
          // Answer a window update with one, and echo the increment as DATA.
          const inc = (unpb(TrpcTypes.FeedbackMeta, f.header) as { window_size_increment?: number }).window_size_increment ?? 0;
          out.push(encodeTrpcFrame({ ...head, streamFrameType: FEEDBACK }, Buffer.alloc(0), pb(TrpcTypes.FeedbackMeta, { window_size_increment: inc * 2 })));
          out.push(encodeTrpcFrame({ ...head, streamFrameType: DATA }, Buffer.alloc(0), pb(TrpcTypes.HelloReply, { msg: `window+${inc}` })));
        } else if (f.streamFrameType === DATA && method === 'ServerReset') {
          out.push(encodeTrpcFrame({ ...head, streamFrameType: CLOSE }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: RESET, ret: 31, msg: Buffer.from('handler failed') })));
        } else if (f.streamFrameType === CLOSE && close.close_type !== RESET && method !== 'Silent') {
          out.push(encodeTrpcFrame({ ...head, streamFrameType: CLOSE }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: 0 })));
        }
        if (out.length > 0) socket.write(Buffer.concat(out));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A client speaking raw stream frames, keeping every frame it gets. */
class RawStreamClient {
  readonly frames: TrpcFrame[] = [];
  readonly closed: Promise<void>;
  readonly #socket: net.Socket;
  readonly #framer = new TrpcFramer();
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.#framer.push(chunk));
      const w = this.#waiters;
      this.#waiters = [];
      for (const f of w) f();
    });
  }

  static async connect(port: number): Promise<RawStreamClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawStreamClient(socket);
  }

  init(streamId: number, method: string, service = SCRIPTED): void {
    const requestMeta = { caller: Buffer.from('trpc.app.client.service'), callee: Buffer.from(service), func: Buffer.from(`/${service}/${method}`) };
    this.#socket.write(encodeTrpcFrame({ dataFrameType: 1, streamFrameType: INIT, streamId }, Buffer.alloc(0), pb(TrpcTypes.InitMeta, { request_meta: requestMeta })));
  }

  data(streamId: number, msg: string): void {
    this.#socket.write(encodeTrpcFrame({ dataFrameType: 1, streamFrameType: DATA, streamId }, Buffer.alloc(0), pb(TrpcTypes.HelloRequest, { msg })));
  }

  feedback(streamId: number, increment: number): void {
    this.#socket.write(encodeTrpcFrame({ dataFrameType: 1, streamFrameType: FEEDBACK, streamId }, Buffer.alloc(0), pb(TrpcTypes.FeedbackMeta, { window_size_increment: increment })));
  }

  close(streamId: number, closeType = 0): void {
    this.#socket.write(encodeTrpcFrame({ dataFrameType: 1, streamFrameType: CLOSE, streamId }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: closeType })));
  }

  /** Resolves with the first frame (of those received so far or later) that `pred` accepts. */
  async waitFor(pred: (f: TrpcFrame) => boolean, what: string, timeoutMs = 3000): Promise<TrpcFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => [f.streamFrameType, f.streamId]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

function closeMeta(f: TrpcFrame): { close_type?: number; ret?: number; msg?: string } {
  return unpb(TrpcTypes.CloseMeta, f.header) as { close_type?: number; ret?: number; msg?: string };
}

function initRet(f: TrpcFrame): number {
  return (unpb(TrpcTypes.InitMeta, f.header) as { response_meta?: { ret?: number } }).response_meta?.ret ?? 0;
}

/** Polls until `cond` holds (state the proxy reaches a moment after the frames go by). */
async function eventually(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('tRPC streaming through the proxy', () => {
  let echo: TrpcServer;
  let scripted: Awaited<ReturnType<typeof startScriptedServer>>;
  let proxy: RunningMeltemi;
  let port: number;
  let stats: ListenerStats;

  before(async () => {
    registerCodec(trpcCodecFactory);
    echo = await startTrpcServer({ name: 'echo' });
    scripted = await startScriptedServer();
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            codec: trpcCodecFactory.name,
            protocol: 'trpc',
            routes: [
              { name: 'scripted', match: { callee: SCRIPTED }, cluster: 'scripted' },
              { name: 'lane', match: { 'x-lane': 'scripted' }, cluster: 'scripted' },
              { name: 'greeter', match: { func: '/trpc.test.helloworld.Greeter/SayHello' }, cluster: 'echo' },
            ],
            extra: { stream_idle_timeout: `${IDLE_MS / 1000}s` },
          }),
        ],
        [staticCluster('echo', [echo.port]), staticCluster('scripted', [scripted.port])],
        // One shared upstream connection per host: every stream below shares it.
        { upstream_connections_per_host: 1 },
      ),
    );
    port = proxy.listenerPort('main');
    stats = proxy.server.listenerStats('main');
  });
  after(async () => {
    await proxy.close();
    await Promise.all([echo.close(), scripted.close()]);
  });

  test('many concurrent streams on one connection, interleaved, in order both ways, with unary calls beside them', async () => {
    const c = await TrpcClient.connect(port);
    const total = stats.stream_total;
    try {
      const [streams, unary] = await Promise.all([c.runStreams(40, 25), c.pipeline(10)]);
      assert.equal(streams.length, 40);
      streams.forEach((msgs, i) => {
        const id = 100 + i;
        assert.deepEqual(msgs, Array.from({ length: 25 }, (_, m) => `echo:s${id}-m${m}`), `stream ${id} in order`);
      });
      assert.deepEqual(unary.map((r) => r.msg), Array.from({ length: 10 }, (_, i) => `echo:m${i}`));
      assert.deepEqual(c.unexpected, []);
      // Both sides closed every stream: the server saw each CLOSE, and the proxy forgot them.
      assert.equal(echo.closedStreams.length, 40);
      await eventually(() => stats.stream_active === 0, 'every stream ended');
      assert.equal(stats.stream_total - total, 40);
    } finally {
      c.close();
    }
  });

  test('two clients with the same stream ids share one upstream connection under distinct ids', async () => {
    const a = await TrpcClient.connect(port);
    const b = await TrpcClient.connect(port);
    const before = echo.closedStreams.length;
    try {
      const [ra, rb] = await Promise.all([a.runStreams(5, 3), b.runStreams(5, 3)]);
      assert.deepEqual(ra, rb, 'both clients use stream ids 100..104 and get their own echoes');
      assert.equal(ra[0]![2], 'echo:s100-m2');
      const upstreamIds = echo.closedStreams.slice(before);
      assert.equal(new Set(upstreamIds).size, 10, 'ten distinct stream ids upstream');
    } finally {
      a.close();
      b.close();
    }
  });

  test('an INIT that matches no route gets an INIT answer with ret 11 on its own stream id', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(7, 'Nope', 'trpc.test.nowhere.Svc');
      const f = await c.waitFor((x) => x.streamId === 7, 'the INIT refusal');
      assert.equal(f.streamFrameType, INIT);
      assert.equal(initRet(f), 11);
      // The connection stays usable for the next stream.
      c.init(8, 'Echo', SCRIPTED);
      assert.equal(initRet(await c.waitFor((x) => x.streamId === 8, 'INIT answer')), 0);
    } finally {
      c.destroy();
    }
  });

  test('a refused INIT from the server reaches the client and ends the stream', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(3, 'Refuse');
      assert.equal(initRet(await c.waitFor((x) => x.streamId === 3, 'INIT answer')), 12);
      await eventually(() => stats.stream_active === 0, 'the refused stream ended');
    } finally {
      c.destroy();
    }
  });

  test('client CLOSE then server CLOSE ends the stream; a server CLOSE first waits for the client', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(1, 'ServerClose');
      const close = await c.waitFor((x) => x.streamId === 1 && x.streamFrameType === CLOSE, 'server CLOSE');
      assert.equal(closeMeta(close).close_type ?? 0, 0);
      assert.equal(stats.stream_active, 1, 'half-closed: the client may still send');
      c.data(1, 'late but legal');
      c.close(1);
      await eventually(() => stats.stream_active === 0, 'stream ended after both CLOSEs');
      const seen = scripted.received.filter((r) => r.func === '' || r.func.endsWith('/ServerClose'));
      assert.ok(seen.some((r) => r.type === DATA));
    } finally {
      c.destroy();
    }
  });

  test('FEEDBACK frames flow both ways, in order with DATA', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(71, 'Feedback');
      await c.waitFor((x) => x.streamId === 71 && x.streamFrameType === INIT, 'INIT answer');
      c.feedback(71, 1000);
      const data = await c.waitFor((x) => x.streamId === 71 && x.streamFrameType === DATA, 'DATA after FEEDBACK');
      const fb = c.frames.filter((x) => x.streamId === 71 && x.streamFrameType === FEEDBACK);
      assert.equal(fb.length, 1);
      assert.ok(c.frames.indexOf(fb[0]!) < c.frames.indexOf(data), 'FEEDBACK before the DATA sent after it');
      assert.equal((unpb(TrpcTypes.FeedbackMeta, fb[0]!.header) as { window_size_increment?: number }).window_size_increment, 2000);
      assert.equal((unpb(TrpcTypes.HelloReply, data.body) as { msg?: string }).msg, 'window+1000');
      c.close(71);
      await c.waitFor((x) => x.streamId === 71 && x.streamFrameType === CLOSE, 'server CLOSE');
      await eventually(() => stats.stream_active === 0, 'stream ended');
    } finally {
      c.destroy();
    }
  });

  test('a RESET from the client reaches the server and ends the stream', async () => {
    const c = await RawStreamClient.connect(port);
    const resets = stats.stream_reset;
    const from = scripted.received.length;
    try {
      c.init(11, 'Echo');
      await c.waitFor((x) => x.streamId === 11 && x.streamFrameType === INIT, 'INIT answer');
      c.close(11, RESET);
      await eventually(() => scripted.received.slice(from).some((r) => r.type === CLOSE && r.closeType === RESET), 'the server got the RESET');
      await eventually(() => stats.stream_active === 0, 'stream ended');
      assert.equal(stats.stream_reset - resets, 1);
      // Its id is free again: a late DATA is answered with a RESET, not forwarded.
      c.data(11, 'after reset');
      const reset = await c.waitFor((x) => x.streamId === 11 && x.streamFrameType === CLOSE, 'RESET for a dead stream');
      assert.equal(closeMeta(reset).close_type, RESET);
    } finally {
      c.destroy();
    }
  });

  test('a RESET from the server reaches the client with its own stream id', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(21, 'ServerReset');
      await c.waitFor((x) => x.streamId === 21 && x.streamFrameType === INIT, 'INIT answer');
      c.data(21, 'boom');
      const reset = await c.waitFor((x) => x.streamId === 21 && x.streamFrameType === CLOSE, 'server RESET');
      assert.deepEqual([closeMeta(reset).close_type, closeMeta(reset).ret, b64(closeMeta(reset).msg)], [RESET, 31, 'handler failed']);
      await eventually(() => stats.stream_active === 0, 'stream ended');
    } finally {
      c.destroy();
    }
  });

  test('an idle stream is reset both ways after stream_idle_timeout', async () => {
    const c = await RawStreamClient.connect(port);
    const idle = stats.stream_idle_timeout;
    const from = scripted.received.length;
    try {
      const t0 = Date.now();
      c.init(31, 'Silent');
      await c.waitFor((x) => x.streamId === 31 && x.streamFrameType === INIT, 'INIT answer');
      const reset = await c.waitFor((x) => x.streamId === 31 && x.streamFrameType === CLOSE, 'idle RESET', 5000);
      const waited = Date.now() - t0;
      assert.ok(waited >= IDLE_MS - 50, `reset after ${waited} ms, not before the timeout`);
      assert.deepEqual([closeMeta(reset).close_type, closeMeta(reset).ret], [RESET, 21]);
      await eventually(() => scripted.received.slice(from).some((r) => r.type === CLOSE && r.closeType === RESET), 'the server got a RESET');
      assert.equal(stats.stream_idle_timeout - idle, 1);
      assert.equal(stats.stream_active, 0);
    } finally {
      c.destroy();
    }
  });

  test('a client that goes away resets its streams upstream', async () => {
    const c = await RawStreamClient.connect(port);
    const from = scripted.received.length;
    c.init(41, 'Silent');
    c.init(42, 'Silent');
    await c.waitFor((x) => x.streamId === 42 && x.streamFrameType === INIT, 'INIT answer');
    await c.waitFor((x) => x.streamId === 41 && x.streamFrameType === INIT, 'INIT answer');
    c.destroy();
    await eventually(() => scripted.received.slice(from).filter((r) => r.type === CLOSE && r.closeType === RESET).length === 2, 'two RESETs upstream');
    await eventually(() => stats.stream_active === 0, 'streams forgotten');
  });

  test('an upstream connection that goes away resets the streams it carried', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(51, 'Silent');
      await c.waitFor((x) => x.streamId === 51 && x.streamFrameType === INIT, 'INIT answer');
      scripted.dropConnections();
      const reset = await c.waitFor((x) => x.streamId === 51 && x.streamFrameType === CLOSE, 'RESET after upstream loss');
      assert.deepEqual([closeMeta(reset).close_type, closeMeta(reset).ret], [RESET, 31]);
      await eventually(() => stats.stream_active === 0, 'stream ended');
    } finally {
      c.destroy();
    }
  });

  test('INIT routes on trans_info too', async () => {
    const c = await TrpcClient.connect(port);
    try {
      const s = c.openStream({ func: '/trpc.test.helloworld.Greeter/SayHello', transInfo: { 'x-lane': 'scripted' } });
      assert.equal(await s.ready, 0);
      s.send('hi');
      await s.close();
      // The scripted server does not echo DATA: the stream went there, not to the echo server.
      assert.deepEqual(s.messages, []);
      assert.ok(scripted.received.some((r) => r.type === INIT && r.func === '/trpc.test.helloworld.Greeter/SayHello'));
    } finally {
      c.close();
    }
  });

  // Last: it drains the proxy.
  test('a drain lets open streams finish, then closes the connection', async () => {
    const c = await RawStreamClient.connect(port);
    c.init(61, 'Echo');
    await c.waitFor((x) => x.streamId === 61 && x.streamFrameType === INIT, 'INIT answer');
    const t0 = Date.now();
    const drained = proxy.server.drain(5000);
    await new Promise((r) => setTimeout(r, 100));
    c.close(61);
    await c.waitFor((x) => x.streamId === 61 && x.streamFrameType === CLOSE, 'server CLOSE while draining');
    await c.closed;
    await drained;
    assert.ok(Date.now() - t0 < 4000, 'the drain ended with the stream, not at its timeout');
  });
});

describe('tRPC streams take the forward path of requests', () => {
  let one: Awaited<ReturnType<typeof startScriptedServer>>;
  let two: Awaited<ReturnType<typeof startScriptedServer>>;
  let proxy: RunningMeltemi;
  let port: number;
  let stats: ListenerStats;
  const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };

  async function clusterStat(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${proxy.server.adminPort}/stats`)).text();
    const m = new RegExp(`^${name.replace(/[.|]/g, '\\$&')}: (\\d+)$`, 'm').exec(text);
    return Number(m?.[1] ?? NaN);
  }

  before(async () => {
    registerCodec(trpcCodecFactory);
    one = await startScriptedServer();
    two = await startScriptedServer();
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            codec: trpcCodecFactory.name,
            protocol: 'trpc',
            routes: [
              { name: 'lost', match: { callee: 'trpc.test.lost.Svc' }, cluster: 'missing' },
              { name: 'tight', match: { callee: 'trpc.test.tight.Svc' }, cluster: 'tight' },
              { name: 'hashed', match: { callee: SCRIPTED }, cluster: 'pair', hashPolicy: ['caller'] },
            ],
          }),
        ],
        [
          staticCluster('pair', [one.port, two.port], { lb_policy: 'RING_HASH' }),
          staticCluster('tight', [one.port], { circuit_breakers: { thresholds: [{ max_requests: 1 }] } }),
        ],
        undefined,
        ADMIN,
      ),
    );
    port = proxy.listenerPort('main');
    stats = proxy.server.listenerStats('main');
  });
  after(async () => {
    await proxy.close();
    await Promise.all([one.close(), two.close()]);
  });

  test('the route’s hash policy keeps streams with the same key on one host', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      for (let id = 1; id <= 8; id++) {
        c.init(id, 'Echo');
        assert.equal(initRet(await c.waitFor((x) => x.streamId === id, `INIT answer ${id}`)), 0);
      }
      const inits = (s: typeof one): number => s.received.filter((r) => r.type === INIT && r.func.startsWith(`/${SCRIPTED}/`)).length;
      assert.deepEqual([inits(one), inits(two)].sort(), [0, 8], 'one host got every stream of the caller');
    } finally {
      c.destroy();
    }
    await eventually(() => stats.stream_active === 0, 'streams ended');
  });

  test('an unknown cluster refuses the INIT and counts cluster_not_found', async () => {
    const c = await RawStreamClient.connect(port);
    const before = stats.cluster_not_found;
    try {
      c.init(5, 'Echo', 'trpc.test.lost.Svc');
      assert.equal(initRet(await c.waitFor((x) => x.streamId === 5, 'the INIT refusal')), 11);
      assert.equal(stats.cluster_not_found - before, 1);
    } finally {
      c.destroy();
    }
  });

  test('max_requests bounds open streams: the next INIT gets the overload refusal until one ends', async () => {
    const c = await RawStreamClient.connect(port);
    try {
      c.init(1, 'Echo', 'trpc.test.tight.Svc');
      assert.equal(initRet(await c.waitFor((x) => x.streamId === 1, 'first INIT answer')), 0);
      assert.equal(await clusterStat('cluster.tight.upstream_rq_active'), 1, 'an open stream is a request in flight');
      c.init(2, 'Echo', 'trpc.test.tight.Svc');
      assert.equal(initRet(await c.waitFor((x) => x.streamId === 2, 'second INIT answer')), 22);
      assert.equal(await clusterStat('cluster.tight.upstream_rq_pending_overflow'), 1);
      c.close(1, RESET);
      await eventually(() => stats.stream_active === 0, 'the first stream ended');
      assert.equal(await clusterStat('cluster.tight.upstream_rq_active'), 0);
      c.init(3, 'Echo', 'trpc.test.tight.Svc');
      assert.equal(initRet(await c.waitFor((x) => x.streamId === 3, 'third INIT answer')), 0);
    } finally {
      c.destroy();
    }
  });
});
