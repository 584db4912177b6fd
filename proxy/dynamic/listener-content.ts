/**
 * What a listener says, independent of how it was encoded, for telling an unchanged
 * listener from a changed one (spec/xds.md §5.2: only a real change drains connections).
 * The MetaProtocolProxy config is taken after parsing, so a TypedStruct (lowerCamel keys,
 * "5s" durations) and a direct Any (snake_case keys, { seconds } durations) of the same
 * config compare equal; filter configs inside it are compared as written. The network RBAC
 * filters in front of the proxy are compared parsed too: a changed AuthorizationPolicy is a
 * changed listener.
 */
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import type { CompiledChain, CompiledListener } from '../config/compile-listener.js';
import { parseConfigSource } from './resource-types/config-source.js';

function chainContent(c: CompiledChain | undefined): unknown {
  if (c === undefined) return undefined;
  // A TLS change (another certificate file, SAN list, ALPN) is a change of the listener.
  const tls = c.transport.kind === 'tls' ? c.transport.tls.key : 'raw';
  // '@type' is there for a direct Any and not for a TypedStruct's value: not content.
  const rbacContent = (rs: readonly RbacAuthorizer[]): unknown[] => rs.map((r) => Object.fromEntries(Object.entries(r.config).filter(([k]) => k !== '@type')));
  if (c.kind === 'tcp') return { name: c.name, tls, tcp: c.tcpConfig, networkRbac: rbacContent(c.networkRbac) };
  const proxy = c.meta.proxyConfig;
  const rds = proxy.rds === undefined ? undefined : { ...proxy.rds, config_source: parseConfigSource(proxy.rds.config_source, 'rds.config_source', []) };
  return { name: c.name, tls, proxy: { ...proxy, rds }, networkRbac: rbacContent(c.meta.networkRbac) };
}

/** A plain value to compare with `sameContent` (xds-client/resource-equality.ts). */
export function listenerContent(c: CompiledListener): unknown {
  const s = c.source;
  return {
    host: c.host,
    port: c.port,
    traffic_direction: s.traffic_direction,
    bind_to_port: c.bindToPort,
    use_original_dst: c.useOriginalDst,
    original_dst: c.recoversOriginalDst,
    transparent: c.transparent,
    inspect_tls: c.inspectTls,
    matches: (s.filter_chains ?? []).map((fc) => fc.filter_chain_match),
    chains: c.chains.map(chainContent),
    default_chain: chainContent(c.defaultChain),
  };
}
