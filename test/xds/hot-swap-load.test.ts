/**
 * Route hot swap under load (spec/xds.md §6 item 8) and a control-plane restart mid-load:
 * real Dubbo clients (sofa-rpc-node) keep calling through Meltemi while MetaRDS changes the
 * route table many times (targets, weights, matchers) and LDS adds and removes another
 * listener. Afterwards: no failed call, no client connection closed or reopened, and the
 * traffic of each phase follows that phase's table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { cla, edsCluster, metaRds, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';
import type { MetaRouteSpec } from '../../tools/testing/xds-resources.js';

const CLIENTS = 6;
const PHASE_MS = 250;
/** Calls a phase needs before its traffic shares are judged. */
const MIN_PHASE_CALLS = 20;
/** How many more PHASE_MS a phase may last to get them (a slow machine). */
const MAX_PHASE_EXTENSIONS = 20;

interface Sample {
  sentAt: number;
  from: string | undefined;
  error: string | undefined;
}

/** One route table per phase and what its traffic must look like. */
interface Phase {
  routes: MetaRouteSpec[];
  /** Expected share per provider (exact 1 or 0 for fixed targets, approximate for weights). */
  expect: Record<string, number>;
}

const PHASES: Phase[] = [
  { routes: [{ name: 'all', cluster: 'v2' }], expect: { v2: 1 } },
  { routes: [{ name: 'split', weighted: { v1: 50, v3: 50 } }], expect: { v1: 0.5, v3: 0.5 } },
  { routes: [{ name: 'by-method', match: { method: 'sayHello' }, cluster: 'v3' }, { name: 'rest', cluster: 'v1' }], expect: { v3: 1 } },
  { routes: [{ name: 'by-method', match: { method: 'other' }, cluster: 'v3' }, { name: 'rest', cluster: 'v1' }], expect: { v1: 1 } },
  { routes: [{ name: 'split', weighted: { v1: 80, v2: 20 } }], expect: { v1: 0.8, v2: 0.2 } },
  { routes: [{ name: 'by-version', match: { version: '1.0.0' }, cluster: 'v2' }], expect: { v2: 1 } },
  { routes: [{ name: 'all', cluster: 'v3' }], expect: { v3: 1 } },
  { routes: [{ name: 'split', weighted: { v1: 1, v2: 1, v3: 1 } }], expect: { v1: 1 / 3, v2: 1 / 3, v3: 1 / 3 } },
];

