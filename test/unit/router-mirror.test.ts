/**
 * Traffic mirroring against fakes at the upstream API: fractions, the same host choice as
 * the request, the bound on copies in flight, congested connections, failures and timeouts
 * that only move counters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorType } from '../../codecs/api/index.js';
import { MAX_MIRRORS_IN_FLIGHT, mirrorsInFlight, sendMirrors } from '../../filters/router/index.js';
import { FakeCluster, FakeRequest, metadataOf, response, routeOf } from './router-fakes.js';

describe('mirrors', () => {
  test('a forwarded request sends a copy to each mirror, with the same hash policy and subset', () => {
    const main = new FakeCluster('main');
    const shadow = new FakeCluster('shadow');
    const subset = { key: 'v2', entries: [['version', 'v2']] as const };
    const route = routeOf({ mirrors: [{ cluster: 'shadow', fraction: 1 }, { cluster: 'missing', fraction: 1 }], hashKeys: ['user'], subset, timeoutMs: 700 });
    const req = new FakeRequest([main, shadow], route, metadataOf({ user: 'u1' }));
    req.forward('main');
    assert.equal(req.copies.length, 1, 'an unknown mirror cluster is skipped');
    assert.deepEqual(shadow.picks, [{ avoid: undefined, hashKeys: ['user'], subset: 'v2', hashed: ['u1'] }]);
    const copy = req.copies[0]!;
    assert.equal(copy.sent, 1);
    assert.equal(copy.host?.id, '10.0.0.1:20880');
    assert.deepEqual(copy.deadlines.map((d) => d.ms), [700], 'a copy gets the request’s timeout');
    assert.equal(shadow.stats.mirror_rq_total, 1);
    assert.equal(mirrorsInFlight(shadow), 1);
    copy.sink.onUpstreamResponse();
    assert.equal(mirrorsInFlight(shadow), 0);
    req.onUpstreamResponse(response());
    assert.equal(req.outcome, 'response', 'the request itself is untouched by its mirror');
  });

  test('the fraction decides per request', () => {
    const shadow = new FakeCluster('shadow');
    const source = new FakeRequest([shadow], routeOf());
    const rolls = [0.1, 0.5, 0.29, 0.3];
    for (const r of rolls) sendMirrors(new Map([['shadow', shadow]]), [{ cluster: 'shadow', fraction: 0.3 }], source, Buffer.alloc(1), 0, () => r);
    assert.equal(source.copies.length, 2);
    for (const c of source.copies) c.sink.onUpstreamResponse();
  });

  test('copies in flight are bounded per mirror cluster; more are dropped until some end', () => {
    const shadow = new FakeCluster('shadow');
    const clusters = new Map([['shadow', shadow]]);
    const source = new FakeRequest([shadow], routeOf());
    for (let i = 0; i < MAX_MIRRORS_IN_FLIGHT + 5; i++) sendMirrors(clusters, [{ cluster: 'shadow', fraction: 1 }], source, Buffer.alloc(1), 1000);
    assert.equal(shadow.stats.mirror_rq_total, MAX_MIRRORS_IN_FLIGHT);
    assert.equal(shadow.stats.mirror_rq_dropped, 5);
    assert.equal(mirrorsInFlight(shadow), MAX_MIRRORS_IN_FLIGHT);
    // Timeouts forget the copies on their connections and count them as failed.
    for (const c of source.copies) for (const d of c.deadlines) d.target.expire();
    assert.equal(mirrorsInFlight(shadow), 0);
    assert.equal(shadow.stats.mirror_rq_failed, MAX_MIRRORS_IN_FLIGHT);
    assert.ok(source.copies.every((c) => c.forgotten === 1));
    sendMirrors(clusters, [{ cluster: 'shadow', fraction: 1 }], source, Buffer.alloc(1), 1000);
    assert.equal(shadow.stats.mirror_rq_total, MAX_MIRRORS_IN_FLIGHT + 1, 'room again once copies ended');
  });

  test('no host or a congested connection drops the copy; a failed copy only counts', () => {
    const shadow = new FakeCluster('shadow', 0);
    const clusters = new Map([['shadow', shadow]]);
    const source = new FakeRequest([shadow], routeOf());
    sendMirrors(clusters, [{ cluster: 'shadow', fraction: 1 }], source, Buffer.alloc(1), 0);
    assert.equal(shadow.stats.mirror_rq_dropped, 1);
    assert.equal(source.copies.length, 0, 'no copy is made without a host');

    const busy = new FakeCluster('busy');
    const congested = new FakeRequest([busy], routeOf());
    const realOpen = congested.openCopy.bind(congested);
    congested.openCopy = (snapshot, sink) => Object.assign(realOpen(snapshot, sink), { congested: true });
    sendMirrors(new Map([['busy', busy]]), [{ cluster: 'busy', fraction: 1 }], congested, Buffer.alloc(1), 0);
    assert.equal(busy.stats.mirror_rq_dropped, 1);
    assert.equal(busy.stats.mirror_rq_total, 0);

    const flaky = new FakeCluster('flaky');
    const src = new FakeRequest([flaky], routeOf());
    sendMirrors(new Map([['flaky', flaky]]), [{ cluster: 'flaky', fraction: 1 }], src, Buffer.alloc(1), 0);
    src.copies[0]!.sink.onUpstreamFailure(ErrorType.UpstreamReset, 'reset');
    src.copies[0]!.sink.onUpstreamFailure(ErrorType.UpstreamReset, 'again');
    assert.equal(flaky.stats.mirror_rq_failed, 1, 'a copy fails once');
    assert.equal(mirrorsInFlight(flaky), 0);
  });

  test('one-way copies end once written; a request that fails its first try sends no copy', () => {
    const main = new FakeCluster('main', 0);
    const shadow = new FakeCluster('shadow');
    const failing = new FakeRequest([main, shadow], routeOf({ mirrors: [{ cluster: 'shadow', fraction: 1 }] }));
    failing.forward('main');
    assert.equal(failing.reply?.error, ErrorType.NoHealthyUpstream);
    assert.equal(shadow.stats.mirror_rq_total, 0);

    const ok = new FakeCluster('ok');
    const oneway = new FakeRequest([ok, shadow], routeOf({ mirrors: [{ cluster: 'shadow', fraction: 1 }] }));
    oneway.oneway = true;
    oneway.forward('ok');
    assert.equal(shadow.stats.mirror_rq_total, 1);
    assert.equal(mirrorsInFlight(shadow), 0);
    assert.deepEqual(oneway.copies[0]!.deadlines, []);
  });
});
