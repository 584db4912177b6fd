import type { LbHost, LoadBalancer } from './load-balancer.js';
import { xxhash64 } from './xxhash64.js';

const hashOf = (s: string): bigint => xxhash64(Buffer.from(s, 'utf8'));

/**
 * Ring hash (Envoy's RING_HASH): each healthy host owns points on a 64-bit ring in
 * proportion to its weight; a request goes to the first point at or after its hash.
 * Unlike Envoy, which rescales every host's point count to keep the ring at
 * min_ring_size, a host's points depend only on its own weight (min_ring_size / 8 per unit,
 * at least 128), so adding a host moves only the keys the new host takes (about 1/N) and
 * removing one moves only its own keys.
 */
export class RingHashBalancer<H extends LbHost> implements LoadBalancer<H> {
  readonly #points: bigint[] = [];
  readonly #owners: H[] = [];
  readonly #fallback: () => H | undefined;

  constructor(hosts: readonly H[], minRingSize = 1024, maxRingSize = 8 * 1024 * 1024, fallback: () => H | undefined = () => undefined) {
    this.#fallback = fallback;
    const healthy = hosts.filter((h) => h.healthy);
    const totalWeight = healthy.reduce((s, h) => s + h.weight, 0);
    if (totalWeight === 0) return;
    let perWeight = Math.max(128, Math.ceil(minRingSize / 8));
    // Keep within max_ring_size for very large clusters.
    if (perWeight * totalWeight > maxRingSize) perWeight = Math.max(1, Math.floor(maxRingSize / totalWeight));
    const entries: { hash: bigint; host: H }[] = [];
    for (const h of healthy) {
      const count = Math.max(1, Math.round(perWeight * h.weight));
      for (let i = 0; i < count; i++) entries.push({ hash: hashOf(`${h.id}_${i}`), host: h });
    }
    entries.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    for (const e of entries) {
      this.#points.push(e.hash);
      this.#owners.push(e.host);
    }
  }

  pick(hashKey: bigint | undefined): H | undefined {
    const n = this.#points.length;
    if (n === 0) return undefined;
    if (hashKey === undefined) return this.#fallback() ?? this.#owners[Math.floor(Math.random() * n)];
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid]! < hashKey) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === n ? 0 : lo];
  }
}

/**
 * Maglev (Envoy's MAGLEV): a lookup table of a prime size filled from per-host
 * permutations, so each host owns an equal share of slots (weighted by turns) and a host
 * change moves few keys. Lookup is one modulo.
 */
export class MaglevBalancer<H extends LbHost> implements LoadBalancer<H> {
  readonly #table: (H | undefined)[];
  readonly #size: number;

  constructor(hosts: readonly H[], tableSize = 65537) {
    this.#size = tableSize;
    this.#table = new Array<H | undefined>(tableSize).fill(undefined);
    const healthy = hosts.filter((h) => h.healthy);
    if (healthy.length === 0) return;
    const m = BigInt(tableSize);
    const perm = healthy.map((h) => {
      const offset = Number(hashOf(h.id) % m);
      const skip = Number((xxhash64(Buffer.from(h.id, 'utf8'), 1n) % (m - 1n)) + 1n);
      return { host: h, offset, skip, next: 0, credit: 0 };
    });
    const maxWeight = Math.max(...healthy.map((h) => h.weight));
    let filled = 0;
    while (filled < tableSize) {
      for (const p of perm) {
        // Weighted Maglev: a host takes a turn each time its credit reaches the largest weight.
        p.credit += p.host.weight;
        if (p.credit < maxWeight) continue;
        p.credit -= maxWeight;
        let slot = (p.offset + p.skip * p.next) % tableSize;
        while (this.#table[slot] !== undefined) {
          p.next++;
          slot = (p.offset + p.skip * p.next) % tableSize;
        }
        this.#table[slot] = p.host;
        p.next++;
        if (++filled === tableSize) break;
      }
    }
  }

  pick(hashKey: bigint | undefined): H | undefined {
    if (this.#table[0] === undefined) return undefined;
    const key = hashKey ?? BigInt(Math.floor(Math.random() * this.#size));
    return this.#table[Number(key % BigInt(this.#size))];
  }
}
