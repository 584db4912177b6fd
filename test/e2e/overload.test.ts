/**
 * Overload protection (issue 13): connection limits per listener and per process, and the
 * two heap watermarks (refuse connections; answer new requests with the overload error),
 * configured in `meltemi.overload` or Envoy's `overload_manager`. The process survives
 * 20k connection attempts and a flood of large requests with bounded memory.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let echo: FaultUpstream;
let blackhole: FaultUpstream;
before(async () => {
  echo = await startFaultUpstream('echo');
  blackhole = await startFaultUpstream('blackhole');
});
after(async () => {
  await echo.close();
  await blackhole.close();
});

/** Opens `n` connections at once; resolves with the ones still open after `settleMs`. */
async function openMany(port: number, n: number, settleMs = 300): Promise<net.Socket[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.on('error', () => undefined);
          s.once('connect', () => resolve(s));
          s.once('close', () => resolve(s));
        }),
    ),
  );
  await sleep(settleMs);
  return sockets.filter((s) => !s.destroyed && !s.readableEnded);
}

test('connection limits: per listener, then per process; a freed place is taken again', async () => {
  const listeners = ['a', 'b'].map((name) => metaProtocolListener({ name, routes: [{ name: 'all', cluster: 'echo' }] }));
  const proxy = await startMeltemi(bootstrapOf(listeners, [staticCluster('echo', [echo.port])], { overload: { max_connections_per_listener: 30, max_downstream_connections: 50 } }));
  try {
    const a = await openMany(proxy.listenerPort('a'), 40);
    assert.equal(a.length, 30, 'listener a keeps 30');
    const b = await openMany(proxy.listenerPort('b'), 40);
    assert.equal(b.length, 20, 'listener b gets what the global limit leaves');
    assert.equal(proxy.server.listenerStats('a').downstream_cx_overflow, 10);
    assert.equal(proxy.server.listenerStats('b').downstream_global_cx_overflow, 20);
    for (const s of a.slice(0, 5)) s.destroy();
    await sleep(200);
    const more = await openMany(proxy.listenerPort('b'), 5);
    assert.equal(more.length, 5);
    // The accepted connections work.
    const reply = new Promise<Buffer>((resolve) => more[0]!.once('data', resolve));
    more[0]!.write(dubboRequest({ id: 1 }));
    assert.equal((await reply)[3], 20, 'status OK');
    const snap = proxy.server.statsSnapshot();
    assert.equal(snap.gauges['overload.envoy.resource_monitors.global_downstream_max_connections.active'], 50);
    for (const s of [...a, ...b, ...more]) s.destroy();
  } finally {
    await proxy.close();
  }
});

test('20k connection attempts against a limit of 500: the process stays up, memory stays bounded, calls still work', async (t) => {
  const proxy = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'echo' }] })], [staticCluster('echo', [echo.port])], { overload: { max_downstream_connections: 500 } }),
  );
  try {
    const port = proxy.listenerPort('main');
    const rss0 = process.memoryUsage().rss;
    let peakRss = rss0;
    const kept: net.Socket[] = [];
    for (let done = 0; done < 20_000; done += 1000) {
      const open = await openMany(port, 1000, 100);
      // Hold the first 500 accepted for the whole run, so the limit bites on every batch.
      for (const s of open) {
        if (kept.length < 500) kept.push(s);
        else s.destroy();
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const stats = proxy.server.listenerStats('main');
    t.diagnostic(`20k attempts: ${stats.cx_total} accepted, ${stats.downstream_global_cx_overflow} refused, rss +${((peakRss - rss0) / 1048576).toFixed(0)} MiB`);
    assert.ok(stats.downstream_global_cx_overflow >= 18_000, `refused ${stats.downstream_global_cx_overflow}`);
    assert.ok(stats.cx_active <= 500);
    // Client and proxy sockets share this process: 200 MiB covers both with room to spare.
    assert.ok(peakRss - rss0 < 200 * 1024 * 1024, `rss grew ${((peakRss - rss0) / 1048576).toFixed(0)} MiB`);
    for (const s of kept) s.destroy();
    await sleep(300);
    const c = await RawDubboClient.connect(port);
    c.write(dubboRequest({ id: 1 }));
    await c.until(() => c.frames.length === 1);
    assert.equal(c.frames[0]!.status, 20);
    c.close();
  } finally {
    await proxy.close();
  }
});

