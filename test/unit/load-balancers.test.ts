import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClusterBalancer, createLoadBalancer, hashOfValues, xxhash64 } from '../../proxy/upstream/lb/index.js';
import type { LbHost, LbPolicy } from '../../proxy/upstream/lb/index.js';

interface FakeHost extends LbHost {
  healthy: boolean;
  active: number;
}
const hosts = (n: number, weights: number[] = []): FakeHost[] =>
  Array.from({ length: n }, (_, i) => ({ id: `10.0.0.${i + 1}:20880`, healthy: true, weight: weights[i] ?? 1, active: 0, activeRequests() { return this.active; } }));

function counts(policy: LbPolicy, hs: FakeHost[], n: number, key?: (i: number) => bigint): Map<string, number> {
  const lb = createLoadBalancer(policy, hs);
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = lb.pick(key?.(i));
    assert.ok(h !== undefined);
    out.set(h.id, (out.get(h.id) ?? 0) + 1);
  }
  return out;
}

describe('xxhash64 (checked against xxhash-wasm, an independent implementation)', () => {
  test('known vectors and long inputs with seeds', async () => {
    const { default: init } = (await import('xxhash-wasm')) as { default: () => Promise<{ h64(s: string, seed?: bigint): bigint }> };
    const ref = await init();
    assert.equal(xxhash64(Buffer.from('')).toString(16), 'ef46db3751d8e999');
    assert.equal(xxhash64(Buffer.from('abc')).toString(16), '44bc2cf5ad770999');
    for (const s of ['a', 'hello world', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(100), 'héllo€😀'.repeat(7)]) {
      for (const seed of [0n, 1n, 0xffff_ffff_ffff_ffffn]) assert.equal(xxhash64(Buffer.from(s), seed), ref.h64(s, seed), `${s} seed ${seed}`);
    }
  });

  test("Aeraki's hash policy: sorted values, chained seeds", () => {
    assert.equal(hashOfValues(['b', 'a']), xxhash64(Buffer.from('b'), xxhash64(Buffer.from('a'))));
    assert.equal(hashOfValues(['b', 'a']), hashOfValues(['a', 'b']));
  });
});

describe('load balancers', () => {
  test('round robin: even, skips unhealthy, honours weights smoothly', () => {
    const hs = hosts(3);
    assert.deepEqual([...counts('ROUND_ROBIN', hs, 300).values()], [100, 100, 100]);
    hs[1]!.healthy = false;
    assert.equal(counts('ROUND_ROBIN', hs, 300).get(hs[1]!.id), undefined);
    const w = counts('ROUND_ROBIN', hosts(2, [3, 1]), 400);
    assert.deepEqual([...w.values()], [300, 100]);
    hs.forEach((h) => (h.healthy = false));
    assert.equal(createLoadBalancer('ROUND_ROBIN', hs).pick(undefined), undefined);
  });

  test('random: weighted shares within tolerance', () => {
    const c = counts('RANDOM', hosts(2, [4, 1]), 10_000);
    const share = (c.get('10.0.0.1:20880') ?? 0) / 10_000;
    assert.ok(Math.abs(share - 0.8) < 0.03, `share ${share}`);
  });

  test('least request: prefers the host with fewer requests in flight', () => {
    const hs = hosts(2);
    hs[0]!.active = 10;
    const c = counts('LEAST_REQUEST', hs, 1000);
    // Both draws hit the busy host only when both pick it: about 1/4 of the time.
    assert.ok((c.get(hs[1]!.id) ?? 0) > 650, `idle host got ${c.get(hs[1]!.id)}`);
  });

  for (const policy of ['RING_HASH', 'MAGLEV'] as const) {
    test(`${policy}: the same key always lands on the same host; adding a host moves about 1/N of keys`, () => {
      const keys = Array.from({ length: 2000 }, (_, i) => hashOfValues([`user-${i}`]));
      const before = createLoadBalancer(policy, hosts(4));
      const first = keys.map((k) => before.pick(k)!.id);
      assert.deepEqual(keys.map((k) => before.pick(k)!.id), first, 'stable');
      const spread = new Set(first);
      assert.equal(spread.size, 4, 'every host gets keys');
      const after = createLoadBalancer(policy, hosts(5));
      const moved = keys.filter((k, i) => after.pick(k)!.id !== first[i]).length / keys.length;
      // Ideal is 1/5 = 0.2; ring hash with 1024 points and maglev both stay close.
      assert.ok(moved > 0.1 && moved < 0.32, `${policy} moved ${moved}`);
    });
  }
});

describe('priority levels and locality weights (Envoy semantics)', () => {
  interface TH extends LbHost {
    healthy: boolean;
    priority: number;
    locality: string;
    localityWeight: number | undefined;
  }
  const th = (id: string, priority: number, locality = '', localityWeight?: number): TH => ({
    id,
    healthy: true,
    weight: 1,
    priority,
    locality,
    localityWeight,
    activeRequests: () => 0,
  });
  const share = (hosts: TH[], n = 20_000): Map<string, number> => {
    const lb = createClusterBalancer('ROUND_ROBIN', hosts);
    const out = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const h = lb.pick(undefined)!;
      out.set(h.id, (out.get(h.id) ?? 0) + 1 / n);
    }
    return out;
  };

  test('priority 0 takes everything while healthy; degraded past the overprovisioning factor, traffic spills to priority 1', () => {
    const hosts = [th('a0', 0), th('b0', 0), th('c0', 0), th('d0', 0), th('p1', 1)];
    assert.equal(share(hosts).get('p1') ?? 0, 0);
    hosts[0]!.healthy = false; // 75% healthy x 1.4 > 100%: no spill
    assert.equal(share(hosts).get('p1') ?? 0, 0);
    hosts[1]!.healthy = false; // 50% x 1.4 = 70%: 30% spills
    const s = share(hosts).get('p1') ?? 0;
    assert.ok(Math.abs(s - 0.3) < 0.03, `spill ${s}`);
  });

  test('locality weights split traffic, scaled by each locality health', () => {
    const hosts = [th('a1', 0, 'r/a', 3), th('a2', 0, 'r/a', 3), th('b1', 0, 'r/b', 1)];
    const s = share(hosts);
    const a = (s.get('a1') ?? 0) + (s.get('a2') ?? 0);
    assert.ok(Math.abs(a - 0.75) < 0.03, `locality a got ${a}`);
    hosts[0]!.healthy = false; // a: 50% x 1.4 = 70% health, weight 3 x 0.7 = 2.1 against 1
    const s2 = share(hosts);
    const a2 = s2.get('a2') ?? 0;
    assert.ok(Math.abs(a2 - 2.1 / 3.1) < 0.03, `locality a got ${a2}`);
  });
});
