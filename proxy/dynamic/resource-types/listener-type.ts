/**
 * LDS Listeners. Only MetaProtocol listeners are Meltemi's (an istiod push also carries
 * HTTP and TCP listeners: those are left out, not rejected). A listener is compiled once,
 * here; the applier starts it from the compiled form. A listener that cannot be used (an
 * unknown filter, a bad field) is rejected alone, as Envoy does: the others of the push
 * apply and it keeps its previous version.
 */
import { transportSocket } from '../../config/tls-schema.js';
import type { TransportSocketConfig } from '../../config/tls-schema.js';
import { TLS_INSPECTOR, TLS_INSPECTOR_OLD } from '../../config/filter-chain-match-schema.js';
import type { FilterChainMatchConfig } from '../../config/filter-chain-match-schema.js';
import type { XdsResourceType } from '../../../xds-client/resource-type.js';
import type { DecodeResult } from '../../../xds-client/resource-type.js';
import { sameContent } from '../../../xds-client/resource-equality.js';
import { checkEnumValues } from '../../../xds-client/enum-check.js';
import { LISTENER_TYPE } from '../../../xds-client/type-urls.js';
import { META_PROTOCOL_PROXY_TYPE } from '../../config/bootstrap-schema.js';
import type { ConfigSourceConfig, ListenerConfig } from '../../config/bootstrap-schema.js';
import { compileListener } from '../../config/compile-listener.js';
import type { CompiledListener } from '../../config/compile-listener.js';
import { isNetworkRbacFilter } from '../../config/network-rbac.js';
import { takeWarnings } from '../../../config/schema.js';
import { listenerContent } from '../listener-content.js';
import { parseConfigSource } from './config-source.js';
import { arr, isObj, nameOf } from './plain-object.js';
import type { Obj } from './plain-object.js';

const TYPED_STRUCTS = new Set(['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']);

/** A MetaProtocol listener from LDS. */
export interface ListenerResource {
  readonly name: string;
  /** In the bootstrap's shape: plain data, for workers (IPC) and /config_dump. */
  readonly listener: ListenerConfig;
  /** What the runtime serves. */
  readonly compiled: CompiledListener;
  /** What it says, independent of its encoding (listener-content.ts): the equality of two versions. */
  readonly content: unknown;
  /** The MetaRDS subscription of this listener, if its routes are not inline. */
  readonly rds: { readonly routeConfigName: string; readonly configSource: ConfigSourceConfig } | undefined;
}

function isMetaProtocolFilter(f: unknown): boolean {
  if (!isObj(f) || !isObj(f['typed_config'])) return false;
  const tc = f['typed_config'];
  const type = tc['@type'];
  if (type === META_PROTOCOL_PROXY_TYPE) return true;
  return typeof type === 'string' && TYPED_STRUCTS.has(type) && tc['type_url'] === META_PROTOCOL_PROXY_TYPE;
}

/**
 * proto3 encodes a zero UInt32Value as an empty message, so an inline weighted cluster with
 * weight 0 decodes as `weight: {}`; it means 0.
 */
function zeroWeights(typedConfig: unknown): unknown {
  if (!isObj(typedConfig) || !isObj(typedConfig['route_config'])) return typedConfig;
  for (const r of arr(typedConfig['route_config']['routes'])) {
    const wc = isObj(r) && isObj(r['route']) && isObj(r['route']['weighted_clusters']) ? r['route']['weighted_clusters'] : undefined;
    for (const c of arr(wc?.['clusters'])) if (isObj(c) && isObj(c['weight']) && c['weight']['value'] === undefined) c['weight'] = 0;
  }
  return typedConfig;
}

/**
 * Compiles a listener in the bootstrap's shape: the one step shared by the xDS decoder and
 * a worker receiving the primary's snapshot. Problems go to `errors`.
 */
export function compileListenerResource(listener: ListenerConfig, errors: string[]): ListenerResource | undefined {
  const name = listener.name;
  const start = errors.length;
  const compiled = compileListener(listener, `listener ${name}`, errors);
  takeWarnings();
  if (compiled === undefined || errors.length > start) return undefined;
  let rds: ListenerResource['rds'];
  if (compiled.rds !== undefined) {
    const cs = parseConfigSource(compiled.rds.configSource, `listener ${name}: rds.config_source`, errors);
    if (cs === undefined || errors.length > start) return undefined;
    rds = { routeConfigName: compiled.rds.routeConfigName, configSource: cs };
  }
  return { name, listener, compiled, content: listenerContent(compiled), rds };
}

/**
 * The MetaProtocol chains of a listener that differ from `chain` only by TLS (istiod's
 * PERMISSIVE split: mTLS, TLS passthrough, plaintext, each with the same filters after
 * Aeraki's REPLACE). Chains for other ports (virtualInbound's destination_port) are left
 * to the address matching that takes them.
 */