test('heap past the request watermark: new requests get the overload error (Dubbo 100); past the connection one: refused', async () => {
  const rejecting = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'echo' }] })], [staticCluster('echo', [echo.port])], {
      overload: { heap_stop_accepting_requests_bytes: 1, refresh_interval: '0.05s' },
    }),
  );
  try {
    const upstreamBefore = echo.received.length;
    const c = await RawDubboClient.connect(rejecting.listenerPort('main'));
    c.write(Buffer.concat([dubboRequest({ id: 1 }), dubboRequest({ id: 2 })]));
    await c.until(() => c.frames.length === 2);
    assert.deepEqual(
      c.frames.map((f) => f.status),
      [100, 100],
    );
    assert.equal(echo.received.length, upstreamBefore, 'nothing went upstream');
    assert.equal(rejecting.server.listenerStats('main').request_overload_reject, 2);
    assert.equal(rejecting.server.statsSnapshot().gauges['overload.envoy.overload_actions.stop_accepting_requests.active'], 1);
    c.close();
  } finally {
    await rejecting.close();
  }
  // The same through Envoy's overload_manager, with the connection watermark.
  const refusing = await startMeltemi({
    ...bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'echo' }] })], [staticCluster('echo', [echo.port])]),
    overload_manager: {
      refresh_interval: '0.05s',
      resource_monitors: [{ name: 'envoy.resource_monitors.fixed_heap', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig', max_heap_size_bytes: 1000 } }],
      actions: [{ name: 'envoy.overload_actions.stop_accepting_connections', triggers: [{ name: 'envoy.resource_monitors.fixed_heap', threshold: { value: 0.5 } }] }],
    },
  });
  try {
    const open = await openMany(refusing.listenerPort('main'), 10);
    assert.equal(open.length, 0);
    assert.equal(refusing.server.listenerStats('main').downstream_cx_overload_reject, 10);
  } finally {
    await refusing.close();
  }
});

test('a flood of large requests to an upstream that never answers: memory stays bounded by the heap watermark', async (t) => {
  const heap0 = process.memoryUsage();
  const watermark = heap0.heapUsed + heap0.external + 64 * 1024 * 1024;
  const proxy = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'hole', timeout: '1s' }] })], [staticCluster('hole', [blackhole.port])], {
      overload: { heap_stop_accepting_requests_bytes: watermark, refresh_interval: '0.05s' },
    }),
  );
  try {
    const port = proxy.listenerPort('main');
    const big = dubboRequest({ id: 1, args: ['z'.repeat(1024 * 1024)] });
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawDubboClient.connect(port)));
    for (let round = 0; round < 30; round++) {
      for (const c of clients) c.write(big);
      await sleep(50);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const stats = proxy.server.listenerStats('main');
    await clients[0]!.until(() => stats.request_overload_reject > 0, 5000, 'overload replies');
    t.diagnostic(`flood: ${stats.request_overload_reject} overload replies, rss +${((peak - rss0) / 1048576).toFixed(0)} MiB`);
    // 240 MiB were sent; what this process holds (proxy, clients and upstream together) stays
    // well under that: the proxy stops taking requests near its watermark (+64 MiB).
    assert.ok(peak - rss0 < 180 * 1024 * 1024, `rss grew ${((peak - rss0) / 1048576).toFixed(0)} MiB`);
    const statuses = new Set(clients.flatMap((c) => c.frames.map((f) => f.status)));
    assert.ok([...statuses].every((s) => s === 100 || s === 31), `statuses ${[...statuses].join(',')}`);
    for (const c of clients) c.close();
    // The proxy is up and answers at once: a fresh client gets the overload error or, once the
    // heap went back under the watermark, the upstream's timeout.
    const fresh = await RawDubboClient.connect(port);
    fresh.write(dubboRequest({ id: 99 }));
    await fresh.until(() => fresh.frames.length === 1, 5000, 'a reply to a fresh client');
    assert.ok([100, 31].includes(fresh.frames[0]!.status));
    fresh.close();
  } finally {
    await proxy.close();
  }
});

test('overload config: Envoy fields that cannot be honoured are refused by path; a limit set twice is an error', () => {
  const base = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'echo' }] })], [staticCluster('echo', [1])]);
  assert.throws(
    () => compileBootstrap({ ...base, overload_manager: { actions: [{ name: 'envoy.overload_actions.disable_http_keepalive', triggers: [] }] } }),
    /overload_manager\.actions\[0\]\.name: overload action "envoy\.overload_actions\.disable_http_keepalive" is not supported/,
  );
  assert.throws(
    () => compileBootstrap({ ...base, overload_manager: { resource_monitors: [{ name: 'envoy.resource_monitors.cpu_utilization' }] } }),
    /overload_manager\.resource_monitors\[0\]\.name: resource monitor/,
  );
  assert.throws(
    () =>
      compileBootstrap({
        ...base,
        meltemi: { overload: { max_downstream_connections: 10 } },
        overload_manager: { resource_monitors: [{ name: 'envoy.resource_monitors.global_downstream_max_connections', typed_config: { max_active_downstream_connections: 5 } }] },
      }),
    /meltemi\.overload\.max_downstream_connections: also set by overload_manager/,
  );
  const ok = compileBootstrap({
    ...base,
    overload_manager: { resource_monitors: [{ name: 'envoy.resource_monitors.global_downstream_max_connections', typed_config: { max_active_downstream_connections: '5' } }] },
  });
  assert.equal(ok.settings.overload.maxDownstreamConnections, 5);
});
