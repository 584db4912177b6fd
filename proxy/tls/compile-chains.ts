/**
 * The filter chains of a listener, as far as TLS decides between them: each chain's
 * match (transport_protocol, server_names, application_protocols) and transport socket.
 * Chains of one listener must carry the same network filters (as istiod + Aeraki produce
 * for a PERMISSIVE port: mTLS, TLS-passthrough and plaintext chains with one
 * meta_protocol_proxy): the listener has one MetaProtocol config, and a connection's first
 * bytes pick only how it is terminated. Different filters per chain are refused by name.
 */
import { TLS_INSPECTOR, TLS_INSPECTOR_OLD } from '../config/filter-chain-match-schema.js';
import type { ListenerConfig } from '../config/bootstrap-schema.js';
import { needsInspection } from '../downstream/filter-chain-match.js';
import type { ChainMatchSpec } from '../downstream/filter-chain-match.js';
import { compileTransportSocket } from './compile-tls.js';
import type { TransportSpec } from './tls-spec.js';

export interface CompiledChain {
  readonly name: string;
  readonly match: ChainMatchSpec;
  readonly transport: TransportSpec;
}

export interface CompiledChains {
  readonly chains: readonly CompiledChain[];
  /** True when a connection's first bytes must be read to pick its chain (tls_inspector). */
  readonly inspect: boolean;
}

export function compileChains(l: ListenerConfig, path: string, errors: string[]): CompiledChains | undefined {
  const start = errors.length;
  let inspector = false;
  (l.listener_filters ?? []).forEach((f, i) => {
    if (f.name === TLS_INSPECTOR || f.name === TLS_INSPECTOR_OLD) inspector = true;
    else errors.push(`${path}.listener_filters[${i}].name: listener filter '${f.name}' is not supported by Meltemi (only ${TLS_INSPECTOR})`);
  });
  const first = JSON.stringify(l.filter_chains[0]?.filters ?? []);
  const chains: CompiledChain[] = [];
  const seen = new Map<string, number>();
  l.filter_chains.forEach((c, i) => {
    const p = `${path}.filter_chains[${i}]`;
    if (i > 0 && JSON.stringify(c.filters) !== first) {
      errors.push(`${p}.filters: every filter chain of a listener must have the same network filters as filter_chains[0] (Meltemi picks a chain by TLS only)`);
    }
    const m = c.filter_chain_match;
    const match: ChainMatchSpec = {
      serverNames: (m?.server_names ?? []).map((n) => n.toLowerCase()),
      transportProtocol: m?.transport_protocol ?? '',
      applicationProtocols: m?.application_protocols ?? [],
    };
    const key = JSON.stringify(match);
    const dup = seen.get(key);
    if (dup !== undefined) errors.push(`${p}.filter_chain_match: the same as filter_chains[${dup}]'s (Envoy refuses this too)`);
    seen.set(key, i);
    const transport = compileTransportSocket(c.transport_socket, 'downstream', `${p}.transport_socket`, errors);
    if (transport !== undefined) chains.push({ name: c.name ?? `chain ${i}`, match, transport });
  });
  if (errors.length > start) return undefined;
  // Envoy without a tls_inspector sees every connection as raw_buffer with no SNI or ALPN; a
  // chain that asks for them could never match. Inspect then (Envoy once injected it too).
  const inspect = inspector || chains.some((c) => needsInspection(c.match));
  return { chains, inspect };
}
