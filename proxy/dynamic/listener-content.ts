/**
 * What a listener says, independent of how it was encoded, for telling an unchanged
 * listener from a changed one (spec/xds.md §5.2: only a real change drains connections).
 * The MetaProtocolProxy config is taken after parsing, so a TypedStruct (lowerCamel keys,
 * "5s" durations) and a direct Any (snake_case keys, { seconds } durations) of the same
 * config compare equal; filter configs inside it are compared as written. The network RBAC
 * filters in front of the proxy are compared parsed too: a changed AuthorizationPolicy is a
 * changed listener.
 */
import type { CompiledListener } from '../config/compile-listener.js';
import { parseConfigSource } from './resource-types/config-source.js';

/** A plain value to compare with `sameContent` (xds-client/resource-equality.ts). */
export function listenerContent(c: CompiledListener): unknown {
  const proxy = c.proxyConfig;
  const rds = proxy.rds === undefined ? undefined : { ...proxy.rds, config_source: parseConfigSource(proxy.rds.config_source, 'rds.config_source', []) };
  // '@type' is there for a direct Any and not for a TypedStruct's value: not content.
  const networkRbac = c.networkRbac.map((r) => Object.fromEntries(Object.entries(r.config).filter(([k]) => k !== '@type')));
  // A TLS change (another certificate file, SAN list, ALPN) is a change of the listener.
  const transport = { inspect: c.chains.inspect, chains: c.chains.chains.map((ch) => ({ match: ch.match, tls: ch.transport.kind === 'tls' ? ch.transport.tls.key : 'raw' })) };
  return { host: c.host, port: c.port, traffic_direction: c.source.traffic_direction, proxy: { ...proxy, rds }, networkRbac, transport };
}
