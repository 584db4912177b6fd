import type { LbHost, LoadBalancer } from './load-balancer.js';

/**
 * Weighted round robin (smooth: each pick adds every host's weight to its credit and
 * takes the host with the most credit), which spreads weighted hosts evenly over time.
 * With equal weights it is a plain rotation.
 */
export class RoundRobinBalancer<H extends LbHost> implements LoadBalancer<H> {
  readonly #hosts: readonly H[];
  readonly #credit: number[];
  readonly #equal: boolean;
  #next = 0;

  constructor(hosts: readonly H[]) {
    this.#hosts = hosts;
    this.#credit = hosts.map(() => 0);
    this.#equal = hosts.every((h) => h.weight === (hosts[0]?.weight ?? 1));
  }

  pick(): H | undefined {
    const hosts = this.#hosts;
    const n = hosts.length;
    if (this.#equal) {
      for (let i = 0; i < n; i++) {
        const h = hosts[(this.#next + i) % n]!;
        if (h.healthy) {
          this.#next = (this.#next + i + 1) % n;
          return h;
        }
      }
      return undefined;
    }
    let best = -1;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const h = hosts[i]!;
      if (!h.healthy) continue;
      this.#credit[i]! += h.weight;
      total += h.weight;
      if (best < 0 || this.#credit[i]! > this.#credit[best]!) best = i;
    }
    if (best < 0) return undefined;
    this.#credit[best]! -= total;
    return hosts[best];
  }
}

/** Weighted random over healthy hosts. */
export class RandomBalancer<H extends LbHost> implements LoadBalancer<H> {
  readonly #hosts: readonly H[];
  readonly #random: () => number;

  constructor(hosts: readonly H[], random: () => number = Math.random) {
    this.#hosts = hosts;
    this.#random = random;
  }

  pick(): H | undefined {
    let total = 0;
    for (const h of this.#hosts) if (h.healthy) total += h.weight;
    if (total === 0) return undefined;
    let point = this.#random() * total;
    for (const h of this.#hosts) {
      if (!h.healthy) continue;
      point -= h.weight;
      if (point < 0) return h;
    }
    return this.#hosts.filter((h) => h.healthy).at(-1);
  }
}

/**
 * Least request with the power of two choices (Envoy's default choice_count 2): draw two
 * healthy hosts at random and take the one with fewer requests in flight.
 */
export class LeastRequestBalancer<H extends LbHost> implements LoadBalancer<H> {
  readonly #hosts: readonly H[];
  readonly #choices: number;
  readonly #random: () => number;

  constructor(hosts: readonly H[], choices = 2, random: () => number = Math.random) {
    this.#hosts = hosts;
    this.#choices = choices;
    this.#random = random;
  }

  pick(): H | undefined {
    const healthy = this.#hosts.filter((h) => h.healthy);
    if (healthy.length <= 1) return healthy[0];
    let best: H | undefined;
    for (let i = 0; i < this.#choices; i++) {
      const h = healthy[Math.floor(this.#random() * healthy.length)]!;
      if (best === undefined || h.activeRequests() < best.activeRequests()) best = h;
    }
    return best;
  }
}
