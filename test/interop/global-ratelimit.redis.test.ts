/**
 * The global rate-limit filter against a real redis-server and the test rate-limit service
 * (tools/testing/ratelimit/rls-service.ts: RLS v3 on grpc-js, envoyproxy/ratelimit's
 * fixed-window counting in Redis, documented there). Upstream: a sofa-rpc-node provider.
 * In the `redis` suite: it needs the Debian package redis-server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { closeRlsChannels } from '../../filters/ratelimit/index.js';
import { snapshotQuantiles } from '../../proxy/observability/histogram.js';
import { RouteTable } from '../../proxy/route/route-table.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { startRedisServer } from '../../tools/testing/ratelimit/redis-server.js';
import type { RedisServer } from '../../tools/testing/ratelimit/redis-server.js';
import { startRlsService } from '../../tools/testing/ratelimit/rls-service.js';
import type { LimitRule, RlsService } from '../../tools/testing/ratelimit/rls-service.js';
import { countingForwarder, drive, rateLimitBootstrap, startChildMeltemi } from '../peers/ratelimit/setup.js';
import type { CallResult, ChildMeltemi } from '../peers/ratelimit/setup.js';

const OK = 20;
const OVER_LIMIT = 100;
/** Each test's listener has its own stat prefix: filter stats (and the breaker) are per prefix in a process. */
const rl = (statPrefix: string): string => `meta_protocol.dubbo.${statPrefix}.ratelimit.`;
/** The failure tests' deadline: 50 ms rather than the default 20, which a machine this loaded misses on healthy calls. */
const TIMEOUT_MS = 50;
/**
 * A request may wait in the filter at most the timeout plus 5 ms. The filter's own
 * `ratelimit.wait_ms` histogram (the first, longest-waiting request of every call) must
 * meet that, plus TIMER_SLACK_MS for timers firing late on a loaded shared machine. End to
 * end (proxy, upstream and the test's own client on the same cores) every call must be
 * answered within ANSWER_BOUND_MS.
 */
const TIMER_SLACK_MS = 10;

/**
 * Runs `load` while watching this process's event-loop delay: on a shared machine a timer
 * can fire late by that much, which the wait bound then allows on top of TIMER_SLACK_MS.
 */
async function withLoopDelay<T>(load: () => Promise<T>): Promise<{ result: T; loopDelayMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    const result = await load();
    return { result, loopDelayMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}
const ANSWER_BOUND_MS = 1000;

function counters(m: RunningMeltemi): Record<string, number> {
  const s = m.server.statsSnapshot();
  return { ...s.counters, ...s.gauges };
}

function latencies(rs: readonly CallResult[]): number[] {
  return rs.map((r) => r.doneAt - r.sentAt).sort((a, b) => a - b);
}

function assertWaitBounded(m: RunningMeltemi, RL: string, run: { result: readonly CallResult[]; loopDelayMs: number }, what: string): void {
  const rs = run.result;
  const slack = TIMER_SLACK_MS + run.loopDelayMs;
  const h = m.server.statsSnapshot().histograms[`${RL}wait_ms`];
  assert.ok(h !== undefined && h.count > 0, `${what}: no wait recorded`);
  const [p50, max] = snapshotQuantiles(h, [50, 100]);
  assert.ok(max! <= TIMEOUT_MS + 5 + slack, `${what}: a request waited ${max!.toFixed(1)} ms in the filter (p50 ${p50!.toFixed(1)}; event-loop delay up to ${run.loopDelayMs.toFixed(1)} ms)`);
  const l = latencies(rs);
  assert.ok(l[l.length - 1]! < ANSWER_BOUND_MS, `${what}: a call took ${l[l.length - 1]!.toFixed(0)} ms end to end`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `kill` once the service has answered some calls (so the load is checked before the
 * failure, however slow the machine), or after 3 s. Returns when it was run (performance.now()).
 */
function killOnceChecked(m: RunningMeltemi, RL: string, kill: () => void): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if ((counters(m)[`${RL}ok`] ?? 0) >= 10 || performance.now() - start > 3000) {
        clearInterval(poll);
        kill();
        resolve(performance.now());
      }
    }, 10);
  });
}

