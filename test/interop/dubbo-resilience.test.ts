/**
 * Cluster protection and per-request policy with real Dubbo peers (and fault doubles for
 * the failing hosts): circuit breakers, outlier detection, retries, traffic mirroring.
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
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };

async function stat(proxy: RunningMeltemi, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.server.adminPort}/stats`)).text();
  const m = new RegExp(`^${name.replace(/[.|]/g, '\\$&')}: (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends `n` requests one after another on one connection; returns the reply statuses and texts. */
async function sequential(port: number, n: number, method = 'sayHello'): Promise<{ status: number; text: string }[]> {
  const c = await RawDubboClient.connect(port);
  try {
    for (let i = 0; i < n; i++) {
      c.write(dubboRequest({ id: i + 1, method, args: [`s${i}`] }));
      await c.until(() => c.frames.length === i + 1, 5000);
    }
    return c.frames.map((f) => ({ status: f.status, text: String(hessianDecode(f.status === 20 ? f.body.subarray(1) : f.body)) }));
  } finally {
    c.close();
  }
}

let good: Provider;
let slow: Provider;
before(async () => {
  good = await startSofaProvider({ name: 'good' });
  slow = await startSofaProvider({ name: 'slow', delayMs: 300 });
});
after(async () => {
  await good.close();
  await slow.close();
});

describe('circuit breakers', () => {
  test('max_requests: requests over the threshold get the overload error at once and are counted', async () => {
    const proxy = await startMeltemi(
      bootstrapOf(
        [metaProtocolListener({ routes: [{ name: 'all', cluster: 'slow' }] })],
        [staticCluster('slow', [slow.port], { circuit_breakers: { thresholds: [{ max_requests: 2 }] } })],
        undefined,
        ADMIN,
      ),
    );
    const c = await RawDubboClient.connect(proxy.listenerPort('main'));
    try {
      const t0 = performance.now();
      c.write(Buffer.concat(Array.from({ length: 6 }, (_, i) => dubboRequest({ id: i + 1 }))));
      await c.until(() => c.frames.filter((f) => f.status === 100).length === 4, 2000, 'four overflow replies');
      assert.ok(performance.now() - t0 < 250, 'overflow replies come before the slow provider answers');
      await c.until(() => c.frames.length === 6, 3000);
      assert.equal(c.frames.filter((f) => f.status === 20).length, 2);
      assert.equal(await stat(proxy, 'cluster.slow.upstream_rq_pending_overflow'), 4);
      // The limit lifts with the load.
      c.write(dubboRequest({ id: 7 }));
      await c.until(() => c.frames.length === 7, 3000);
      assert.equal(c.frames[6]!.status, 20);
    } finally {
      c.close();
      await proxy.close();
    }
  });
});

