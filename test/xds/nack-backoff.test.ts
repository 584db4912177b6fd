/**
 * go-control-plane's NACK behaviour (spec/xds.md §3.3, §6 item 3; issue 13 defect 7): its
 * SotW server answers a NACK by resending the rejected version with a new nonce, and pushes
 * a later version only to a stream with a request outstanding. Meltemi answers every
 * response: a resend of a rejected version gets the same NACK after 1 s, 2 s, 4 s ... so
 * there is no tight loop and the next good version still arrives. The delta path is checked
 * for the same class of bug. Traffic is real Dubbo (sofa-rpc-node) through Meltemi.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { ControlPlaneOptions, RecordedRequest, Resource } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { cla, edsCluster, metaRds, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

async function call(m: XdsMeltemi, listener: string): Promise<string> {
  const c = await createSofaConsumer(`127.0.0.1:${m.server.listenerPort(listener)}`);
  try {
    return String(await c.invoke('sayHello', [java.String('x')]));
  } finally {
    await c.close();
  }
}

/** A counter from the xDS stats lines, e.g. `xds.ads.lds.update_rejected`. */
function stat(m: XdsMeltemi, name: string): number {
  const line = m.dynamic.xds.statsLines().find((l) => l.startsWith(`${name}: `));
  return line === undefined ? -1 : Number(line.slice(name.length + 2));
}

const isNack = (r: RecordedRequest): boolean => r.request.error_detail != null;
const nacksOf = (cp: TestControlPlane, type: string): RecordedRequest[] => cp.requestsOf(type).filter(isNack);

/** A MetaRDS table Meltemi must reject: two virtual hosts. */
function badRoutes(): Resource {
  const bad = metaRds('demo_20880', [{ name: 'all', cluster: 'v2' }]);
  (bad['virtual_hosts'] as object[]).push({ name: 'second', domains: ['*'], routes: [] });
  return bad;
}

