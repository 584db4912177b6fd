/**
 * Envoy's filter chain selection (FilterChainMatch, spec/istio-sidecar.md §4.4), for the
 * criteria a connection's first bytes decide: `server_names` (SNI), `transport_protocol`
 * (`tls` when the tls_inspector saw a ClientHello, else `raw_buffer`) and
 * `application_protocols` (the ClientHello's ALPN). Candidates are narrowed criterion by
 * criterion in Envoy's order; at each step the most specific match wins, and a chain that
 * leaves the criterion unset matches anything.
 *
 * Address criteria (destination_port, prefix_ranges, source_*) come before these in
 * Envoy's order: a caller that has them narrows `chains` first, then calls
 * selectFilterChain on what is left.
 */

/** The compiled TLS-related criteria of one chain (empty lists: unset). */
export interface ChainMatchSpec {
  readonly serverNames: readonly string[];
  /** '' when unset. */
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
}

export const MATCH_ANY: ChainMatchSpec = { serverNames: [], transportProtocol: '', applicationProtocols: [] };

/** What the listener knows of a new connection when it picks a chain. */
export interface ConnectionFacts {
  readonly transportProtocol: 'tls' | 'raw_buffer';
  readonly sni: string | undefined;
  readonly alpn: readonly string[];
}

/** True when any criterion here needs the ClientHello (a tls_inspector must look). */
export function needsInspection(m: ChainMatchSpec): boolean {
  return m.serverNames.length > 0 || m.transportProtocol === 'tls' || m.applicationProtocols.length > 0;
}

/** How specifically `name` matches the SNI: exact > longest wildcard suffix; -1: no match. */
function serverNameScore(names: readonly string[], sni: string | undefined): number {
  if (names.length === 0) return 0;
  if (sni === undefined) return -1;
  let best = -1;
  for (const n of names) {
    if (n === sni) return Number.MAX_SAFE_INTEGER;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1)) && n.length > best) best = n.length;
  }
  return best;
}

/**
 * Keeps the candidates with the best score (>= 0); when none matches specifically, the
 * ones that left the criterion unset (score 0) are kept by the scores themselves.
 */
function narrow<T>(cands: T[], score: (c: T) => number): T[] {
  let best = -1;
  for (const c of cands) best = Math.max(best, score(c));
  if (best < 0) return [];
  return cands.filter((c) => score(c) === best);
}

/** The chain for a connection, or undefined (Envoy: no_filter_chain_match, the connection closes). */
export function selectFilterChain<T extends { readonly match: ChainMatchSpec }>(chains: readonly T[], facts: ConnectionFacts): T | undefined {
  let c = [...chains];
  c = narrow(c, (x) => serverNameScore(x.match.serverNames, facts.sni));
  c = narrow(c, (x) => (x.match.transportProtocol === '' ? 0 : x.match.transportProtocol === facts.transportProtocol ? 1 : -1));
  c = narrow(c, (x) => (x.match.applicationProtocols.length === 0 ? 0 : x.match.applicationProtocols.some((p) => facts.alpn.includes(p)) ? 1 : -1));
  return c[0];
}