describe('outlier detection', () => {
  let bad: FaultUpstream;
  let proxy: RunningMeltemi;
  before(async () => {
    bad = await startFaultUpstream('error-reply');
    proxy = await startMeltemi(
      bootstrapOf(
        [metaProtocolListener({ routes: [{ name: 'all', cluster: 'mixed' }] })],
        [
          staticCluster('mixed', [bad.port, good.port], {
            outlier_detection: { consecutive_5xx: 3, base_ejection_time: '0.8s', max_ejection_percent: 50 },
          }),
        ],
        undefined,
        ADMIN,
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await bad.close();
  });

  test('a host with consecutive error replies is ejected, traffic avoids it, and it returns after the ejection time', async () => {
    const first = await sequential(proxy.listenerPort('main'), 20);
    const errors = first.filter((r) => r.status !== 20).length;
    assert.equal(errors, 3, 'exactly the three errors that trigger the ejection');
    assert.ok(first.slice(10).every((r) => r.status === 20), 'after the ejection every call reaches the good host');
    assert.equal(await stat(proxy, 'cluster.mixed.outlier_detection_ejections_active'), 1);
    const clusters = await (await fetch(`http://127.0.0.1:${proxy.server.adminPort}/clusters`)).text();
    assert.match(clusters, new RegExp(`mixed::127\\.0\\.0\\.1:${bad.port}::health_flags::.*failed_outlier_check`));
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(await stat(proxy, 'cluster.mixed.outlier_detection_ejections_active'), 0);
    const later = await sequential(proxy.listenerPort('main'), 4);
    assert.ok(later.some((r) => r.status !== 20), 'the host is back in rotation');
  });
});

describe('retries', () => {
  test('a host that resets connections: retries on reset reach the other host; the client sees no error', async () => {
    const reset = await startFaultUpstream('reset');
    const proxy = await startMeltemi(
      bootstrapOf(
        [withRetry(metaProtocolListener({ routes: [{ name: 'all', cluster: 'flaky' }] }), { retry_on: 'reset,connect-failure', num_retries: 2 })],
        [staticCluster('flaky', [reset.port, good.port])],
        undefined,
        ADMIN,
      ),
    );
    const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
    try {
      for (let i = 0; i < 10; i++) assert.equal(await c.invoke('sayHello', [java.String(`r${i}`)]), `hello r${i} from good`);
      assert.ok((await stat(proxy, 'cluster.flaky.upstream_rq_retry')) >= 1);
      assert.ok(reset.received.length >= 1, 'the resetting host did get tries');
    } finally {
      await c.close();
      await proxy.close();
      await reset.close();
    }
  });

  test('error replies are retried with retry_on error-reply; without a retry policy they reach the client', async () => {
    const bad = await startFaultUpstream('error-reply');
    const withPolicy = await startMeltemi(
      bootstrapOf([withRetry(metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }] }), { retry_on: 'error-reply', num_retries: 3 })], [staticCluster('c', [bad.port, good.port])]),
    );
    const without = await startMeltemi(bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }] })], [staticCluster('c', [bad.port, good.port])]));
    try {
      const retried = await sequential(withPolicy.listenerPort('main'), 10);
      assert.ok(retried.every((r) => r.status === 20), JSON.stringify(retried));
      const plain = await sequential(without.listenerPort('main'), 10);
      assert.equal(plain.filter((r) => r.status === 80).length, 5, 'round robin sends half to the failing host');
    } finally {
      await withPolicy.close();
      await without.close();
      await bad.close();
    }
  });

  test('per-try timeout moves a stuck request to another host; one-way calls are never retried', async () => {
    const hole = await startFaultUpstream('blackhole');
    const proxy = await startMeltemi(
      bootstrapOf(
        [withRetry(metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }], extra: { request_timeout: '5s' } }), { retry_on: 'per-try-timeout,reset', num_retries: 2, per_try_timeout: '0.2s' })],
        [staticCluster('c', [hole.port, good.port])],
      ),
    );
    try {
      const t0 = performance.now();
      const replies = await sequential(proxy.listenerPort('main'), 4);
      assert.ok(replies.every((r) => r.status === 20));
      assert.ok(performance.now() - t0 < 3000);
      const raw = await RawDubboClient.connect(proxy.listenerPort('main'));
      const before = hole.received.length;
      for (let i = 0; i < 4; i++) raw.write(dubboRequest({ id: 100 + i, twoWay: false }));
      await new Promise((r) => setTimeout(r, 600));
      const oneways = hole.received.length - before;
      assert.ok(oneways <= 2, `one-way copies at the stuck host: ${oneways} (round robin gives it about half, never more)`);
      raw.close();
    } finally {
      await proxy.close();
      await hole.close();
    }
  });
});

