/**
 * Delta (incremental) ADS, spec/xds.md §6 item 9: subscribe/unsubscribe, removed_resources,
 * per-resource versions, initial_resource_versions on reconnect; and the does-not-exist
 * timer when a server (go-control-plane) never answers for an unknown name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeltaDiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Flavour } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { cla, edsCluster, metaRds, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

const delta = (cp: TestControlPlane, type: string): DeltaDiscoveryRequest[] =>
  cp.requests.filter((r) => r.method === 'ads-delta' && r.request.type_url === type).map((r) => r.request as DeltaDiscoveryRequest);

async function call(m: XdsMeltemi, listener: string): Promise<string> {
  const c = await createSofaConsumer(`127.0.0.1:${m.server.listenerPort(listener)}`);
  try {
    return String(await c.invoke('sayHello', [java.String('x')]));
  } finally {
    await c.close();
  }
}

describe('delta xDS', () => {
  let v1: Provider;
  let v2: Provider;
  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
    v2 = await startSofaProvider({ name: 'v2' });
  });
  after(async () => {
    await Promise.all([v1.close(), v2.close()]);
  });

  async function setup(flavour: Flavour): Promise<{ cp: TestControlPlane; m: XdsMeltemi }> {
    const cp = new TestControlPlane(flavour);
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1'), edsCluster('v2')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port]), cla('v2', [v2.port])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880' }), mppListener('extra', { inlineCluster: 'v2' })]);
    cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
    const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port, delta: true }), { doesNotExistTimeoutMs: 300 });
    await waitFor('first config', () => m.server.listenerNames().length === 2 && m.server.routeStats('dubbo').length === 1 && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1));
    return { cp, m };
  }

  test('subscribe, per-resource versions, removed_resources, unsubscribe, reconnect with initial_resource_versions', async () => {
    const { cp, m } = await setup('istiod');
    try {
      assert.deepEqual(delta(cp, LISTENER_TYPE)[0]!.resource_names_subscribe, ['*']);
      assert.deepEqual([...delta(cp, ENDPOINT_TYPE)[0]!.resource_names_subscribe!].sort(), ['v1', 'v2']);
      assert.equal(await call(m, 'dubbo'), 'hello x from v1');
      assert.equal(await call(m, 'extra'), 'hello x from v2');
      // ACKs carry the nonce and no error.
      assert.ok(delta(cp, LISTENER_TYPE).slice(1).every((r) => r.response_nonce !== undefined && r.error_detail == null));
      // Removal: the server sends removed_resources.
      cp.set(LISTENER_TYPE, 'l2', [mppListener('dubbo', { rds: 'demo_20880' })]);
      await waitFor('extra removed', () => !m.server.listenerNames().includes('extra'));
      // EDS follows CDS: v2 is unsubscribed.
      cp.set(CLUSTER_TYPE, 'c2', [edsCluster('v1')]);
      await waitFor('v2 unsubscribed', () => delta(cp, ENDPOINT_TYPE).some((r) => (r.resource_names_unsubscribe ?? []).includes('v2')));
      await waitFor('cluster v2 gone', () => !m.server.clusterNames().includes('v2'));
      const dump = JSON.stringify(m.dynamic.xds.configDump());
      assert.match(dump, /"resource_versions":\{"dubbo":/, 'per-resource versions in the config dump');
      // Reconnect: the new stream names the versions it has.
      const port = cp.port;
      const before = cp.requests.length;
      cp.stop();
      await waitFor('noticed', () => m.dynamic.xds.statsLines().includes('xds.ads.reconnects: 1'));
      assert.equal(await call(m, 'dubbo'), 'hello x from v1');
      await cp.start(port);
      await waitFor('resubscribed', () => [LISTENER_TYPE, CLUSTER_TYPE].every((t) => cp.requests.slice(before).some((r) => r.request.type_url === t)));
      const resub = cp.requests.slice(before).find((r) => r.request.type_url === LISTENER_TYPE)!.request as DeltaDiscoveryRequest;
      assert.deepEqual(Object.keys(resub.initial_resource_versions ?? {}), ['dubbo']);
      const resubCds = cp.requests.slice(before).find((r) => r.request.type_url === CLUSTER_TYPE);
      assert.deepEqual(Object.keys((resubCds?.request as DeltaDiscoveryRequest | undefined)?.initial_resource_versions ?? {}), ['v1']);
      // Nothing changed, so nothing is resent; the next change arrives.
      cp.set(LISTENER_TYPE, 'l3', [mppListener('dubbo', { rds: 'demo_20880' }), mppListener('extra2', { inlineCluster: 'v1' })]);
      await waitFor('extra2', () => m.server.listenerNames().includes('extra2'));
      assert.equal(await call(m, 'extra2'), 'hello x from v1');
    } finally {
      await m.close();
      cp.stop();
    }
  });

  test('an unknown name: istiod says removed_resources; go-control-plane says nothing and the timer fires', async () => {
    for (const flavour of ['istiod', 'go-control-plane'] as const) {
      const { cp, m } = await setup(flavour);
      try {
        cp.set(CLUSTER_TYPE, 'c2', [edsCluster('v1'), edsCluster('v2'), edsCluster('ghost')]);
        await waitFor('ghost subscribed', () => delta(cp, ENDPOINT_TYPE).some((r) => (r.resource_names_subscribe ?? []).includes('ghost')));
        if (flavour === 'go-control-plane') {
          await waitFor('does not exist', () => m.dynamic.xds.statsLines().includes('xds.ads.eds.does_not_exist: 1'), 3000);
        } else {
          await new Promise((r) => setTimeout(r, 500));
          assert.ok(m.dynamic.xds.statsLines().includes('xds.ads.eds.does_not_exist: 0'), 'removed_resources answered before the timer');
        }
        assert.deepEqual(m.dynamic.xds.snapshot().clusters.find((c) => c.name === 'ghost')!.hosts, []);
      } finally {
        await m.close();
        cp.stop();
      }
    }
  });
});
