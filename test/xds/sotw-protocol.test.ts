/**
 * The xDS protocol checklist of spec/xds.md §6 (items 1-7) against the test control plane,
 * as istiod and as go-control-plane, with real Dubbo traffic (sofa-rpc-node) through Meltemi.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Flavour } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { cla, edsCluster, httpListener, metaRds, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

const sotw = (cp: TestControlPlane, type: string): DiscoveryRequest[] => cp.requestsOf(type).map((r) => r.request as DiscoveryRequest);

async function call(m: XdsMeltemi, listener: string, name = 'x'): Promise<string> {
  const c = await createSofaConsumer(`127.0.0.1:${m.server.listenerPort(listener)}`);
  try {
    return String(await c.invoke('sayHello', [java.String(name)]));
  } finally {
    await c.close();
  }
}

describe('xDS SotW protocol (spec/xds.md §6)', () => {
  let v1: Provider;
  let v2: Provider;
  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
    v2 = await startSofaProvider({ name: 'v2' });
  });
  after(async () => {
    await Promise.all([v1.close(), v2.close()]);
  });

  async function setup(flavour: Flavour, opts: { dneMs?: number } = {}): Promise<{ cp: TestControlPlane; m: XdsMeltemi; done: () => Promise<void> }> {
    const cp = new TestControlPlane(flavour);
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1'), edsCluster('v2')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port]), cla('v2', [v2.port])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true }), httpListener('virtualInbound')]);
    cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
    const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }), { doesNotExistTimeoutMs: opts.dneMs ?? 15_000 });
    await waitFor('first config', () => m.server.listenerNames().includes('dubbo') && m.server.routeStats('dubbo').length === 1 && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1));
    return {
      cp,
      m,
      done: async () => {
        await m.close();
        cp.stop();
      },
    };
  }

  test('1. LDS/CDS are wildcard; a non-MetaProtocol listener is left out, not rejected; deletion by absence', async () => {
    const { cp, m, done } = await setup('istiod');
    try {
      const lds = sotw(cp, LISTENER_TYPE);
      const cds = sotw(cp, CLUSTER_TYPE);
      assert.deepEqual(lds[0]!.resource_names ?? [], []);
      // Istio's node identity, on the first request of the stream only.
      const node = lds[0]!.node as { id: string; metadata: Record<string, unknown>; user_agent_name: string };
      assert.equal(node.id, 'sidecar~127.0.0.1~demo-0.default~default.svc.cluster.local');
      assert.deepEqual(node.metadata['LABELS'], { app: 'demo' });
      assert.equal(node.metadata['INSTANCE_IPS'], '127.0.0.1');
      assert.equal(node.user_agent_name, 'meltemi');
      assert.equal(cds[0]!.node, undefined, 'later requests on the stream carry no node');
      assert.deepEqual(cds[0]!.resource_names ?? [], []);
      assert.ok(lds.every((r) => r.error_detail == null), 'the HTTP listener must not cause a NACK');
      assert.deepEqual(m.server.listenerNames(), ['dubbo']);
      assert.equal(await call(m, 'dubbo'), 'hello x from v1');
      // A second listener, then its absence removes it.
      cp.set(LISTENER_TYPE, 'l2', [mppListener('dubbo', { rds: 'demo_20880' }), mppListener('extra', { inlineCluster: 'v2' })]);
      await waitFor('extra listener', () => m.server.listenerNames().includes('extra'));
      assert.equal(await call(m, 'extra'), 'hello x from v2');
      cp.set(LISTENER_TYPE, 'l3', [mppListener('dubbo', { rds: 'demo_20880' })]);
      await waitFor('extra removed', () => !m.server.listenerNames().includes('extra'));
      cp.set(CLUSTER_TYPE, 'c2', [edsCluster('v1')]);
      await waitFor('cluster v2 removed', () => !m.server.clusterNames().includes('v2'));
      // An empty LDS response deletes every dynamic listener.
      cp.set(LISTENER_TYPE, 'l4', []);
      await waitFor('all listeners removed', () => m.server.listenerNames().length === 0);
      // The ACK leaves before the listeners close, but reaches the control plane over gRPC
      // a moment later: wait for it rather than race it.
      await waitFor('the empty response is ACKed', () => sotw(cp, LISTENER_TYPE).some((r) => r.version_info === 'l4' && r.error_detail == null));
    } finally {
      await done();
    }
  });

  test('2. EDS and RDS names follow CDS and LDS; unsubscribe by omission; does-not-exist timer', async () => {
    const { cp, m, done } = await setup('istiod', { dneMs: 300 });
    try {
      const lastEds = (): string[] => [...(sotw(cp, ENDPOINT_TYPE).at(-1)!.resource_names ?? [])].sort();
      assert.deepEqual(lastEds(), ['v1', 'v2']);
      cp.set(CLUSTER_TYPE, 'c2', [edsCluster('v1')]);
      await waitFor('EDS unsubscribes v2', () => lastEds().join() === 'v1');
      // A cluster whose assignment never comes: does-not-exist after the timeout, no hosts.
      cp.set(CLUSTER_TYPE, 'c3', [edsCluster('v1'), edsCluster('v2'), edsCluster('ghost')]);
      await waitFor('EDS subscribes ghost', () => lastEds().join() === 'ghost,v1,v2');
      const eds = m.dynamic.xds.configDump() as { streams: { types: { type_url: string; stats: { does_not_exist: number } }[] }[] }[];
      assert.equal(eds[0]!.streams[0]!.types.find((t) => t.type_url === ENDPOINT_TYPE)!.stats.does_not_exist, 0);
      await waitFor('does-not-exist', () => m.dynamic.xds.statsLines().includes('xds.ads.eds.does_not_exist: 1'), 3000);
      assert.deepEqual(m.dynamic.xds.snapshot().clusters.find((c) => c.name === 'ghost')!.hosts, []);
      // RDS names follow LDS.
      const lastRds = (): string[] => [...(sotw(cp, ROUTE_TYPE).at(-1)!.resource_names ?? [])].sort();
      cp.set(ROUTE_TYPE, 'r2', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }]), metaRds('other_20880', [{ name: 'all', cluster: 'v2' }])]);
      cp.set(LISTENER_TYPE, 'l2', [mppListener('dubbo', { rds: 'demo_20880' }), mppListener('other', { rds: 'other_20880' })]);
      await waitFor('RDS subscribes other', () => lastRds().join() === 'demo_20880,other_20880');
      await waitFor('other routes', () => m.server.listenerNames().includes('other') && m.server.routeStats('other').length === 1);
      assert.equal(await call(m, 'other'), 'hello x from v2');
      cp.set(LISTENER_TYPE, 'l3', [mppListener('dubbo', { rds: 'demo_20880' })]);
      await waitFor('RDS unsubscribes other', () => lastRds().join() === 'demo_20880');
      assert.ok(cp.requestsOf(ROUTE_TYPE).every((r) => r.method === 'rds'), 'MetaRDS goes over RouteDiscoveryService/StreamRoutes');
    } finally {
      await done();
    }
  });

  for (const flavour of ['istiod', 'go-control-plane'] as const) {
    test(`3. ACK echoes version and nonce; NACK keeps the old config and does not loop (${flavour})`, async () => {
      const { cp, m, done } = await setup(flavour);
      try {
        const acks = sotw(cp, CLUSTER_TYPE).filter((r) => r.version_info === 'c1');
        assert.equal(acks.length, 1);
        assert.ok(acks[0]!.response_nonce !== undefined && acks[0]!.response_nonce !== '');
        assert.equal(acks[0]!.error_detail ?? undefined, undefined);
        // A bad route table: two virtual hosts.
        const bad = metaRds('demo_20880', [{ name: 'all', cluster: 'v2' }]);
        (bad['virtual_hosts'] as object[]).push({ name: 'second', domains: ['*'], routes: [] });
        cp.set(ROUTE_TYPE, 'r-bad', [bad]);
        await waitFor('NACK', () => sotw(cp, ROUTE_TYPE).some((r) => r.error_detail != null));
        await new Promise((r) => setTimeout(r, 300));
        const nacks = sotw(cp, ROUTE_TYPE).filter((r) => r.error_detail != null);
        if (flavour === 'go-control-plane') {
          await waitFor('the server resent the rejected version', () => m.dynamic.xds.statsLines().includes('xds.rds_aeraki-xds.rds.update_rejected: 2'));
        }
        // A resend (go-control-plane) is NACKed again only after the back-off (nack-backoff.test.ts).
        assert.equal(sotw(cp, ROUTE_TYPE).filter((r) => r.error_detail != null).length, 1, 'no NACK loop');
        assert.equal(nacks[0]!.version_info, 'r1', 'a NACK carries the last accepted version');
        assert.match(nacks[0]!.error_detail!.message, /exactly one virtual host/);
        assert.equal(await call(m, 'dubbo'), 'hello x from v1', 'the last good routes stay');
        const dump = JSON.stringify(m.dynamic.xds.configDump());
        assert.match(dump, /exactly one virtual host/);
        // The next good version is taken.
        cp.set(ROUTE_TYPE, 'r2', [metaRds('demo_20880', [{ name: 'all', cluster: 'v2' }])]);
        await waitFor('r2 ACK', () => sotw(cp, ROUTE_TYPE).some((r) => r.version_info === 'r2' && r.error_detail == null));
        assert.equal(await call(m, 'dubbo'), 'hello x from v2');
        // Every validation error is listed.
        const l1 = mppListener('bad1', { codec: 'aeraki.meta_protocol.codec.nope' });
        const l2 = mppListener('bad2', { codec: 'aeraki.meta_protocol.codec.nope2' });
        cp.set(LISTENER_TYPE, 'l-bad', [mppListener('dubbo', { rds: 'demo_20880' }), l1, l2]);
        await waitFor('LDS NACK', () => sotw(cp, LISTENER_TYPE).some((r) => r.error_detail != null));
        const msg = sotw(cp, LISTENER_TYPE).find((r) => r.error_detail != null)!.error_detail!.message;
        assert.match(msg, /nope'/);
        assert.match(msg, /nope2'/);
        assert.deepEqual(m.server.listenerNames(), ['dubbo']);
      } finally {
        await done();
      }
    });
  }

  test('4. every request echoes the latest nonce of its type', async () => {
    const { cp, done } = await setup('istiod');
    try {
      for (let i = 2; i <= 6; i++) cp.set(ENDPOINT_TYPE, `e${i}`, [cla('v1', [v1.port]), cla('v2', [v2.port])]);
      await waitFor('e6 ACK', () => sotw(cp, ENDPOINT_TYPE).some((r) => r.version_info === 'e6'));
      const eds = sotw(cp, ENDPOINT_TYPE).filter((r) => r.response_nonce);
      const nonces = eds.map((r) => Number(r.response_nonce));
      assert.deepEqual(nonces, [...nonces].sort((a, b) => a - b), 'nonces only go forward');
      // A subscription change carries the latest EDS nonce (a stale one would be ignored).
      const latest = eds.at(-1)!.response_nonce;
      cp.set(CLUSTER_TYPE, 'c2', [edsCluster('v1')]);
      await waitFor('EDS change', () => sotw(cp, ENDPOINT_TYPE).some((r) => r.resource_names!.length === 1));
      assert.equal(sotw(cp, ENDPOINT_TYPE).find((r) => r.resource_names!.length === 1)!.response_nonce, latest);
    } finally {
      await done();
    }
  });

  for (const flavour of ['istiod', 'go-control-plane'] as const) {
    test(`5. reconnect: cached config serves meanwhile; resubscribe with last versions, empty nonce (${flavour})`, async () => {
      const { cp, m, done } = await setup(flavour);
      try {
        const port = cp.port;
        const before = cp.requests.length;
        cp.stop();
        await waitFor('stream noticed down', () => m.dynamic.xds.statsLines().includes('xds.ads.reconnects: 1'));
        assert.equal(await call(m, 'dubbo'), 'hello x from v1', 'the cached config keeps serving');
        await cp.start(port);
        await waitFor('resubscribed', () => cp.requests.slice(before).filter((r) => r.method === 'ads' && (r.request as DiscoveryRequest).response_nonce == null).length >= 2);
        const resub = cp.requests.slice(before).map((r) => r.request as DiscoveryRequest);
        assert.equal(resub.find((r) => r.type_url === LISTENER_TYPE)!.version_info, 'l1');
        assert.equal(resub.find((r) => r.type_url === CLUSTER_TYPE)!.version_info, 'c1');
        assert.ok(resub.find((r) => r.type_url === LISTENER_TYPE)!.node !== undefined, 'the first request of the new stream has the node');
        // The next change is picked up.
        cp.set(ROUTE_TYPE, 'r2', [metaRds('demo_20880', [{ name: 'all', cluster: 'v2' }])]);
        await waitFor('r2 ACK', () => sotw(cp, ROUTE_TYPE).some((r) => r.version_info === 'r2'));
        assert.equal(await call(m, 'dubbo'), 'hello x from v2');
        assert.deepEqual(m.server.listenerNames(), ['dubbo']);
      } finally {
        await done();
      }
    });
  }

  test('6. out of order: LDS and RDS before CDS give a local error reply until CDS arrives', async () => {
    const cp = new TestControlPlane('go-control-plane');
    await cp.start();
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880' })]);
    cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
    cp.set(CLUSTER_TYPE, 'c0', []);
    const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
    try {
      await waitFor('listener + routes', () => m.server.listenerNames().includes('dubbo') && m.server.routeStats('dubbo').length === 1);
      await assert.rejects(call(m, 'dubbo'), 'no cluster yet: an error reply');
      cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port])]);
      cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1')]);
      await waitFor('hosts', () => m.dynamic.xds.snapshot().clusters.some((c) => c.hosts.length === 1));
      assert.equal(await call(m, 'dubbo'), 'hello x from v1');
    } finally {
      await m.close();
      cp.stop();
    }
  });

  test('7. MetaRDS: a route config whose name was not asked for is rejected (NACK)', async () => {
    const { cp, m, done } = await setup('istiod');
    try {
      cp.pushRaw(ROUTE_TYPE, 'r-wrong', [metaRds('renamed', [{ name: 'all', cluster: 'v2' }])]);
      await waitFor('NACK', () => sotw(cp, ROUTE_TYPE).some((r) => r.error_detail != null));
      const nack = sotw(cp, ROUTE_TYPE).find((r) => r.error_detail != null)!;
      assert.match(nack.error_detail!.message, /Unexpected RDS configuration \(expecting demo_20880\): renamed/);
      assert.equal(nack.version_info, 'r1');
      assert.equal(await call(m, 'dubbo'), 'hello x from v1');
    } finally {
      await done();
    }
  });

  test('a response larger than the 4 MiB gRPC default is received (raised max message size)', async () => {
    const { cp, m, done } = await setup('istiod');
    try {
      const big = httpListener('big');
      const tc = ((big['filter_chains'] as { filters: { typed_config: { value: Record<string, unknown> } }[] }[])[0]!.filters[0]!.typed_config);
      tc.value['padding'] = 'x'.repeat(5 * 1024 * 1024);
      cp.set(LISTENER_TYPE, 'l-big', [mppListener('dubbo', { rds: 'demo_20880' }), mppListener('extra', { inlineCluster: 'v2' }), big]);
      await waitFor('big response ACKed', () => sotw(cp, LISTENER_TYPE).some((r) => r.version_info === 'l-big' && r.error_detail == null), 10_000);
      await waitFor('extra listener', () => m.server.listenerNames().includes('extra'));
      assert.equal(m.dynamic.xds.statsLines().includes('xds.ads.reconnects: 0'), true, 'no stream reset');
    } finally {
      await done();
    }
  });

  test('a new listener waits for its first MetaRDS table (warming), or starts after the timeout', async () => {
    const cp = new TestControlPlane('istiod');
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('late', { rds: 'late_1' }), mppListener('never', { rds: 'never_1' })]);
    cp.set(ROUTE_TYPE, 'r0', [metaRds('other', [{ name: 'all', cluster: 'v1' }])]);
    const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }), { warmingTimeoutMs: 1500 });
    try {
      await waitFor('RDS subscribed', () => sotw(cp, ROUTE_TYPE).some((r) => (r.resource_names ?? []).length === 2));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(m.server.listenerNames(), [], 'not serving before the routes are there');
      cp.set(ROUTE_TYPE, 'r1', [metaRds('late_1', [{ name: 'all', cluster: 'v1' }])]);
      await waitFor('late started', () => m.server.listenerNames().includes('late'));
      assert.equal(m.server.routeStats('late').length, 1, 'started with its routes');
      assert.equal(await call(m, 'late'), 'hello x from v1');
      assert.ok(!m.server.listenerNames().includes('never'));
      await waitFor('never started after the warming timeout', () => m.server.listenerNames().includes('never'), 5000);
      assert.equal(m.server.routeStats('never').length, 0, 'with no routes: requests get a no-route reply');
    } finally {
      await m.close();
      cp.stop();
    }
  });
});