describe('global rate limit (RLS v3 through Redis)', () => {
  let redis: RedisServer;
  let provider: Provider;
  const services: RlsService[] = [];
  const proxies: RunningMeltemi[] = [];

  async function service(rules: LimitRule[], redisPort = redis.port): Promise<RlsService> {
    const s = await startRlsService(redisPort, 'production', rules);
    services.push(s);
    return s;
  }

  async function proxy(bootstrap: object): Promise<RunningMeltemi> {
    const p = await startMeltemi(bootstrap);
    proxies.push(p);
    return p;
  }

  before(async () => {
    redis = await startRedisServer();
    provider = await startSofaProvider({ name: 'rl' });
  });
  after(async () => {
    for (const p of proxies) await p.close();
    closeRlsChannels();
    for (const s of services) await s.close();
    await provider.close();
    await redis.kill();
  });

  test('a listener as Aeraki generates it: over the limit the call gets the over-limit reply and never reaches the upstream', async () => {
    const RL = rl('aeraki');
    const rls = await service([{ key: 'method', value: 'plus', requestsPerUnit: 3, unit: 'minute' }]);
    const m = await proxy(rateLimitBootstrap(provider.port, rls.port, { statPrefix: 'aeraki', match: { method: 'plus' }, timeout: '1s', descriptors: [{ property: 'method', descriptorKey: 'method' }] }));
    const raw = await RawDubboClient.connect(m.listenerPort('main'));
    try {
      const before = provider.calls.filter((c) => c.method === 'plus').length;
      for (let i = 1; i <= 6; i++) {
        raw.write(dubboRequest({ id: i, method: 'plus', desc: 'II', args: [1, 2] }));
        await raw.until(() => raw.frames.length >= i, 3000, `answer ${i}`);
      }
      assert.deepEqual(
        raw.frames.map((f) => f.status),
        [OK, OK, OK, OVER_LIMIT, OVER_LIMIT, OVER_LIMIT],
      );
      assert.match(raw.frames[3]!.body.toString('latin1'), /meta protocol global ratelimit: request '4' has been rate limited/);
      assert.equal(provider.calls.filter((c) => c.method === 'plus').length - before, 3, 'limited calls never reach the provider');
      // sayHello does not match: no service call, no promise.
      raw.write(dubboRequest({ id: 7 }));
      await raw.until(() => raw.frames.length >= 7);
      assert.equal(raw.frames[6]!.status, OK);
      const c = counters(m);
      assert.equal(c[`${RL}total`], 6);
      assert.equal(c[`${RL}ok`], 3);
      assert.equal(c[`${RL}over_limit`], 3);
      assert.equal(c[`${RL}error`], 0);
      assert.equal(rls.seen.length, 6);
      assert.deepEqual(rls.seen[0], { domain: 'production', descriptors: [[{ key: 'method', value: 'plus' }]], hits: 1 });
    } finally {
      raw.close();
    }
  });

  test('three Meltemi processes share one limit of 100/s on one method within ±5%', async () => {
    const RL = rl('shared');
    const rls = await service([{ key: 'method', value: 'sayHello', requestsPerUnit: 100, unit: 'second' }]);
    // A generous deadline: this test is about sharing, and a call that failed open would
    // pass uncounted.
    const boot = rateLimitBootstrap(provider.port, rls.port, { statPrefix: 'shared', match: { method: 'sayHello' }, timeout: '1s', descriptors: [{ property: 'method', descriptorKey: 'method' }] });
    const children: ChildMeltemi[] = await Promise.all([0, 1, 2].map(() => startChildMeltemi(boot)));
    try {
      // Start on a second boundary, so the windows in the middle are whole.
      await sleep(1000 - (Date.now() % 1000) + 5);
      const start = Math.floor(Date.now() / 1000);
      const runs = await Promise.all(children.map((c) => drive(c.port, { connections: 4, durationMs: 4000, pauseMs: 0, depth: 8, answerTimeoutMs: 10_000 })));
      const all = runs.flat();
      const odd = all.filter((r) => r.status !== OK && r.status !== OVER_LIMIT);
      assert.deepEqual(odd.map((r) => r.status).slice(0, 5), [], 'every call answered, with the upstream reply or the over-limit reply (-1: no answer)');
      const allowed = all.filter((r) => r.status === OK).length;
      const stats = await Promise.all(children.map((c) => c.counters()));
      const sum = (k: string): number => stats.reduce((a, s) => a + (s[`${RL}${k}`] ?? 0), 0);
      assert.equal(sum('error'), 0, 'no call failed open uncounted');
      assert.equal(sum('total'), all.length);
      assert.equal(sum('ok'), allowed);
      assert.equal(sum('over_limit'), all.length - allowed);
      // What the three proxies let through is what the service counted, window by window.
      const counted = [...rls.allowedByWindow.values()].reduce((a, b) => a + b, 0);
      assert.equal(counted, allowed, 'the proxies let through exactly the hits the service allowed');
      const whole = [start + 1, start + 2, start + 3].map((w) => rls.allowedByWindow.get(w) ?? 0);
      const offered = all.length / 4;
      for (const n of whole) assert.ok(n >= 95 && n <= 105, `allowed per 1 s window ${whole.join(', ')} (offered ${offered.toFixed(0)}/s)`);
      console.log(`shared limit: allowed per window ${whole.join(', ')}; offered ${offered.toFixed(0)}/s; RLS calls per request ${(sum('rls_calls') / all.length).toFixed(3)}`);
    } finally {
      await Promise.all(children.map((c) => c.close()));
    }
  });

  test('service killed mid-load: fail open, every call answered at once, errors counted', async () => {
    const RL = rl('killopen');
    const rls = await service([{ key: 'method', value: 'sayHello', requestsPerUnit: 100000, unit: 'second' }]);
    const m = await proxy(rateLimitBootstrap(provider.port, rls.port, { statPrefix: 'killopen', timeout: `${TIMEOUT_MS / 1000}s`, match: { method: 'sayHello' }, descriptors: [{ property: 'method', descriptorKey: 'method' }] }));
    const killed = killOnceChecked(m, RL, () => rls.kill());
    const run = await withLoopDelay(() => drive(m.listenerPort('main'), { connections: 4, durationMs: 3500, pauseMs: 2 }));
    await killed;
    const rs = run.result;
    assert.ok(rs.every((r) => r.status === OK), 'fail open: every call reaches the upstream');
    assertWaitBounded(m, RL, run, 'fail open');
    const c = counters(m);
    assert.ok(c[`${RL}ok`]! > 0, 'calls were checked before the kill');
    assert.ok(c[`${RL}error`]! > 0, 'errors after the kill');
    assert.equal(c[`${RL}failure_mode_allowed`], c[`${RL}error`]);
    assert.equal(c[`${RL}ok`]! + c[`${RL}error`]!, rs.length);
    assert.ok(c[`${RL}circuit_breaker_opened`]! >= 1, 'the breaker opened');
  });

  test('service killed mid-load with failure_mode_deny: every call answered with the over-limit reply', async () => {
    const RL = rl('killdeny');
    const rls = await service([{ key: 'method', value: 'sayHello', requestsPerUnit: 100000, unit: 'second' }]);
    const m = await proxy(
      rateLimitBootstrap(provider.port, rls.port, { statPrefix: 'killdeny', timeout: `${TIMEOUT_MS / 1000}s`, match: { method: 'sayHello' }, failureModeDeny: true, descriptors: [{ property: 'method', descriptorKey: 'method' }] }),
    );
    const killed = killOnceChecked(m, RL, () => rls.kill());
    const run = await withLoopDelay(() => drive(m.listenerPort('main'), { connections: 4, durationMs: 3500, pauseMs: 2 }));
    const killedAt = await killed;
    const rs = run.result;
    assert.ok(rs.every((r) => r.status === OK || r.status === OVER_LIMIT), 'every call answered');
    const late = rs.filter((r) => r.sentAt > killedAt + 50);
    assert.ok(late.length > 0 && late.every((r) => r.status === OVER_LIMIT), 'fail closed after the kill');
    assertWaitBounded(m, RL, run, 'fail closed');
    const c = counters(m);
    assert.ok(c[`${RL}error`]! >= late.length);
    assert.equal(c[`${RL}failure_mode_allowed`], 0);
  });

  test('Redis killed mid-load: the service errs, calls fail open, errors counted', async () => {
    const RL = rl('rediskill');
    const ownRedis = await startRedisServer();
    try {
      const rls = await service([{ key: 'method', value: 'sayHello', requestsPerUnit: 100000, unit: 'second' }], ownRedis.port);
      const m = await proxy(rateLimitBootstrap(provider.port, rls.port, { statPrefix: 'rediskill', timeout: `${TIMEOUT_MS / 1000}s`, match: { method: 'sayHello' }, descriptors: [{ property: 'method', descriptorKey: 'method' }] }));
      const killed = killOnceChecked(m, RL, () => void ownRedis.kill());
      const run = await withLoopDelay(() => drive(m.listenerPort('main'), { connections: 4, durationMs: 3500, pauseMs: 2 }));
      await killed;
      const rs = run.result;
      assert.ok(rs.every((r) => r.status === OK));
      assertWaitBounded(m, RL, run, 'redis killed');
      const c = counters(m);
      assert.ok(c[`${RL}ok`]! > 0);
      assert.ok(c[`${RL}error`]! > 0);
      assert.equal(c[`${RL}failure_mode_allowed`], c[`${RL}error`]);
    } finally {
      await ownRedis.kill();
    }
  });

  test('a service slower than the timeout: calls pass after the timeout, then the breaker answers at once, and closes when the service recovers', async () => {
    const RL = rl('slow');
    const rls = await service([{ key: 'method', value: 'sayHello', requestsPerUnit: 100000, unit: 'second' }]);
    rls.delayMs = 200;
    const m = await proxy(rateLimitBootstrap(provider.port, rls.port, { statPrefix: 'slow', timeout: `${TIMEOUT_MS / 1000}s`, match: { method: 'sayHello' }, descriptors: [{ property: 'method', descriptorKey: 'method' }] }));
    const run = await withLoopDelay(() => drive(m.listenerPort('main'), { connections: 4, durationMs: 800, pauseMs: 2 }));
    const rs = run.result;
    assert.ok(rs.every((r) => r.status === OK));
    assertWaitBounded(m, RL, run, 'slow service');
    let c = counters(m);
    assert.ok(c[`${RL}error`]! > 0 && c[`${RL}ok`] === 0);
    assert.equal(c[`${RL}circuit_breaker_state`], 1, 'open');
    assert.ok(c[`${RL}circuit_breaker_rejected`]! > 0, 'answered by the open breaker');
    // Once open, the breaker answers at once: many calls did not wait for the timeout.
    const waited = latencies(rs).filter((l) => l >= TIMEOUT_MS).length;
    assert.ok(waited < rs.length / 2, `${waited} of ${rs.length} calls waited for the timeout`);
    // Recovered: after the breaker's reset time a probe call closes it. On a loaded machine
    // a probe can itself miss the 20 ms deadline, so a few rounds are allowed.
    rls.delayMs = 0;
    for (let round = 0; round < 5 && counters(m)[`${RL}circuit_breaker_state`] !== 0; round++) {
      await sleep(1100);
      const after = await drive(m.listenerPort('main'), { connections: 1, durationMs: 100, pauseMs: 5 });
      assert.ok(after.every((r) => r.status === OK));
    }
    c = counters(m);
    assert.equal(c[`${RL}circuit_breaker_state`], 0, 'closed after a good probe');
    assert.ok(c[`${RL}ok`]! > 0);
  });

  test('descriptors from interface, method and an attachment; a MetaRDS route update changes them without reconnects', async () => {
    const RL = rl('routes');
    const rls = await service([{ key: 'tenant', value: 'gold', requestsPerUnit: 2, unit: 'minute' }]);
    const descriptors = [
      { property: 'interface', descriptorKey: 'service' },
      { property: 'method', descriptorKey: 'method' },
      { property: 'tenant', descriptorKey: 'tenant' },
    ];
    // The proxy reaches the service through a forwarder that counts its TCP connections.
    const fwd = await countingForwarder(rls.port);
    const m = await proxy(rateLimitBootstrap(provider.port, fwd.port, { statPrefix: 'routes', timeout: '1s', descriptors }));
    const raw = await RawDubboClient.connect(m.listenerPort('main'));
    try {
      const call = async (id: number): Promise<number> => {
        raw.write(dubboRequest({ id, attachments: { tenant: 'silver' } }));
        await raw.until(() => raw.frames.length >= id, 3000, `answer ${id}`);
        return raw.frames[id - 1]!.status;
      };
      for (let i = 1; i <= 3; i++) assert.equal(await call(i), OK, 'silver has no limit');
      assert.deepEqual(rls.seen[0]!.descriptors, [
        [{ key: 'service', value: 'com.example.DemoService' }],
        [{ key: 'method', value: 'sayHello' }],
        [{ key: 'tenant', value: 'silver' }],
      ]);
      // MetaRDS pushes a route whose request mutation sets tenant=gold: the descriptor follows.
      m.server.setListenerRoutes('main', new RouteTable({ name: 'routes', routes: [{ name: 'gold', route: { cluster: 'demo' }, request_mutation: [{ key: 'tenant', value: 'gold' }] }] }));
      assert.deepEqual([await call(4), await call(5), await call(6)], [OK, OK, OVER_LIMIT], 'gold is limited to 2');
      assert.deepEqual(rls.seen[3]!.descriptors[2], [{ key: 'tenant', value: 'gold' }]);
      assert.equal(raw.closed, false, 'the client connection stayed open');
      assert.equal(fwd.accepted(), 1, 'one connection to the rate-limit service for all six calls');
      const c = counters(m);
      assert.equal(c[`${RL}total`], 6);
      assert.equal(c[`${RL}rls_calls`], 6);
    } finally {
      raw.close();
      await fwd.close();
    }
  });
});