describe('traffic mirroring', () => {
  test('the mirror gets copies; a dead or stuck mirror changes nothing for the main path; mirrors in flight are bounded', async () => {
    const mirror = await startSofaProvider({ name: 'mirror' });
    const hole = await startFaultUpstream('blackhole');
    const dead = await closedPort();
    const proxy = await startMeltemi(
      bootstrapOf(
        [
          withMirror(metaProtocolListener({ name: 'to-mirror', routes: [{ name: 'all', cluster: 'main' }] }), [{ cluster: 'mirror' }]),
          withMirror(metaProtocolListener({ name: 'to-dead', routes: [{ name: 'all', cluster: 'main' }] }), [{ cluster: 'dead' }, { cluster: 'hole' }]),
        ],
        [staticCluster('main', [good.port]), staticCluster('mirror', [mirror.port]), staticCluster('dead', [dead]), staticCluster('hole', [hole.port])],
        undefined,
        ADMIN,
      ),
    );
    try {
      const replies = await sequential(proxy.listenerPort('to-mirror'), 5);
      assert.ok(replies.every((r) => r.status === 20 && r.text.endsWith('from good')));
      const deadline = Date.now() + 3000;
      while (mirror.calls.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        mirror.calls.map((c) => c.args[0]),
        ['s0', 's1', 's2', 's3', 's4'],
      );
      // Dead and stuck mirrors: every main call still answers, and quickly.
      const c = await RawDubboClient.connect(proxy.listenerPort('to-dead'));
      const n = 1500;
      const t0 = performance.now();
      for (let i = 0; i < n; i += 100) {
        c.write(Buffer.concat(Array.from({ length: 100 }, (_, k) => dubboRequest({ id: i + k + 1 }))));
        await c.until(() => c.frames.length === i + 100, 10_000);
      }
      assert.ok(c.frames.every((f) => f.status === 20));
      assert.ok(performance.now() - t0 < 10_000);
      c.close();
      assert.ok((await stat(proxy, 'cluster.hole.mirror_rq_dropped')) > 0, 'copies beyond the in-flight bound are dropped');
      assert.ok((await stat(proxy, 'cluster.hole.mirror_rq_total')) <= 1024 + 10);
      assert.ok((await stat(proxy, 'cluster.dead.mirror_rq_failed')) >= 1);
    } finally {
      await proxy.close();
      await mirror.close();
      await hole.close();
    }
  });
});

/** Adds a retry policy to every route of a listener built by metaProtocolListener. */
function withRetry(listener: object, policy: object): object {
  return editRoutes(listener, (route) => ({ ...route, route: { ...(route['route'] as object), retry_policy: policy } }));
}

function withMirror(listener: object, mirrors: { cluster: string }[]): object {
  return editRoutes(listener, (route) => ({ ...route, route: { ...(route['route'] as object), request_mirror_policies: mirrors } }));
}

function editRoutes(listener: object, edit: (route: Record<string, unknown>) => object): object {
  const l = structuredClone(listener) as { filter_chains: { filters: { typed_config: { route_config: { routes: Record<string, unknown>[] } } }[] }[] };
  const rc = l.filter_chains[0]!.filters[0]!.typed_config.route_config;
  rc.routes = rc.routes.map((r) => edit(r) as Record<string, unknown>);
  return l;
}

describe('upstream heartbeats', () => {
  test('an idle upstream connection sends Dubbo heartbeats, and their replies go nowhere', async () => {
    const upstream = await startFaultUpstream('echo');
    const proxy = await startMeltemi(
      bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }] })], [staticCluster('c', [upstream.port])], { upstream_heartbeat_interval: '0.2s' }),
    );
    const c = await RawDubboClient.connect(proxy.listenerPort('main'));
    try {
      c.write(dubboRequest({ id: 1 }));
      await c.until(() => c.frames.length === 1);
      const deadline = Date.now() + 3000;
      while (!upstream.received.some((f) => f.flag === 0xe2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(upstream.received.some((f) => f.flag === 0xe2), 'a heartbeat request reached the upstream');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(c.frames.length, 1, 'the heartbeat replies are not forwarded to clients');
    } finally {
      c.close();
      await proxy.close();
      await upstream.close();
    }
  });
});
