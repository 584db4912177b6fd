/**
 * LDS Listeners. MetaProtocol listeners and the interception listeners are Meltemi's (an
 * istiod push also carries HTTP and TCP listeners: those are left out, not rejected). A listener is compiled once,
 * here; the applier starts it from the compiled form. A listener that cannot be used (an
 * unknown filter, a bad field) is rejected alone, as Envoy does: the others of the push
 * apply and it keeps its previous version.
 */
import { transportSocket } from '../../config/tls-schema.js';
import type { XdsResourceType } from '../../../xds-client/resource-type.js';
import type { DecodeResult } from '../../../xds-client/resource-type.js';
import { sameContent } from '../../../xds-client/resource-equality.js';
import { checkEnumValues } from '../../../xds-client/enum-check.js';
import { LISTENER_TYPE } from '../../../xds-client/type-urls.js';
import { META_PROTOCOL_PROXY_TYPE } from '../../config/bootstrap-schema.js';
import { TCP_PROXY_TYPE } from '../../tcp-proxy/tcp-proxy-config.js';
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

function isTcpProxyFilter(f: unknown): boolean {
  if (!isObj(f) || !isObj(f['typed_config'])) return false;
  const tc = f['typed_config'];
  const type = tc['@type'];
  return type === TCP_PROXY_TYPE || (typeof type === 'string' && TYPED_STRUCTS.has(type) && tc['type_url'] === TCP_PROXY_TYPE);
}

/**
 * A chain as Meltemi runs it: its terminal filter (the MetaProtocol proxy, else tcp_proxy),
 * and for a MetaProtocol chain the `envoy.filters.network.rbac` filters ahead of it; Istio's
 * metadata-exchange and telemetry filters are left out, as they always were for MetaProtocol
 * chains. Undefined for a chain with neither (an HTTP connection manager chain).
 */
function chainOf(c: unknown, listener: string, errors: string[]): Obj | undefined {
  if (!isObj(c)) return undefined;
  const filters = arr(c['filters']);
  const mppAt = filters.findIndex(isMetaProtocolFilter);
  const terminalAt = mppAt >= 0 ? mppAt : filters.findIndex(isTcpProxyFilter);
  const filter = filters[terminalAt] as Obj | undefined;
  if (filter === undefined) return undefined;
  // Network RBAC filters in front of the MetaProtocol proxy or tcp_proxy are kept: they are
  // istiod's AuthorizationPolicies, on virtualInbound's pass-through chains too.
  const rbac = filters.slice(0, terminalAt).filter(isNetworkRbacFilter) as Obj[];
  const out: Obj = {
    filters: [
      ...rbac.map((f) => ({ name: String(f['name'] ?? ''), typed_config: f['typed_config'] })),
      { name: String(filter['name'] ?? ''), typed_config: zeroWeights(filter['typed_config']) },
    ],
  };
  if (typeof c['name'] === 'string' && c['name'] !== '') out['name'] = c['name'];
  if (isObj(c['filter_chain_match'])) out['filter_chain_match'] = unwrapUInt32(c['filter_chain_match']);
  // TLS termination (DownstreamTlsContext), checked as strictly as the bootstrap's.
  if (c['transport_socket'] !== undefined) {
    const ts = transportSocket.parse(c['transport_socket'], `listener ${listener}: filter_chains.transport_socket`, errors);
    takeWarnings();
    if (ts !== undefined) out['transport_socket'] = ts;
  }
  return out;
}

/**
 * A FilterChainMatch as decoded: its UInt32Values (destination_port, prefix_len) come as
 * `{ value }`, and a zero as `{}` (proto3 leaves the default out); they become numbers.
 */
function unwrapUInt32(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapUInt32);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = (k === 'destination_port' || k === 'prefix_len') && isObj(x) ? Number(x['value'] ?? 0) : unwrapUInt32(x);
  return out;
}

/** A google.protobuf.BoolValue as decoded (`{ value }`, `{}` for false) or a plain bool. */
function wrappedBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (isObj(v)) return v['value'] === true;
  return undefined;
}

/** Listener filters Meltemi has no use for in an xDS listener: the HTTP inspector only serves the HTTP chains left out. */
const DROPPED_LISTENER_FILTERS = new Set(['envoy.filters.listener.http_inspector']);

/**
 * Decodes a Listener proto (as protobufjs gives it) into a compiled listener. Meltemi's are
 * the MetaProtocol listeners and, for transparent interception, the listeners that recover
 * or receive intercepted connections (virtualOutbound, virtualInbound, `<vip>_<port>` with
 * `bind_to_port: false`) with their MetaProtocol and tcp_proxy chains.
 */
export function decodeListener(res: Obj): DecodeResult<ListenerResource> {
  const name = nameOf(res);
  if (name === '') return { kind: 'invalid', errors: ['listener without a name'] };
  const tlsErrors: string[] = [];
  const chains = arr(res['filter_chains'])
    .map((c) => chainOf(c, name, tlsErrors))
    .filter((c): c is Obj => c !== undefined);
  const defaultChain = chainOf(res['default_filter_chain'], name, tlsErrors);
  const listenerFilters = arr(res['listener_filters']).filter((f) => !(isObj(f) && DROPPED_LISTENER_FILTERS.has(String(f['name']))));
  const bindToPort = wrappedBool(res['bind_to_port']);
  const useOriginalDst = wrappedBool(res['use_original_dst']);
  const intercepting = useOriginalDst === true || bindToPort === false || listenerFilters.length > 0;
  const hasMeta = [...arr(res['filter_chains']), res['default_filter_chain']].some((c) => isObj(c) && arr(c['filters']).some(isMetaProtocolFilter));
  if (!hasMeta && !(intercepting && (chains.length > 0 || defaultChain !== undefined))) return { kind: 'ignored' };
  // A transport socket that cannot be honoured NACKs the listener: never plaintext instead of TLS.
  const errors: string[] = [...tlsErrors];
  checkEnumValues('envoy.config.listener.v3.Listener', res, `listener ${name}`, errors);
  if (errors.length > 0) return { kind: 'invalid', errors };
  const address = isObj(res['address']) ? res['address'] : {};
  const sa = isObj(address['socket_address']) ? address['socket_address'] : undefined;
  if (sa === undefined || typeof sa['address'] !== 'string') return { kind: 'invalid', errors: [`listener ${name}: a MetaProtocol listener needs address.socket_address`] };
  const optional: Obj = {};
  if (bindToPort !== undefined) optional['bind_to_port'] = bindToPort;
  if (useOriginalDst !== undefined) optional['use_original_dst'] = useOriginalDst;
  const transparent = wrappedBool(res['transparent']);
  if (transparent !== undefined) optional['transparent'] = transparent;
  if (listenerFilters.length > 0) {
    optional['listener_filters'] = listenerFilters.map((f) => (isObj(f) ? { name: f['name'], ...(f['typed_config'] !== undefined ? { typed_config: f['typed_config'] } : {}) } : f));
  }
  if (defaultChain !== undefined) optional['default_filter_chain'] = defaultChain;
  // traffic_direction decides which listeners an inbound-only drain stops (istio-proxy's shutdown).
  const direction = res['traffic_direction'];
  if (direction === 'INBOUND' || direction === 'OUTBOUND') optional['traffic_direction'] = direction;
  const listener = {
    name,
    address: { socket_address: { address: sa['address'], port_value: Number(sa['port_value'] ?? 0) } },
    filter_chains: chains,
    ...optional,
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
