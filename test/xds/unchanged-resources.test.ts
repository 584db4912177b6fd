/**
 * An unchanged resource is left alone, whatever its encoding (spec/xds.md §5.2; issue 13
 * defect 8). go-control-plane encodes Structs (the TypedStruct carrying Aeraki's config,
 * endpoint metadata) in Go map order, a new random key order on every push; a restarted
 * control plane resends everything under new versions. None of that may drain a connection
 * or rebuild a pool. Real Dubbo clients (sofa-rpc-node) keep calling through Meltemi.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { edsCluster, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A ClusterLoadAssignment whose endpoints carry Istio-style labels in a Struct (envoy.lb). */
function labelledCla(name: string, ports: number[]): Resource {
  const labels = { app: 'demo', version: name, zone: 'z1', canary: 'false', 'topology.kubernetes.io/region': 'r1' };
  return {
    '@type': ENDPOINT_TYPE,
    cluster_name: name,
    endpoints: [{ lb_endpoints: ports.map((port_value) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value } } }, metadata: { filter_metadata: { 'envoy.lb': labels } } })) }],
  };
}

/** The listener as Aeraki's EnvoyFilter delivers it: MetaProtocolProxy in a TypedStruct, with a few Struct fields. */
function listener(port: number, o: { typedStruct?: boolean; cluster?: string } = {}): Resource {
  return mppListener('dubbo', { inlineCluster: o.cluster ?? 'v1', port, typedStruct: o.typedStruct ?? true, statPrefix: 'outbound|20880||demo' });
}

describe('unchanged resources are left alone (go-control-plane encoding)', () => {
  let v1: Provider;
  let v2: Provider;
  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
    v2 = await startSofaProvider({ name: 'v2' });
  });
  after(async () => {
    await Promise.all([v1.close(), v2.close()]);
  });

  test('20 pushes in shuffled key order, a restarted control plane, another encoding: zero drains, zero failed calls, connections stay open', async () => {
    const port = await freePort();
    let cp = new TestControlPlane('go-control-plane', { seed: 7 });
    await cp.start();
    const setAll = (suffix: string, lst: Resource = listener(port)): void => {
      cp.set(CLUSTER_TYPE, `c${suffix}`, [edsCluster('v1'), edsCluster('v2')]);
      cp.set(ENDPOINT_TYPE, `e${suffix}`, [labelledCla('v1', [v1.port]), labelledCla('v2', [v2.port])]);
      cp.set(LISTENER_TYPE, `l${suffix}`, [lst]);
    };
    setAll('0');
    const m: XdsMeltemi = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
    const clients = await Promise.all(Array.from({ length: 5 }, () => createSofaConsumer(`127.0.0.1:${port}`)));
    try {
      await waitFor('first config', () => m.server.listenerNames().includes('dubbo') && m.dynamic.xds.snapshot().clusters.length === 2 && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1), 10_000);
      assert.deepEqual(m.dynamic.xds.snapshot().clusters.find((c) => c.name === 'v1')!.hosts[0]!.labels?.['version'], 'v1', 'the labels come through');
      let ok = 0;
      const failures: string[] = [];
      const callAll = async (): Promise<void> => {
        await Promise.all(
          clients.map(async (c) => {
            try {
              assert.equal(await c.invoke('sayHello', [java.String('a')]), 'hello a from v1');
              ok++;
            } catch (err) {
              failures.push((err as Error).message);
            }
          }),
        );
      };
      await callAll();
      const stats = m.server.listenerStats('dubbo');
      const cxTotal = stats.cx_total;
      const compiled = m.server.listenerConfig('dubbo');
      const applier = m.dynamic.applier;
      const listenerUpdates = applier.listenerUpdates;
      const clusterUpdates = applier.clusterUpdates;
      const accepted = (c: TestControlPlane, type: string, version: string): boolean =>
        c.requestsOf(type).some((r) => (r.request as DiscoveryRequest).version_info === version && r.request.error_detail == null);
      const push = async (suffix: string, lst?: Resource): Promise<void> => {
        const applied = applier.applied;
        setAll(suffix, lst);
        await waitFor(`version ${suffix} accepted`, () => [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE].every((t) => accepted(cp, t, `${t === CLUSTER_TYPE ? 'c' : t === ENDPOINT_TYPE ? 'e' : 'l'}${suffix}`)), 10_000);
        await waitFor('applied', () => applier.applied > applied);
        await callAll();
      };
      for (let i = 1; i <= 20; i++) await push(String(i));
      // The control plane restarts (a new process: new versions, a new key order) on the same port.
      const cpPort = cp.port;
      cp.stop();
      await waitFor('stream noticed down', () => m.dynamic.xds.statsLines().includes('xds.ads.reconnects: 1'));
      cp = new TestControlPlane('go-control-plane', { seed: 99 });
      setAll('-restart');
      await cp.start(cpPort);
      await waitFor('restarted config accepted', () => accepted(cp, LISTENER_TYPE, 'l-restart') && accepted(cp, ENDPOINT_TYPE, 'e-restart'), 10_000);
      await callAll();
      // The same config as a direct Any (snake_case keys) instead of a TypedStruct.
      await push('-direct', listener(port, { typedStruct: false }));

      assert.deepEqual(failures, [], 'zero failed calls');
      assert.equal(ok, 5 * 23);
      assert.equal(applier.listenerUpdates, listenerUpdates, 'zero listener updates, so zero drains');
      assert.equal(applier.clusterUpdates, clusterUpdates, 'zero cluster rebuilds');
      assert.equal(m.server.listenerConfig('dubbo'), compiled, 'the running listener config is the same object');
      assert.equal(stats.cx_total, cxTotal, 'no client had to reconnect');
      assert.equal(stats.cx_active, 5, 'the client connections stay open');

      // A real change is still applied (and drains the old connections).
      await push('-changed', listener(port, { cluster: 'v2' }));
      assert.equal(applier.listenerUpdates, listenerUpdates + 1);
      const fresh = await createSofaConsumer(`127.0.0.1:${port}`);
      try {
        assert.equal(await fresh.invoke('sayHello', [java.String('b')]), 'hello b from v2');
      } finally {
        await fresh.close();
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await m.close();
      cp.stop();
    }
  });
});
