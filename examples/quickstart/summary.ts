/** The quickstart's live summary: calls per route and version, errors, latency. */

interface Window {
  latencies: number[];
}

export class Summary {
  total = 0;
  errors = 0;
  readonly #byRouteVersion = new Map<string, number>();
  readonly #lastErrors: string[] = [];
  #window: Window = { latencies: [] };
  readonly #started = Date.now();

  record(route: string, version: string, ms: number, error: string | undefined): void {
    this.total++;
    if (error !== undefined) {
      this.errors++;
      this.#lastErrors.push(error);
      if (this.#lastErrors.length > 3) this.#lastErrors.shift();
    }
    const key = `${route} -> ${version}`;
    this.#byRouteVersion.set(key, (this.#byRouteVersion.get(key) ?? 0) + 1);
    this.#window.latencies.push(ms);
  }

  async print(adminUrl: string): Promise<void> {
    const lat = this.#window.latencies.sort((a, b) => a - b);
    this.#window = { latencies: [] };
    const pct = (p: number): string => (lat.length === 0 ? '-' : `${lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2)} ms`);
    const secs = ((Date.now() - this.#started) / 1000).toFixed(0);
    const lines = [`[${secs}s] ${this.total} calls, ${this.errors} errors; last 2 s: ${lat.length} calls, p50 ${pct(0.5)}, p99 ${pct(0.99)}`];
    for (const [k, n] of [...this.#byRouteVersion].sort()) lines.push(`    ${k.padEnd(24)} ${String(n).padStart(7)}  (${((100 * n) / this.total).toFixed(1)}%)`);
    try {
      const stats = await (await fetch(`${adminUrl}/stats`)).text();
      const pick = (name: string): string => new RegExp(`^meta_protocol\\.dubbo\\.quickstart\\.${name}: (\\d+)$`, 'm').exec(stats)?.[1] ?? '?';
      lines.push(`    meltemi: requests ${pick('request')}, responses ${pick('response')}, local errors ${pick('local_response_business_exception')}, active connections ${pick('cx_active')}`);
    } catch {
      lines.push('    meltemi admin not reachable');
    }
    if (this.#lastErrors.length > 0) lines.push(`    recent errors: ${this.#lastErrors.join(' | ')}`);
    console.log(lines.join('\n'));
  }
}
