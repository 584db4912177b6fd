/**
 * Outlier detection on a cluster (Envoy's consecutive_5xx): ejection after N failures in a
 * row, ejection time growing with each ejection, the max_ejection_percent cap, and picks
 * that leave ejected hosts out. On proxy/upstream directly; no connection is opened.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EMPTY_METADATA } from '../../codecs/api/index.js';
import { Cluster } from '../../proxy/upstream/cluster.js';
import type { HostConfig } from '../../proxy/upstream/cluster.js';
import { clusterPolicyOf } from '../../proxy/upstream/cluster-policy.js';

const SETTINGS = { connectionsPerHost: 1, highWatermark: 1 << 20 };
const CTX = { metadata: EMPTY_METADATA, hashKeys: [], subset: undefined, avoid: undefined };

function hosts(n: number): HostConfig[] {
  return Array.from({ length: n }, (_, i) => ({ address: '127.0.0.1', port: 1000 + i, healthy: true, weight: 1 }));
}

function clusterWith(n: number, od: Record<string, unknown>): Cluster {
  return new Cluster('c', 1000, SETTINGS, hosts(n), undefined, clusterPolicyOf({ outlier_detection: od }));
}

function picked(c: Cluster, times: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < times; i++) {
    const p = c.pick(CTX);
    if (p.kind === 'host') out.add(p.host.id);
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms for at most `ms`: timers may run late on a loaded machine. */
async function eventually(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

describe('outlier detection', () => {
  test('consecutive_5xx failures in a row eject the host; a success in between resets the count', () => {
    const c = clusterWith(2, { consecutive_5xx: 3, base_ejection_time: '30s', max_ejection_percent: 100 });
    const [a] = c.hosts;
    c.reportResult(a!, false);
    c.reportResult(a!, false);
    c.reportResult(a!, true);
    c.reportResult(a!, false);
    c.reportResult(a!, false);
    assert.equal(a!.ejected, false, 'two failures since the last success');
    c.reportResult(a!, false);
    assert.equal(a!.ejected, true);
    assert.equal(a!.healthy, false);
    assert.equal(c.stats.outlier_detection_ejections_active, 1);
    assert.deepEqual([...picked(c, 6)], [c.hosts[1]!.id], 'picks leave the ejected host out');
    c.close();
  });

  test('the host returns after base_ejection_time, and its next ejection lasts twice as long', async () => {
    const c = clusterWith(2, { consecutive_5xx: 1, base_ejection_time: '0.1s', max_ejection_percent: 100 });
    const a = c.hosts[0]!;
    let t0 = performance.now();
    c.reportResult(a, false);
    assert.equal(a.ejected, true);
    await eventually(() => !a.ejected, 2000, 'first ejection over');
    const first = performance.now() - t0;
    assert.ok(first >= 95, `back after ${first} ms, not before the ejection time`);
    assert.equal(c.stats.outlier_detection_ejections_active, 0);
    assert.equal(picked(c, 4).size, 2, 'back in rotation');
    t0 = performance.now();
    c.reportResult(a, false);
    assert.equal(a.ejections, 2);
    await sleep(120);
    assert.equal(a.ejected, true, 'the second ejection is 2 x base_ejection_time');
    await eventually(() => !a.ejected, 2000, 'second ejection over');
    assert.ok(performance.now() - t0 >= 195);
    c.close();
  });

  test('max_ejection_percent caps the hosts out at once (one host may always be ejected)', () => {
    const c = clusterWith(4, { consecutive_5xx: 1, base_ejection_time: '30s', max_ejection_percent: 50 });
    for (const h of c.hosts) c.reportResult(h, false);
    assert.equal(c.hosts.filter((h) => h.ejected).length, 2);
    assert.equal(c.stats.outlier_detection_ejections_active, 2);
    const lone = clusterWith(2, { consecutive_5xx: 1, base_ejection_time: '30s', max_ejection_percent: 10 });
    lone.reportResult(lone.hosts[0]!, false);
    lone.reportResult(lone.hosts[1]!, false);
    assert.deepEqual(
      lone.hosts.map((h) => h.ejected),
      [true, false],
    );
    c.close();
    lone.close();
  });

  test('without outlier_detection, failures eject nothing', () => {
    const c = new Cluster('c', 1000, SETTINGS, hosts(2));
    for (let i = 0; i < 20; i++) c.reportResult(c.hosts[0]!, false);
    assert.equal(c.hosts[0]!.ejected, false);
    c.close();
  });
});
