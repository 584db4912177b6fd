import type { TypeStats } from '../../xds-client/xds-stats.js';

/** Envoy's stat prefixes of the CDS and LDS subscriptions. */
const ENVOY_PREFIX: Readonly<Record<string, string>> = { cds: 'cluster_manager.cds', lds: 'listener_manager.lds' };

/**
 * The CDS and LDS counters under Envoy's names (`cluster_manager.cds.update_success`,
 * `listener_manager.lds.update_rejected`, ...), which pilot-agent's readiness check reads,
 * as `name: value` lines for the stats snapshot.
 */
export function envoyXdsStatLines(totals: ReadonlyMap<string, TypeStats> | undefined): string[] {
  const lines: string[] = [];
  for (const [type, prefix] of Object.entries(ENVOY_PREFIX)) {
    const t = totals?.get(type);
    if (t === undefined) continue;
    lines.push(`${prefix}.update_attempt: ${t.update_attempt}`, `${prefix}.update_success: ${t.update_success}`, `${prefix}.update_rejected: ${t.update_rejected}`);
  }
  return lines;
}
