/**
 * Every failure answers the client at once with a Dubbo error reply its library raises.
 * The statuses are checked on raw bytes; the real clients prove they surface as errors.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest, hessianDecode } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createDirectlyDubbo } from '../peers/dubbo/apache-dubbo-js.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('error replies', () => {
  let slow: Provider;
  let reset: FaultUpstream;
  let proxy: RunningMeltemi;
  let port: number;

  before(async () => {
    slow = await startSofaProvider({ name: 'slow' });
    reset = await startFaultUpstream('reset');
    const dead = await closedPort();
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [
              { name: 'missing-cluster', match: { method: 'noCluster' }, cluster: 'nope' },
              { name: 'empty-cluster', match: { method: 'noHost' }, cluster: 'empty' },
              { name: 'dead', match: { method: 'dead' }, cluster: 'dead' },
              { name: 'reset', match: { method: 'reset' }, cluster: 'reset' },
              { name: 'slow', match: { method: 'slow' }, cluster: 'slow', timeout: '0.2s' },
              { name: 'ok', match: { interface: 'com.example.DemoService' }, cluster: 'slow' },
            ],
            extra: { request_timeout: '2s' },
          }),
        ],
        [staticCluster('empty', []), staticCluster('dead', [dead]), staticCluster('reset', [reset.port]), staticCluster('slow', [slow.port])],
      ),
    );
    port = proxy.listenerPort('main');
  });
  after(async () => {
    await proxy.close();
    await slow.close();
    await reset.close();
  });

  async function rawCall(method: string, iface = 'com.example.DemoService', desc = 'Ljava/lang/String;', args: unknown[] = ['x']): Promise<{ status: number; message: string; ms: number; id: bigint }> {
    const c = await RawDubboClient.connect(port);
    try {
      const t0 = performance.now();
      c.write(dubboRequest({ id: 77n, interface: iface, method, desc, args }));
      await c.until(() => c.frames.length === 1, 3000, `a reply to ${method}`);
      const f = c.frames[0]!;
      return { status: f.status, message: String(hessianDecode(f.body)), ms: performance.now() - t0, id: f.id };
    } finally {
      c.close();
    }
  }

  test('no route: SERVICE_NOT_FOUND (60) with the client id, at once', async () => {
    const r = await rawCall('sayHello', 'com.example.Unknown');
    assert.equal(r.status, 60);
    assert.equal(r.id, 77n);
    assert.match(r.message, /no matched route/);
    assert.ok(r.ms < 500);
  });

  test('unknown cluster: SERVICE_NOT_FOUND (60)', async () => {
    const r = await rawCall('noCluster');
    assert.equal(r.status, 60);
    assert.match(r.message, /unknown cluster 'nope'/);
  });

  test('no healthy upstream: SERVER_ERROR (80)', async () => {
    const r = await rawCall('noHost');
    assert.equal(r.status, 80);
    assert.match(r.message, /no healthy upstream for 'empty'/);
  });

  test('upstream connect failure: SERVER_ERROR (80), at once', async () => {
    const r = await rawCall('dead');
    assert.equal(r.status, 80);
    assert.match(r.message, /remote connection failure/);
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
  });

  test('upstream reset: SERVER_ERROR (80)', async () => {
    const r = await rawCall('reset');
    assert.equal(r.status, 80);
    assert.match(r.message, /reset|closed/);
  });

  test('per-route timeout: SERVER_TIMEOUT (31) after the route timeout, not the default', async () => {
    const r = await rawCall('slow', 'com.example.DemoService', 'I', [1000]);
    assert.equal(r.status, 31);
    assert.match(r.message, /timeout after 200 ms/);
    assert.ok(r.ms >= 190 && r.ms < 900, `took ${r.ms} ms`);
    assert.ok(proxy.server.listenerStats('main').request_timeout >= 1);
  });

  test('a late response after a timeout is dropped, and the connection keeps working', async () => {
    const c = await RawDubboClient.connect(port);
    try {
      c.write(dubboRequest({ id: 1, method: 'slow', desc: 'I', args: [400] }));
      await c.until(() => c.frames.length === 1);
      assert.equal(c.frames[0]!.status, 31);
      await new Promise((r) => setTimeout(r, 400)); // the late answer arrives at the proxy meanwhile
      c.write(dubboRequest({ id: 2, args: ['after'] }));
      await c.until(() => c.frames.length === 2);
      assert.equal(c.frames.length, 2, 'no stray frame for the timed-out request');
      assert.equal(c.frames[1]!.id, 2n);
      assert.equal(c.frames[1]!.status, 20);
    } finally {
      c.close();
    }
  });

  test('the sofa-rpc-node client raises the proxy error at once', async () => {
    const c = await createSofaConsumer(`127.0.0.1:${port}`, { interfaceName: 'com.example.Unknown' });
    try {
      const t0 = performance.now();
      await assert.rejects(c.invoke('sayHello', [java.String('x')], 5000), /no matched route/);
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      await c.close();
    }
  });

  test('the apache-dubbo-js client raises the proxy error at once', async () => {
    const c = createDirectlyDubbo(`127.0.0.1:${port}`, { iface: 'com.example.Unknown', timeoutSeconds: 5 });
    try {
      const t0 = performance.now();
      const r = await c.sayHello('x');
      assert.ok(r.err instanceof Error, 'the error reply surfaces as an error');
      assert.match(r.err.message, /no matched route/);
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      c.close();
    }
  });
});
