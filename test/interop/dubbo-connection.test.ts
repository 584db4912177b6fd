/**
 * Connection-level behaviour: heartbeats, one-way calls, malformed and oversized frames,
 * pipelining, and many clients multiplexed onto few upstream connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboHeader, dubboRequest, heartbeatRequest, hessianDecode } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

describe('connection behaviour', () => {
  let p1: Provider;
  let p2: Provider;
  let proxy: RunningMeltemi;
  let port: number;

  before(async () => {
    p1 = await startSofaProvider({ name: 'p1', delayMs: 5 });
    p2 = await startSofaProvider({ name: 'p2', delayMs: 5 });
    proxy = await startMeltemi(
      bootstrapOf(
        [metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }], extra: { max_frame_size: 65536 } })],
        [staticCluster('demo', [p1.port, p2.port])],
        { upstream_connections_per_host: 2 },
        { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      ),
    );
    port = proxy.listenerPort('main');
  });
  after(async () => {
    await proxy.close();
    await Promise.all([p1.close(), p2.close()]);
  });

  test('a heartbeat is answered by the proxy itself, byte for byte as a provider does', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      const before = p1.calls.length + p2.calls.length;
      c.write(heartbeatRequest(7));
      await c.until(() => c.raw.length > 0);
      assert.equal(Buffer.concat(c.raw).toString('hex'), 'dabb22140000000000000007000000014e');
      assert.equal(p1.calls.length + p2.calls.length, before);
      assert.ok(proxy.server.listenerStats('main').request_event >= 1);
    } finally {
      c.close();
    }
  });

  test('a one-way call reaches the provider and nothing comes back', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      const seen = (): number => [...p1.calls, ...p2.calls].filter((x) => x.method === 'sayHello' && x.args[0] === 'oneway-marker').length;
      c.write(dubboRequest({ id: 5, args: ['oneway-marker'], twoWay: false }));
      const deadline = Date.now() + 3000;
      while (seen() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(seen(), 1);
      // The provider answers nothing; the proxy must not wait for or invent a reply.
      c.write(heartbeatRequest(8));
      await c.until(() => c.frames.length === 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(c.frames.length, 1);
      assert.equal(c.frames[0]!.id, 8n, 'only the heartbeat reply came back');
      assert.ok(proxy.server.listenerStats('main').request_oneway >= 1);
    } finally {
      c.close();
    }
  });

  test('pipelined requests on one connection each get their own reply', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      const n = 50;
      // One write with 50 frames: they arrive in one chunk and leave as many requests.
      c.write(Buffer.concat(Array.from({ length: n }, (_, i) => dubboRequest({ id: 1000 + i, args: [`p${i}`] }))));
      await c.until(() => c.frames.length === n, 5000, `${n} replies`);
      for (const f of c.frames) {
        assert.equal(f.status, 20);
        const i = Number(f.id) - 1000;
        const body = f.body;
        // body = int 1 (0x91) + string
        assert.equal(body[0], 0x91);
        assert.match(String(hessianDecode(body.subarray(1))), new RegExp(`^hello p${i} from p[12]$`));
      }
    } finally {
      c.close();
    }
  });

  test('requests split at every byte boundary still decode', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      const frame = dubboRequest({ id: 9, args: ['split'] });
      for (let i = 0; i < frame.length; i++) {
        c.write(frame.subarray(i, i + 1));
        if (i % 16 === 0) await new Promise((r) => setImmediate(r));
      }
      await c.until(() => c.frames.length === 1);
      assert.equal(c.frames[0]!.id, 9n);
      assert.equal(c.frames[0]!.status, 20);
    } finally {
      c.close();
    }
  });

  test('a malformed frame closes only that connection and is counted', async () => {
    const good = await RawDubboClient.connect(port);
    const bad = await RawDubboClient.connect(port);
    try {
      const errorsBefore = proxy.server.listenerStats('main').request_decoding_error;
      bad.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await bad.until(() => bad.closed, 2000, 'the bad connection to close');
      assert.equal(proxy.server.listenerStats('main').request_decoding_error, errorsBefore + 1);
      good.write(dubboRequest({ id: 3, args: ['still fine'] }));
      await good.until(() => good.frames.length === 1);
      assert.equal(good.frames[0]!.status, 20);
      assert.equal(good.closed, false);
    } finally {
      good.close();
      bad.close();
    }
  });

  test('an oversized frame is refused from its header alone', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      c.write(dubboHeader(0xc2, 0, 1, 1_000_000)); // over the 64 KiB configured limit
      await c.until(() => c.closed, 2000, 'the connection to close');
    } finally {
      c.close();
    }
  });

  test('an undecodable body gets BAD_REQUEST (40) and the connection stays', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      const body = Buffer.from([0x05, 0x32, 0x2e, 0x30, 0x2e, 0x32, 0xff, 0xff]);
      c.write(Buffer.concat([dubboHeader(0xc2, 0, 11, body.length), body]));
      await c.until(() => c.frames.length === 1);
      assert.equal(c.frames[0]!.status, 40);
      assert.equal(c.frames[0]!.id, 11n);
      c.write(dubboRequest({ id: 12 }));
      await c.until(() => c.frames.length === 2);
      assert.equal(c.frames[1]!.status, 20);
    } finally {
      c.close();
    }
  });

  test('many sofa clients with many calls in flight share 2 upstream connections per host; every reply reaches its caller', async () => {
    const clients = await Promise.all(Array.from({ length: 16 }, () => createSofaConsumer(`127.0.0.1:${port}`)));
    try {
      const results = await Promise.all(
        clients.flatMap((c, ci) =>
          Array.from({ length: 40 }, async (_, k) => {
            const name = `c${ci}-k${k}`;
            const reply = (await c.invoke('sayHello', [java.String(name)], 10_000)) as string;
            return { name, reply };
          }),
        ),
      );
      assert.equal(results.length, 640);
      for (const r of results) assert.match(r.reply, new RegExp(`^hello ${r.name} from p[12]$`));
      const res = await fetch(`http://127.0.0.1:${proxy.server.adminPort}/clusters`);
      const cx = [...(await res.text()).matchAll(/demo::127\.0\.0\.1:\d+::cx_active::(\d+)/g)].map((m) => Number(m[1]));
      assert.equal(cx.length, 2, 'both hosts are listed');
      assert.ok(cx.every((n) => n >= 1 && n <= 2), `1 or 2 upstream connections per host: ${cx.join(',')}`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
