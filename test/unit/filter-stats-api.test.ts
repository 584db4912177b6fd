/**
 * The stats API filters get (FilterContext.stats / rootStats), on its own: names and tags,
 * scopes, the move from a listener's own registry to its server's when the server adopts
 * the listener, and stats that survive a listener update. Also how a chain is built: the
 * response order and the end-of-exchange hooks are worked out once, not per request.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FilterStatus } from '../../filters/api/index.js';
import type { Filter } from '../../filters/api/index.js';
import { filterChainBuilder } from '../../proxy/downstream/filter-chain.js';
import { ListenerFilterContext, directionOf } from '../../proxy/observability/filter-context.js';
import type { FilterEnvironment } from '../../proxy/observability/filter-context.js';
import { StatsRegistry } from '../../proxy/observability/stats-registry.js';
import { emptySnapshot } from '../../proxy/observability/stats-snapshot.js';
import type { StatsSnapshot } from '../../proxy/observability/stats-snapshot.js';

function environment(statsEnabled = true): FilterEnvironment {
  return { stats: new StatsRegistry(), statsEnabled, node: { id: 'sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local', metadata: { NAMESPACE: 'ns' } } };
}

function snapshotOf(registry: StatsRegistry): StatsSnapshot {
  const snap = emptySnapshot();
  registry.collect(snap);
  return snap;
}

describe('filter stats API', () => {
  test("names go under the scope's prefix; tags make a Prometheus-style series", () => {
    const env = environment();
    const ctx = new ListenerFilterContext('meta_protocol.dubbo.in.', 'inbound');
    ctx.bind(env);
    const scope = ctx.stats.scope('guard');
    assert.equal(scope.prefix, 'meta_protocol.dubbo.in.guard.');
    scope.counter('denied').inc();
    scope.counter('denied').inc(2);
    ctx.rootStats.counter('guard_requests_total', [['reporter', 'destination'], ['code', 'a"b']]).inc();
    scope.gauge('open').set(3);
    scope.gauge('open').add(-1);
    scope.histogram('wait_ms').record(2.5);
    const snap = snapshotOf(env.stats);
    assert.equal(snap.counters['meta_protocol.dubbo.in.guard.denied'], 3, 'one series for one name');
    assert.equal(snap.counters['guard_requests_total{reporter="destination",code="a\\"b"}'], 1);
    assert.equal(snap.gauges['meta_protocol.dubbo.in.guard.open'], 2);
    assert.equal(snap.histograms['meta_protocol.dubbo.in.guard.wait_ms']?.count, 1);
  });

  test('stats made before the server adopts the listener move to its registry with their values', () => {
    const ctx = new ListenerFilterContext('p.', 'outbound');
    const c = ctx.stats.counter('early');
    const g = ctx.stats.gauge('state');
    const h = ctx.stats.histogram('ms');
    c.inc(5);
    g.set(2);
    h.record(1);
    h.record(200);
    const env = environment();
    env.stats.counter('p.early').value = 10; // the same name from the previous listener generation
    ctx.bind(env);
    c.inc();
    h.record(3);
    const snap = snapshotOf(env.stats);
    assert.equal(snap.counters['p.early'], 16);
    assert.equal(c.value, 16, 'the handle reads the shared series');
    assert.equal(snap.gauges['p.state'], 2);
    assert.equal(snap.histograms['p.ms']?.count, 3);
    assert.equal(snapshotOf(ctx.registry).counters['p.early'], 16, 'the context now reads the server registry');
  });

  test('a listener update (a new context, the same names) continues the same counters', () => {
    const env = environment();
    const first = new ListenerFilterContext('l.', 'unspecified');
    first.bind(env);
    const old = first.stats.counter('n');
    old.inc(4);
    const second = new ListenerFilterContext('l.', 'unspecified');
    const fresh = second.stats.counter('n');
    second.bind(env);
    fresh.inc();
    old.inc(); // an exchange of the old generation still draining
    assert.equal(snapshotOf(env.stats).counters['l.n'], 6);
  });

  test('enabled, node and direction come from the server and the listener', () => {
    const ctx = new ListenerFilterContext('x.', directionOf('OUTBOUND'));
    assert.equal(ctx.direction, 'outbound');
    assert.equal(ctx.node.id, '', 'no node before the server adopts the listener');
    ctx.bind(environment(false));
    assert.equal(ctx.stats.enabled, false);
    assert.equal(ctx.rootStats.enabled, false);
    assert.equal(ctx.node.metadata['NAMESPACE'], 'ns');
    assert.equal(directionOf('INBOUND'), 'inbound');
    assert.equal(directionOf(undefined), 'unspecified');
  });

  test('two servers in one process keep their own stats', () => {
    const a = environment();
    const b = environment();
    const ca = new ListenerFilterContext('s.', 'inbound');
    const cb = new ListenerFilterContext('s.', 'inbound');
    ca.bind(a);
    cb.bind(b);
    ca.stats.counter('n').inc();
    assert.equal(snapshotOf(a.stats).counters['s.n'], 1);
    assert.equal(snapshotOf(b.stats).counters['s.n'], undefined);
  });
});

describe('filter chain building', () => {
  const log: string[] = [];
  const plain: Filter = { onRequest: () => FilterStatus.Continue };
  const withHooks = (name: string): Filter => ({
    onRequest: () => FilterStatus.Continue,
    onResponse: () => void log.push(`${name}.response`),
    onComplete: () => void log.push(`${name}.complete`),
  });

  test('a chain without onComplete has no completion step, and a shared chain is built once', () => {
    const build = filterChainBuilder([() => plain, () => plain]);
    const chain = build();
    assert.equal(chain.completion, undefined);
    assert.deepEqual(chain.responders, []);
    assert.equal(build(), chain, 'the same chain object for every exchange');
  });

  test('responders and completers are in reverse order; the runtime hooks come after the filters', () => {
    const a = withHooks('a');
    const b = withHooks('b');
    const runtime = { onComplete: (): void => void log.push('access-log') };
    const chain = filterChainBuilder([() => a, () => plain, () => b], [runtime])();
    assert.deepEqual(chain.filters, [a, plain, b]);
    assert.deepEqual(chain.responders, [b, a]);
    assert.deepEqual(chain.completion?.filters, [b, a]);
    assert.deepEqual(chain.completion?.runtime, [runtime]);
    const onlyRuntime = filterChainBuilder([() => plain], [runtime])();
    assert.deepEqual(onlyRuntime.completion?.filters, [], 'an access log alone still completes');
  });

  test('per-exchange filters get a fresh chain in the same order', () => {
    const build = filterChainBuilder([() => withHooks('x'), () => plain]);
    const one = build();
    const two = build();
    assert.notEqual(one.filters[0], two.filters[0]);
    assert.equal(one.completion?.filters[0], one.filters[0]);
  });
});
