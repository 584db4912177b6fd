/**
 * The quickstart's live summary: per route, the calls each version answered (the version is
 * read from the reply, so wrong routing shows as such) and its share of that route's calls;
 * errors; latency; and Meltemi's own counters from its admin server.
 */

/** Meltemi's workers report their counters to the admin server about once a second. */
export const COUNTER_LAG_NOTE = "Meltemi's counters come from its admin /stats and trail the client's by up to a second.";

export class Summary {
  total = 0;
  errors = 0;
  /** route -> (version that answered, or "failed") -> calls */
  readonly #byRoute = new Map<string, Map<string, number>>();
  readonly #lastErrors: string[] = [];
  #latencies: number[] = [];
  readonly #started = Date.now();

  record(route: string, version: string | undefined, ms: number, error: string | undefined): void {
    this.total++;
    if (error !== undefined) {
      this.errors++;
      this.#lastErrors.push(error);
      if (this.#lastErrors.length > 3) this.#lastErrors.shift();
    }
    let versions = this.#byRoute.get(route);
    if (versions === undefined) this.#byRoute.set(route, (versions = new Map()));
    const key = error !== undefined ? 'failed' : (version ?? '?');
    versions.set(key, (versions.get(key) ?? 0) + 1);
    this.#latencies.push(ms);
  }

  /** One line per route and version: "canary-split -> v1   1234   80.1% of canary-split". */
  routeLines(): string[] {
    const lines: string[] = [];
    for (const [route, versions] of [...this.#byRoute].sort((a, b) => a[0].localeCompare(b[0]))) {
      let routeTotal = 0;
      for (const n of versions.values()) routeTotal += n;
      for (const [version, n] of [...versions].sort((a, b) => a[0].localeCompare(b[0]))) {
        const pct = ((100 * n) / routeTotal).toFixed(1).padStart(5);
        lines.push(`    ${`${route} -> ${version}`.padEnd(24)} ${String(n).padStart(7)}  ${pct}% of ${route}`);
      }
    }
    return lines;
  }

  async print(adminUrl: string, statPrefix: string): Promise<void> {
    const lat = this.#latencies.sort((a, b) => a - b);
    this.#latencies = [];
    const pct = (p: number): string => (lat.length === 0 ? '-' : `${lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2)} ms`);
    const secs = ((Date.now() - this.#started) / 1000).toFixed(0);
    const lines = [`[${secs}s] client: ${this.total} calls, ${this.errors} errors; last 2 s: ${lat.length} calls, p50 ${pct(0.5)}, p99 ${pct(0.99)}`];
    lines.push(...this.routeLines());
    try {
      const stats = await (await fetch(`${adminUrl}/stats`, { signal: AbortSignal.timeout(1000) })).text();
      const pick = (name: string): string => new RegExp(`^meta_protocol\\.dubbo\\.${statPrefix}\\.${name}: (\\d+)$`, 'm').exec(stats)?.[1] ?? '?';
      lines.push(`    meltemi: requests ${pick('request')}, responses ${pick('response')}, local errors ${pick('local_response_business_exception')}, active connections ${pick('cx_active')} (trails the client by up to 1 s)`);
    } catch {
      lines.push('    meltemi admin not reachable');
    }
    if (this.#lastErrors.length > 0) lines.push(`    recent errors: ${this.#lastErrors.join(' | ')}`);
    console.log(lines.join('\n'));
  }
}