describe('route hot swap under load', () => {
  const providers: Provider[] = [];
  let cp: TestControlPlane;
  let m: XdsMeltemi;
  let consumers: Consumer[] = [];
  const samples: Sample[] = [];
  let running = true;
  let loops: Promise<void>[] = [];

  before(async () => {
    for (const name of ['v1', 'v2', 'v3']) providers.push(await startSofaProvider({ name }));
    cp = new TestControlPlane('istiod');
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', ['v1', 'v2', 'v3'].map(edsCluster));
    cp.set(ENDPOINT_TYPE, 'e1', providers.map((p, i) => cla(`v${i + 1}`, [p.port])));
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true })]);
    cp.set(ROUTE_TYPE, 'r0', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
    m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
    await waitFor('first config', () => m.server.listenerNames().includes('dubbo') && m.server.routeStats('dubbo').length === 1 && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1));
    const address = `127.0.0.1:${m.server.listenerPort('dubbo')}`;
    consumers = await Promise.all(Array.from({ length: CLIENTS }, () => createSofaConsumer(address)));
    loops = consumers.map(async (c, i) => {
      let n = 0;
      while (running) {
        const sentAt = Date.now();
        try {
          const reply = String(await c.invoke('sayHello', [java.String(`c${i}-${n++}`)]));
          samples.push({ sentAt, from: /from (v\d)$/.exec(reply)?.[1], error: undefined });
        } catch (err) {
          samples.push({ sentAt, from: undefined, error: (err as Error).message });
        }
      }
    });
  });

  after(async () => {
    running = false;
    await Promise.all(loops);
    await Promise.all(consumers.map((c) => c.close()));
    await m.close();
    cp.stop();
    await Promise.all(providers.map((p) => p.close()));
  });

  const acked = (version: string): boolean => cp.requestsOf(ROUTE_TYPE).some((r) => (r.request as DiscoveryRequest).version_info === version);

  async function runPhase(version: string, phase: Phase): Promise<void> {
    cp.set(ROUTE_TYPE, version, [metaRds('demo_20880', phase.routes)]);
    await waitFor(`${version} ACK`, () => acked(version));
    // The swap happens in the same turn as the ACK; requests sent from now on see the new table.
    await new Promise((r) => setTimeout(r, 5));
    const start = Date.now();
    await new Promise((r) => setTimeout(r, PHASE_MS));
    // On a loaded shared machine the consumers may send fewer calls in PHASE_MS: the phase
    // lasts longer then (bounded), so that the shares below are judged on enough calls.
    const answered = (): Sample[] => samples.filter((s) => s.sentAt >= start && s.sentAt < Date.now() - 50 && s.error === undefined);
    for (let extra = 0; extra < MAX_PHASE_EXTENSIONS && answered().length < MIN_PHASE_CALLS; extra++) await new Promise((r) => setTimeout(r, PHASE_MS));
    const inPhase = answered();
    assert.ok(inPhase.length >= MIN_PHASE_CALLS, `${version}: enough traffic (${inPhase.length})`);
    for (const [name, share] of Object.entries(phase.expect)) {
      const got = inPhase.filter((s) => s.from === name).length / inPhase.length;
      if (share === 1) assert.equal(got, 1, `${version}: all traffic to ${name}`);
      else assert.ok(Math.abs(got - share) < 0.2, `${version}: ${name} share ${got.toFixed(2)} ≈ ${share.toFixed(2)}`);
    }
    const others = inPhase.filter((s) => s.from === undefined || !(s.from in phase.expect));
    assert.equal(others.length, 0, `${version}: no traffic outside the table (${JSON.stringify(others.slice(0, 3))})`);
  }

  test('routes change many times, a listener comes and goes, the control plane restarts: no failure, no closed connection', async () => {
    const stats = m.server.listenerStats('dubbo');
    await waitFor('load running', () => samples.length > 50);
    const cxTotal = stats.cx_total;
    assert.equal(stats.cx_active, CLIENTS);
    let v = 0;
    for (let round = 0; round < 2; round++) {
      for (const phase of PHASES) await runPhase(`r${++v}`, phase);
    }
    // A listener added and removed by LDS while the load runs on the first one.
    cp.set(LISTENER_TYPE, 'l2', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true }), mppListener('extra', { inlineCluster: 'v2' })]);
    await waitFor('extra added', () => m.server.listenerNames().includes('extra'));
    const extra = await createSofaConsumer(`127.0.0.1:${m.server.listenerPort('extra')}`);
    assert.equal(await extra.invoke('sayHello', [java.String('e')]), 'hello e from v2');
    await extra.close();
    cp.set(LISTENER_TYPE, 'l3', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true })]);
    await waitFor('extra removed', () => !m.server.listenerNames().includes('extra'));
    await runPhase(`r${++v}`, PHASES[0]!);
    // The control plane dies mid-load: traffic continues on the cached config.
    const port = cp.port;
    cp.stop();
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 400));
    const whileDown = samples.filter((s) => s.sentAt >= down);
    assert.ok(whileDown.length > 20, 'traffic continued while the control plane was down');
    assert.ok(whileDown.every((s) => s.error === undefined && s.from === 'v2'), 'on the cached routes');
    await cp.start(port);
    await waitFor('reconnected', () => cp.streams >= 2, 10_000);
    await runPhase(`r${++v}`, PHASES[1]!);
    await runPhase(`r${++v}`, PHASES[2]!);
    const failed = samples.filter((s) => s.error !== undefined);
    assert.equal(failed.length, 0, `failed calls: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.equal(stats.cx_total, cxTotal, 'no client connection was closed and reopened');
    assert.equal(stats.cx_active, CLIENTS, 'every client connection is still open');
    assert.ok(samples.length > 500, `load ran (${samples.length} calls)`);
  });
});
