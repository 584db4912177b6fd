/**
 * The router's tries and retries against fakes at the upstream API: retry_on conditions,
 * num_retries, the failed host avoided, per-try timeouts, max_retries and the request
 * timeout. (Back-off timers are real and 1-2 ms long here.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorType, ResponseStatus } from '../../codecs/api/index.js';
import { backOff, FakeCluster, FakeRequest, response, routeOf } from './router-fakes.js';

describe('retries', () => {
  test('an error reply is retried under retry_on error-reply, on another host, and the answer reaches the client', async () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['error-reply'], numRetries: 2 }));
    req.forward('c');
    assert.deepEqual(req.bound, ['10.0.0.1:20880']);
    req.onUpstreamResponse(response(ResponseStatus.Error));
    assert.equal(req.done, false, 'not answered: a retry is due');
    assert.equal(req.forgets, 1, 'the failed try is forgotten on its connection');
    await backOff();
    assert.deepEqual(req.bound, ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.equal(c.picks[1]!.avoid, '10.0.0.1:20880', 'the retry asks the balancer to avoid the failed host');
    req.onUpstreamResponse(response(ResponseStatus.Ok, 33));
    assert.equal(req.outcome, 'response');
    assert.deepEqual(c.reports, [
      ['10.0.0.1:20880', false],
      ['10.0.0.2:20880', true],
    ]);
    assert.equal(c.stats.upstream_rq_retry, 1);
    assert.equal(c.stats.upstream_rq_retry_success, 1);
    assert.equal(c.stats.upstream_rs_rx_bytes, 33);
    assert.equal(c.retriesActive, 0, 'the retry slot is given back');
    assert.equal(c.stats.upstream_rq_active, 0);
    assert.deepEqual(
      c.hosts.map((h) => [h.stats.rq_total, h.stats.rq_active, h.stats.rq_success]),
      [
        [1, 0, 0],
        [1, 0, 1],
      ],
    );
    assert.equal(req.firstTries, 1, 'tracing hears of the first try only');
  });

  test('a failure outside retry_on reaches the client as it is', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['error-reply'] }));
    req.forward('c');
    req.onUpstreamFailure(ErrorType.UpstreamReset, 'meta protocol upstream request: reset');
    assert.deepEqual(req.reply, { error: ErrorType.UpstreamReset, text: 'meta protocol upstream request: reset' });
    assert.equal(c.stats.upstream_rq_retry, 0);
    assert.equal(c.stats.upstream_rq_error, 1);
  });

  test('connect failures fall under connect-failure, resets under reset', async () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['connect-failure'], numRetries: 3 }));
    req.forward('c');
    req.onUpstreamFailure(ErrorType.NoHealthyUpstream, 'connection refused');
    assert.equal(req.done, false);
    await backOff();
    req.onUpstreamFailure(ErrorType.UpstreamReset, 'reset');
    assert.deepEqual(req.reply, { error: ErrorType.UpstreamReset, text: 'reset' });
    assert.equal(req.sends, 2);
  });

  test('num_retries bounds the tries: 1 + num_retries, then the last failure is the answer', async () => {
    const c = new FakeCluster('c', 3);
    const req = new FakeRequest([c], routeOf({ retryOn: ['error-reply'], numRetries: 2 }));
    req.forward('c');
    for (let i = 0; i < 2; i++) {
      req.onUpstreamResponse(response(ResponseStatus.Error));
      await backOff();
    }
    assert.equal(req.sends, 3);
    const last = response(ResponseStatus.Error);
    req.onUpstreamResponse(last);
    assert.equal(req.delivered, last, 'the third error reply goes to the client');
    assert.equal(c.stats.upstream_rq_retry, 2);
    assert.equal(c.stats.upstream_rq_retry_success, 1, 'Envoy counts a retried request that got a response');
  });

  test('one-way requests are never retried and end once written', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['reset', 'per-try-timeout'], perTryTimeoutMs: 50 }));
    req.oneway = true;
    req.forward('c');
    assert.equal(req.outcome, 'none');
    assert.equal(c.stats.upstream_rq_oneway, 1);
    assert.deepEqual(req.deadlines, [], 'no request or per-try timeout for a one-way request');
    req.onUpstreamFailure(ErrorType.UpstreamReset, 'late');
    assert.equal(req.sends, 1);
  });

  test('max_retries: a retry over the cluster limit is refused and counted', () => {
    const c = new FakeCluster('c');
    c.maxRetries = 0;
    const req = new FakeRequest([c], routeOf({ retryOn: ['error-reply'], numRetries: 5 }));
    req.forward('c');
    const err = response(ResponseStatus.Error);
    req.onUpstreamResponse(err);
    assert.equal(req.delivered, err);
    assert.equal(c.stats.upstream_rq_retry_overflow, 1);
    assert.equal(c.stats.upstream_rq_retry, 0);
  });

  test('a request holds one retry slot across its retries', async () => {
    const c = new FakeCluster('c', 3);
    c.maxRetries = 1;
    const req = new FakeRequest([c], routeOf({ retryOn: ['error-reply'], numRetries: 3 }));
    req.forward('c');
    req.onUpstreamResponse(response(ResponseStatus.Error));
    assert.equal(c.retriesActive, 1);
    await backOff();
    req.onUpstreamResponse(response(ResponseStatus.Error));
    assert.equal(req.done, false, 'the second retry needs no second slot');
    assert.equal(c.retriesActive, 1);
    await backOff();
    req.onUpstreamResponse(response());
    assert.equal(c.retriesActive, 0);
  });

  test('a hashing route keeps its hash on retries; the pick is told which host failed', async () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['reset'], hashKeys: ['user'] }));
    req.forward('c');
    req.onUpstreamFailure(ErrorType.UpstreamReset, 'reset');
    await backOff();
    assert.deepEqual(
      c.picks.map((p) => [p.hashKeys, p.avoid]),
      [
        [['user'], undefined],
        [['user'], '10.0.0.1:20880'],
      ],
    );
  });

  test('a retry that finds no host answers NoHealthyUpstream', async () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['reset'] }));
    req.forward('c');
    c.script.push({ kind: 'no-host' });
    req.onUpstreamFailure(ErrorType.UpstreamReset, 'reset');
    await backOff();
    assert.deepEqual(req.reply, { error: ErrorType.NoHealthyUpstream, text: "meta protocol router: no healthy upstream for 'c'" });
    assert.equal(c.hosts[0]!.stats.rq_active, 0);
    assert.equal(c.hosts[0]!.stats.rq_error, 1, 'the error is the failed host’s');
  });

  test('a request that ends during its back-off sends no retry', async () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['reset'] }));
    req.forward('c');
    req.onUpstreamFailure(ErrorType.UpstreamReset, 'reset');
    req.sendLocalReply(ErrorType.Timeout, 'timed out');
    await backOff();
    assert.equal(req.sends, 1);
  });
});

describe('per-try timeout', () => {
  test('a stuck try is abandoned and retried elsewhere under per-try-timeout; its stale timer does nothing', async () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['per-try-timeout'], perTryTimeoutMs: 200, timeoutMs: 1000 }));
    req.forward('c');
    const perTry = req.deadlines.filter((d) => d.ms === 200);
    assert.equal(perTry.length, 1);
    assert.ok(req.deadlines.some((d) => d.ms === 1000 && d.target === req), 'the request timeout is the route’s');
    perTry[0]!.target.expire();
    assert.equal(req.forgets, 1);
    assert.deepEqual(c.reports, [['10.0.0.1:20880', false]], 'outlier detection hears of the stuck host');
    assert.equal(perTry[0]!.target.done, true, 'the first try’s timer is stale now');
    await backOff();
    assert.deepEqual(req.bound, ['10.0.0.1:20880', '10.0.0.2:20880']);
    const second = req.deadlines.filter((d) => d.ms === 200);
    assert.equal(second.length, 2, 'the retry has its own per-try timer');
    perTry[0]!.target.expire();
    assert.equal(req.done, false, 'a stale timer changes nothing');
    req.onUpstreamResponse(response());
    assert.equal(req.outcome, 'response');
  });

  test('without per-try-timeout in retry_on, the per-try timeout answers with a Timeout reply', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ retryOn: ['reset'], perTryTimeoutMs: 150 }));
    req.forward('c');
    req.deadlines.find((d) => d.ms === 150)!.target.expire();
    assert.deepEqual(req.reply, { error: ErrorType.Timeout, text: 'meta protocol router: upstream request per-try timeout after 150 ms' });
  });

  test('the request timeout answers with Timeout, counts it on the host and cluster, and forgets the try', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf());
    req.forward('c');
    const d = req.deadlines.find((x) => x.target === req)!;
    assert.equal(d.ms, 5000, 'the listener’s default when the route has none');
    d.target.expire();
    assert.deepEqual(req.reply, { error: ErrorType.Timeout, text: 'meta protocol router: upstream request timeout after 5000 ms' });
    assert.equal(req.timeouts, 1);
    assert.equal(req.forgets, 1);
    assert.equal(c.stats.upstream_rq_timeout, 1);
    assert.equal(c.hosts[0]!.stats.rq_timeout, 1);
    d.target.expire();
    assert.equal(req.timeouts, 1, 'a finished request does not time out again');
  });

  test('a route timeout of 0 sets no request timeout', () => {
    const c = new FakeCluster('c');
    const req = new FakeRequest([c], routeOf({ timeoutMs: 0 }));
    req.forward('c');
    assert.deepEqual(req.deadlines, []);
  });
});