function tlsSiblings(res: Obj, chain: Obj): Obj[] {
  const key = (c: Obj): string => {
    const m = isObj(c['filter_chain_match']) ? c['filter_chain_match'] : {};
    const { transport_protocol: _t, server_names: _s, application_protocols: _a, ...rest } = m;
    return JSON.stringify([c['filters'], rest]);
  };
  const want = key(chain);
  return arr(res['filter_chains']).filter((c): c is Obj => isObj(c) && key(c) === want);
}

/** The TLS criteria of a chain's filter_chain_match (the address criteria are not read here). */
function chainTlsMatch(chain: Obj): { filter_chain_match?: FilterChainMatchConfig } {
  const m = isObj(chain['filter_chain_match']) ? chain['filter_chain_match'] : undefined;
  if (m === undefined) return {};
  const out: { -readonly [K in keyof FilterChainMatchConfig]: FilterChainMatchConfig[K] } = {};
  if (typeof m['transport_protocol'] === 'string' && m['transport_protocol'] !== '') out.transport_protocol = m['transport_protocol'] as 'tls' | 'raw_buffer';
  if (Array.isArray(m['server_names'])) out.server_names = m['server_names'].map(String);
  if (Array.isArray(m['application_protocols'])) out.application_protocols = m['application_protocols'].map(String);
  return Object.keys(out).length === 0 ? {} : { filter_chain_match: out };
}

/** A filter chain's transport_socket (TLS termination), checked by compileListener. */
function chainTransport(chain: Obj, listener: string, errors: string[]): { transport_socket?: TransportSocketConfig } {
  if (chain['transport_socket'] === undefined) return {};
  const ts = transportSocket.parse(chain['transport_socket'], `listener ${listener}: filter_chains.transport_socket`, errors);
  takeWarnings();
  return ts === undefined ? {} : { transport_socket: ts };
}

/** Decodes a Listener proto (as protobufjs gives it) into a compiled MetaProtocol listener. */
export function decodeListener(res: Obj): DecodeResult<ListenerResource> {
  const name = nameOf(res);
  if (name === '') return { kind: 'invalid', errors: ['listener without a name'] };
  const chain = arr(res['filter_chains']).find((c) => isObj(c) && arr(c['filters']).some(isMetaProtocolFilter));
  if (!isObj(chain)) return { kind: 'ignored' };
  const errors: string[] = [];
  checkEnumValues('envoy.config.listener.v3.Listener', res, `listener ${name}`, errors);
  if (errors.length > 0) return { kind: 'invalid', errors };
  const chainFilters = arr(chain['filters']);
  const mppAt = chainFilters.findIndex(isMetaProtocolFilter);
  const filter = chainFilters[mppAt] as Obj;
  // Network RBAC filters in front of the proxy are kept (istiod's AuthorizationPolicies).
  const rbac = chainFilters.slice(0, mppAt).filter(isNetworkRbacFilter) as Obj[];
  const address = isObj(res['address']) ? res['address'] : {};
  const sa = isObj(address['socket_address']) ? address['socket_address'] : undefined;
  if (sa === undefined || typeof sa['address'] !== 'string') return { kind: 'invalid', errors: [`listener ${name}: a MetaProtocol listener needs address.socket_address`] };
  // traffic_direction decides which listeners an inbound-only drain stops (istio-proxy's shutdown).
  const direction = res['traffic_direction'];
  const listener = {
    name,
    address: { socket_address: { address: sa['address'], port_value: Number(sa['port_value'] ?? 0) } },
    ...(direction === 'INBOUND' || direction === 'OUTBOUND' ? { traffic_direction: direction } : {}),
    // The siblings carry the same filters as `chain` (tlsSiblings), so its RBAC filters too.
    filter_chains: tlsSiblings(res, chain).map((c) => ({
      filters: [
        ...rbac.map((f) => ({ name: String(f['name'] ?? ''), typed_config: f['typed_config'] })),
        { name: String(filter['name'] ?? ''), typed_config: zeroWeights(filter['typed_config']) },
      ],
      ...chainTransport(c, name, errors),
      ...chainTlsMatch(c),
    })),
    ...(arr(res['listener_filters']).some((f) => isObj(f) && (f['name'] === TLS_INSPECTOR || f['name'] === TLS_INSPECTOR_OLD)) ? { listener_filters: [{ name: TLS_INSPECTOR }] } : {}),
  } as ListenerConfig;
  if (errors.length > 0) return { kind: 'invalid', errors };
  const value = compileListenerResource(listener, errors);
  return value === undefined ? { kind: 'invalid', errors } : { kind: 'ok', value };
}

export const listenerType: XdsResourceType<ListenerResource> = {
  typeUrl: LISTENER_TYPE,
  shortName: 'lds',
  acceptance: 'per-resource',
  decode: decodeListener,
  validate: () => [],
  equal: (a, b) => sameContent(a.content, b.content),
};
