/**
 * The router's forward path against fakes at the upstream API: the router filter, cluster
 * admission, the host choice (hash policy, subset, no host, overflow) and the local replies
 * each failure becomes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus, OVERFLOW } from '../../filters/api/index.js';
import type { FilterExchange } from '../../filters/api/index.js';
import { routerFilterFactory } from '../../filters/router/index.js';
import { FakeCluster, FakeRequest, metadataOf, routeOf } from './router-fakes.js';

describe('router filter', () => {
  function exchangeWith(route: ReturnType<typeof routeOf> | undefined): { ex: FilterExchange; log: string[] } {
    const log: string[] = [];
    const ex = {
      downstreamRequestId: 42,
      route: () => route,
      setRequestHeader: (k: string, v: string) => log.push(`set ${k}=${v}`),
      sendLocalReply: (e: ErrorType, text: string) => log.push(`reply ${ErrorType[e]}: ${text}`),
      forward: (cluster: string) => log.push(`forward ${cluster}`),
    } as unknown as FilterExchange;
    return { ex, log };
  }

  test('no route: RouteNotFound with the request id; otherwise the mutation applies, then the forward', () => {
    const router = routerFilterFactory.create(undefined)();
    const none = exchangeWith(undefined);
    assert.equal(router.onRequest(none.ex), FilterStatus.Stop);
    assert.deepEqual(none.log, ["reply RouteNotFound: meta protocol router: no matched route for request '42'"]);
    const some = exchangeWith(routeOf({ requestMutation: new Map([['x-env', 'canary']]), pickCluster: (r) => (r < 0.5 ? 'a' : 'b') }));
    assert.equal(router.onRequest(some.ex), FilterStatus.Stop);
    assert.equal(some.log[0], 'set x-env=canary');
    assert.match(some.log[1]!, /^forward (a|b)$/);
  });

  test('the router takes no settings', () => {
    assert.throws(() => routerFilterFactory.create({ '@type': 'x', foo: 1 }), /takes no settings \(got foo\)/);
  });
});

describe('admission and host choice', () => {
  test('an unknown cluster answers ClusterNotFound', () => {
    const req = new FakeRequest([new FakeCluster('c')], routeOf());
    req.forward('nope');
    assert.deepEqual(req.reply, { error: ErrorType.ClusterNotFound, text: "meta protocol router: unknown cluster 'nope'" });
  });

  test('max_requests: a request over the limit answers OverLimit at once and is counted as an overflow', () => {
    const c = new FakeCluster('c');
    c.maxRequests = 1;
    const first = new FakeRequest([c], routeOf());
    first.forward('c');
    const second = new FakeRequest([c], routeOf());
    second.forward('c');
    assert.deepEqual(second.reply, { error: ErrorType.OverLimit, text: "meta protocol upstream request: too many requests to 'c' (circuit breaker)" });
    assert.equal(c.stats.upstream_rq_pending_overflow, 1);
    assert.equal(c.stats.upstream_rq_total, 1, 'the refused request never counted as sent');
    assert.equal(second.sends, 0);
  });

  test('no healthy host answers NoHealthyUpstream', () => {
    const c = new FakeCluster('c', 0);
    const req = new FakeRequest([c], routeOf());
    req.forward('c');
    assert.deepEqual(req.reply, { error: ErrorType.NoHealthyUpstream, text: "meta protocol router: no healthy upstream for 'c'" });
    assert.equal(req.lastHost, undefined);
    assert.equal(c.stats.upstream_rq_error, 1);
  });

  test('an overflow pick, or a connection past max_pending_requests, answers OverLimit', () => {
    for (const how of ['pick', 'bind'] as const) {
      const c = new FakeCluster('c');
      const req = new FakeRequest([c], routeOf());
      if (how === 'pick') c.script.push(OVERFLOW);
      else req.refuseBind = true;
      req.forward('c');
      assert.deepEqual(req.reply, { error: ErrorType.OverLimit, text: "meta protocol upstream request: too many pending requests to 'c' (circuit breaker)" }, how);
      assert.equal(c.stats.upstream_rq_pending_overflow, 1, how);
      assert.equal(req.sends, 0, how);
      assert.equal(c.stats.upstream_rq_active, 0, how);
    }
  });

  test('a request the codec cannot encode answers BadRequest', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf());
    req.unencodable = 'attachment too large';
    req.forward('c');
    assert.deepEqual(req.reply, { error: ErrorType.BadRequest, text: 'meta protocol router: attachment too large' });
  });

  test('the pick gets the route’s hash policy over the request metadata and its subset', () => {
    const c = new FakeCluster('c');
    const subset = { key: '[["version","v2"]]', entries: [['version', 'v2']] as const };
    const req = new FakeRequest([c], routeOf({ hashKeys: ['user', 'tenant'], subset }), metadataOf({ user: 'u7', tenant: 't1' }));
    req.forward('c');
    assert.deepEqual(c.picks, [{ avoid: undefined, hashKeys: ['user', 'tenant'], subset: subset.key, hashed: ['u7', 't1'] }]);
  });

  test('the counters of a forwarded request: total, active, bytes; settled when it ends', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf());
    req.forward('c');
    assert.deepEqual([c.stats.upstream_rq_total, c.stats.upstream_rq_active, c.stats.upstream_rq_tx_bytes], [1, 1, 100]);
    assert.deepEqual([c.hosts[0]!.stats.rq_total, c.hosts[0]!.stats.rq_active], [1, 1]);
    req.sendLocalReply(ErrorType.Unspecified, 'gone');
    assert.deepEqual([c.stats.upstream_rq_active, c.stats.upstream_rq_error], [0, 1]);
    assert.deepEqual([c.hosts[0]!.stats.rq_active, c.hosts[0]!.stats.rq_error], [0, 1]);
  });
});
