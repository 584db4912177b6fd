/**
 * Listener and cluster updates applied to the running server (spec/xds.md §5.2): an
 * unchanged listener is left alone, a changed one keeps its socket and drains only the
 * connections of the old config (requests in flight finish), a removed one drains; an
 * endpoint update keeps the connection pools of the hosts that stay.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { cla, edsCluster, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('listener and cluster updates', () => {
  let v1: Provider;
  let v1b: Provider;
  let v2: Provider;
  let cp: TestControlPlane;
  let m: XdsMeltemi;
  let port: number;

  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
    v1b = await startSofaProvider({ name: 'v1b' });
    v2 = await startSofaProvider({ name: 'v2' });
    port = await freePort();
    cp = new TestControlPlane('istiod');
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1'), edsCluster('v2')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port]), cla('v2', [v2.port])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { inlineCluster: 'v1', port })]);
    m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }), {});
    await waitFor('listener', () => m.server.listenerNames().includes('dubbo') && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1));
  });
  after(async () => {
    await m.close();
    cp.stop();
    await Promise.all([v1.close(), v1b.close(), v2.close()]);
  });

  test('same config again: nothing is touched; changed config: same socket, old connections drain after their requests', async () => {
    const stats = m.server.listenerStats('dubbo');
    const a = await createSofaConsumer(`127.0.0.1:${port}`);
    try {
      assert.equal(await a.invoke('sayHello', [java.String('a')]), 'hello a from v1');
      const cxTotal = stats.cx_total;
      cp.set(LISTENER_TYPE, 'l2', [mppListener('dubbo', { inlineCluster: 'v1', port })]);
      await waitFor('l2 ACK', () => cp.requestsOf(LISTENER_TYPE).some((r) => (r.request as { version_info?: string }).version_info === 'l2'));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await a.invoke('sayHello', [java.String('a')]), 'hello a from v1');
      assert.equal(stats.cx_total, cxTotal, 'an unchanged listener keeps its connections');
      // A request in flight while the filter chain changes finishes on the old config.
      const slow = a.invoke('slow', [java.int(400)], 5000);
      await new Promise((r) => setTimeout(r, 100));
      cp.set(LISTENER_TYPE, 'l3', [mppListener('dubbo', { inlineCluster: 'v2', port })]);
      await waitFor('listener updated', () => m.server.listenerConfig('dubbo')?.metaChains[0]?.routeTable.routes[0]?.clusters[0] === 'v2');
      assert.equal(await slow, 'slow from v1');
      assert.equal(m.server.listenerPort('dubbo'), port, 'the same socket');
      const b = await createSofaConsumer(`127.0.0.1:${port}`);
      assert.equal(await b.invoke('sayHello', [java.String('b')]), 'hello b from v2');
      await b.close();
      await waitFor('old connection drained', () => stats.cx_active <= 1);
    } finally {
      await a.close();
    }
  });

  test('an endpoint update keeps the pool of a host that stays', async () => {
    cp.set(LISTENER_TYPE, 'l4', [mppListener('dubbo', { inlineCluster: 'v1', port })]);
    await waitFor('back to v1', () => m.server.listenerConfig('dubbo')?.metaChains[0]?.routeTable.routes[0]?.clusters[0] === 'v1');
    const c = await createSofaConsumer(`127.0.0.1:${port}`);
    try {
      assert.equal(await c.invoke('sayHello', [java.String('c')]), 'hello c from v1');
      const host = `127.0.0.1:${v1.port}`;
      const conns = (): number => m.server.clusterStatus().find((h) => h.cluster === 'v1' && h.host === host)?.connections ?? -1;
      const before = conns();
      assert.ok(before > 0);
      cp.set(ENDPOINT_TYPE, 'e2', [cla('v1', [v1.port, v1b.port]), cla('v2', [v2.port])]);
      await waitFor('two hosts', () => m.server.clusterStatus().filter((h) => h.cluster === 'v1').length === 2);
      assert.equal(conns(), before, 'the surviving host kept its upstream connections');
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) seen.add(String(await c.invoke('sayHello', [java.String('c')])));
      assert.deepEqual([...seen].sort(), ['hello c from v1', 'hello c from v1b']);
      cp.set(ENDPOINT_TYPE, 'e3', [cla('v1', [v1b.port]), cla('v2', [v2.port])]);
      await waitFor('one host', () => m.server.clusterStatus().filter((h) => h.cluster === 'v1').length === 1);
      assert.equal(await c.invoke('sayHello', [java.String('c')]), 'hello c from v1b');
    } finally {
      await c.close();
    }
  });
});