describe('NACK of a resent update: back-off, never silence (go-control-plane)', () => {
  let v1: Provider;
  let v2: Provider;
  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
    v2 = await startSofaProvider({ name: 'v2' });
  });
  after(async () => {
    await Promise.all([v1.close(), v2.close()]);
  });

  async function setup(delta: boolean, opts: ControlPlaneOptions = {}): Promise<{ cp: TestControlPlane; m: XdsMeltemi; done: () => Promise<void> }> {
    const cp = new TestControlPlane('go-control-plane', opts);
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1'), edsCluster('v2')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port]), cla('v2', [v2.port])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true })]);
    cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
    const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port, delta }));
    await waitFor('first config', () => m.server.listenerNames().includes('dubbo') && m.server.routeStats('dubbo').length === 1 && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1), 10_000);
    return {
      cp,
      m,
      done: async () => {
        await m.close();
        cp.stop();
      },
    };
  }

  test('SotW: one bad push, then a good one: the good one applies within 2 s', async () => {
    const { cp, m, done } = await setup(false);
    try {
      cp.set(ROUTE_TYPE, 'r-bad', [badRoutes()]);
      await waitFor('NACK', () => nacksOf(cp, ROUTE_TYPE).length >= 1);
      // The server resends r-bad at once; Meltemi rejects it again (and answers it later).
      await waitFor('resend rejected', () => stat(m, 'xds.rds_aeraki-xds.rds.update_rejected') >= 2);
      assert.equal(await call(m, 'dubbo'), 'hello x from v1', 'the last good routes serve meanwhile');
      const t0 = performance.now();
      cp.set(ROUTE_TYPE, 'r2', [metaRds('demo_20880', [{ name: 'all', cluster: 'v2' }])]);
      const acked = (): RecordedRequest | undefined => cp.requestsOf(ROUTE_TYPE).find((r) => r.request.type_url === ROUTE_TYPE && (r.request as DiscoveryRequest).version_info === 'r2' && !isNack(r));
      await waitFor('r2 accepted', () => acked() !== undefined, 2000);
      assert.ok(acked()!.at - t0 < 2000, `applied after ${Math.round(acked()!.at - t0)} ms`);
      assert.equal(await call(m, 'dubbo'), 'hello x from v2');
      // Every NACK named the last good version and the latest nonce.
      for (const n of nacksOf(cp, ROUTE_TYPE)) assert.equal((n.request as DiscoveryRequest).version_info, 'r1');
      // After the ACK, a request is outstanding: the next change arrives at once.
      await waitFor('request outstanding', () => cp.outstanding(ROUTE_TYPE) === 1);
      const t1 = performance.now();
      cp.set(ROUTE_TYPE, 'r3', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
      await waitFor('r3 accepted', () => cp.requestsOf(ROUTE_TYPE).some((r) => (r.request as DiscoveryRequest).version_info === 'r3' && !isNack(r)), 2000);
      assert.ok(performance.now() - t1 < 2000);
    } finally {
      await done();
    }
  });

  test('SotW: a version the server keeps resending is NACKed after 1 s, then 2 s: never a tight loop, never silence', async () => {
    const { cp, m, done } = await setup(false);
    try {
      cp.set(ROUTE_TYPE, 'r-bad', [badRoutes()]);
      await waitFor('three NACKs', () => nacksOf(cp, ROUTE_TYPE).length >= 3, 8000);
      const [a, b, c] = nacksOf(cp, ROUTE_TYPE);
      const gap1 = b!.at - a!.at;
      const gap2 = c!.at - b!.at;
      // Timers never fire early; the slack covers delivery delays on a loaded machine.
      assert.ok(gap1 >= 800, `first resend answered after ${Math.round(gap1)} ms (>= 1 s back-off)`);
      assert.ok(gap2 >= 1600, `second resend answered after ${Math.round(gap2)} ms (>= 2 s back-off)`);
      assert.ok(gap2 > gap1, 'the back-off grows');
      // Each NACK answers the newest response (a new nonce each time) with the last good version.
      const nonces = [a, b, c].map((r) => Number(r!.request.response_nonce));
      assert.ok(nonces[0]! < nonces[1]! && nonces[1]! < nonces[2]!, `nonces ${nonces.join(',')}`);
      for (const r of [a, b, c]) assert.equal((r!.request as DiscoveryRequest).version_info, 'r1');
      assert.match(c!.request.error_detail!.message, /exactly one virtual host/);
      assert.equal(await call(m, 'dubbo'), 'hello x from v1');
    } finally {
      await done();
    }
  });

  test('delta: a NACK opens a watch, so the next good version applies within 2 s', async () => {
    const { cp, m, done } = await setup(true);
    try {
      const good = mppListener('dubbo', { rds: 'demo_20880', typedStruct: true });
      cp.set(LISTENER_TYPE, 'l-bad', [good, mppListener('bad', { codec: 'aeraki.meta_protocol.codec.nope' })]);
      await waitFor('NACK', () => nacksOf(cp, LISTENER_TYPE).length >= 1);
      const t0 = performance.now();
      cp.set(LISTENER_TYPE, 'l2', [good, mppListener('extra', { inlineCluster: 'v2' })]);
      await waitFor('extra listener', () => m.server.listenerNames().includes('extra'), 2000);
      assert.ok(performance.now() - t0 < 2000);
      assert.equal(await call(m, 'extra'), 'hello x from v2');
      assert.equal(nacksOf(cp, LISTENER_TYPE).length, 1);
    } finally {
      await done();
    }
  });

  test('delta: a server that resends rejected resources gets the same NACK after a back-off, not a tight loop', async () => {
    const { cp, m, done } = await setup(true, { resendDeltaOnNack: true });
    try {
      const good = mppListener('dubbo', { rds: 'demo_20880', typedStruct: true });
      cp.set(LISTENER_TYPE, 'l-bad', [good, mppListener('bad', { codec: 'aeraki.meta_protocol.codec.nope' })]);
      await waitFor('NACK', () => nacksOf(cp, LISTENER_TYPE).length >= 1);
      await waitFor('resend rejected', () => stat(m, 'xds.ads.lds.update_rejected') >= 2);
      await waitFor('second NACK', () => nacksOf(cp, LISTENER_TYPE).length >= 2, 3000);
      // The control plane runs in this process: the resend is handled after the first NACK
      // was recorded, so the gap is at least the back-off whatever the load.
      const [a, b] = nacksOf(cp, LISTENER_TYPE);
      assert.ok(b!.at - a!.at >= 800, `answered after ${Math.round(b!.at - a!.at)} ms (a tight loop answers in ~1 ms)`);
      assert.ok((b!.request as DeltaDiscoveryRequest).response_nonce !== (a!.request as DeltaDiscoveryRequest).response_nonce, 'the NACK answers the resend');
      assert.deepEqual(m.server.listenerNames(), ['dubbo']);
    } finally {
      await done();
    }
  });
});
