import type { CodecContext, CodecFactory } from '../../codecs/api/index.js';
import type { Filter } from '../../filters/api/index.js';
import { findCodec } from '../codec-registry.js';
import { filterNames, findFilter } from '../filter-registry.js';
import { logger } from '../logger.js';
import { compileObservability } from '../observability/compile-observability.js';
import type { ListenerObservability } from '../observability/compile-observability.js';
import { directionOf, ListenerFilterContext } from '../observability/filter-context.js';
import { RouteTable } from '../route/route-table.js';
import { sharedPolicy } from '../shared-policy/shared-policy.js';
import { META_PROTOCOL_PROXY_TYPE, metaProtocolProxy } from './bootstrap-schema.js';
import type { FilterChainConfig, ListenerConfig, MetaProtocolProxyConfig } from './bootstrap-schema.js';
import { ONEWAY_METHODS_KEY, OnewayMethods } from '../downstream/oneway-methods.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import { compileNetworkRbac } from './network-rbac.js';
import { compileChainMatch, FilterChainSelector, matchKey } from '../downstream/filter-chain-match.js';
import { originalDstUnavailable } from '../net/original-dst.js';
import { compileTcpProxy, TCP_PROXY_NAMES, TCP_PROXY_TYPE, tcpProxy } from '../tcp-proxy/tcp-proxy-config.js';
import type { CompiledTcpProxy, TcpProxyConfig } from '../tcp-proxy/tcp-proxy-config.js';
import { compileTransportSocket } from '../tls/compile-tls.js';
import type { TransportSpec } from '../tls/tls-spec.js';
import { TLS_INSPECTOR, TLS_INSPECTOR_OLD } from './tls-inspector-names.js';

export const DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const ROUTER = 'aeraki.meta_protocol.filters.router';
const TYPED_STRUCT_TYPES = new Set(['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']);

const META_PROTOCOL_NAMES = new Set(['envoy.filters.network.meta_protocol_proxy', 'aeraki.meta_protocol_proxy']);
const ORIGINAL_DST_FILTER = 'envoy.filters.listener.original_dst';
const ORIGINAL_DST_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
const TLS_INSPECTOR_TYPE = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/**
 * A listener, compiled: its address, how it finds a connection's original destination, and
 * every filter chain with its match (proxy/downstream/filter-chain-match.ts).
 */
export interface CompiledListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly source: ListenerConfig;
  /** false: no socket of its own; reached only by hand-off from a `use_original_dst` listener. */
  readonly bindToPort: boolean;
  /** Hands each connection to the listener of its original destination (virtualOutbound). */
  readonly useOriginalDst: boolean;
  /** The original destination is recovered (use_original_dst, or the original_dst listener filter). */
  readonly recoversOriginalDst: boolean;
  /** TPROXY: IP_TRANSPARENT on the socket; the local address is the original destination. */
  readonly transparent: boolean;
  /**
   * Read each connection's first bytes (the ClientHello) before a chain is chosen: the
   * tls_inspector listener filter is there, or a chain matches on transport_protocol tls,
   * server_names or application_protocols (without the inspector Envoy would see every
   * connection as raw_buffer without SNI or ALPN, and such a chain could never match).
   */
  readonly inspectTls: boolean;
  readonly chains: readonly CompiledChain[];
  readonly defaultChain: CompiledChain | undefined;
  readonly selector: FilterChainSelector<CompiledChain>;
  /** The MetaProtocol chains, in order (stats, route warnings, observability). */
  readonly metaChains: readonly CompiledMetaChain[];
  /**
   * The MetaRDS route config its MetaProtocol chains subscribe to (one per listener: Aeraki
   * gives each outbound listener one chain); undefined when their routes are inline.
   */
  readonly rds: { readonly routeConfigName: string; readonly configSource: unknown } | undefined;
}

/**
 * One filter chain: a MetaProtocol proxy, or a tcp_proxy that copies bytes; `transport` is
 * how its connections are terminated (its DownstreamTlsContext, or plaintext).
 */
export type CompiledChain =
  | { readonly name: string; readonly index: number; readonly transport: TransportSpec; readonly kind: 'meta'; readonly meta: CompiledMetaChain }
  | { readonly name: string; readonly index: number; readonly transport: TransportSpec; readonly kind: 'tcp'; readonly tcp: CompiledTcpProxy; readonly tcpConfig: TcpProxyConfig; readonly networkRbac: readonly RbacAuthorizer[] };

/** A MetaProtocol filter chain, compiled: what a downstream connection on it needs. */
export interface CompiledMetaChain {
  /** The listener's name. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: string;
  readonly statPrefix: string;
  readonly codecFactory: CodecFactory;
  readonly codecContext: CodecContext;
  readonly routeTable: RouteTable;
  readonly filters: readonly (() => Filter)[];
  /** What the filters were created with; the server that adopts the listener binds it (stats, node). */
  readonly filterContext: ListenerFilterContext;
  /** `envoy.filters.network.rbac` filters in front of the proxy, in chain order (often none). */
  readonly networkRbac: readonly RbacAuthorizer[];
  readonly idleTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number;
  readonly source: ListenerConfig;
  readonly proxyConfig: MetaProtocolProxyConfig;
  /** Methods declared one-way (codec config `onewayMethods`), undefined when none. */
  readonly onewayMethods: OnewayMethods | undefined;
  /** Access logs, tracing and Istio stats of this listener. */
  readonly observability: ListenerObservability;
  /**
   * Set when the routes come from MetaRDS: the route config name to subscribe to. Until the
   * first table arrives, `routeTable` is empty and every request gets a no-route reply.
   */
  readonly rds: { readonly routeConfigName: string; readonly configSource: unknown } | undefined;
}

/**
 * Unwraps a typed_config given directly or inside a TypedStruct (as Aeraki's EnvoyFilter
 * delivers it) and returns the payload when its type is `wantType`.
 */
export function unwrapTypedConfig(value: unknown, wantType: string, path: string, errors: string[]): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected an object with '@type'`);
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  const type = obj['@type'];
  if (typeof type === 'string' && TYPED_STRUCT_TYPES.has(type)) {
    const inner = obj['type_url'] ?? obj['typeUrl'];
    if (inner !== wantType) {
      errors.push(`${path}.type_url: expected ${wantType}, got ${JSON.stringify(inner)}`);
      return undefined;
    }
    const v = obj['value'];
    if (typeof v !== 'object' || v === null) {
      errors.push(`${path}.value: expected an object`);
      return undefined;
    }
    return v as Record<string, unknown>;
  }
  if (type !== wantType) {
    errors.push(`${path}.@type: expected ${wantType}, got ${JSON.stringify(type)}`);
    return undefined;
  }
  const { ['@type']: _drop, ...rest } = obj;
  return rest;
}

export function compileListener(l: ListenerConfig, path: string, errors: string[]): CompiledListener | undefined {
  const startErrors = errors.length;
  const useOriginalDst = l.use_original_dst === true;
  let originalDstFilter = false;
  let tlsInspector = false;
  (l.listener_filters ?? []).forEach((f, i) => {
    const type = typeof f.typed_config === 'object' && f.typed_config !== null ? (f.typed_config as Record<string, unknown>)['@type'] : undefined;
    if (f.name === ORIGINAL_DST_FILTER || type === ORIGINAL_DST_FILTER_TYPE) originalDstFilter = true;
    else if (f.name === TLS_INSPECTOR || f.name === TLS_INSPECTOR_OLD || type === TLS_INSPECTOR_TYPE) tlsInspector = true;
    else errors.push(`${path}.listener_filters[${i}]: unknown listener filter '${f.name}' (Meltemi runs ${ORIGINAL_DST_FILTER} and ${TLS_INSPECTOR})`);
  });
  const recoversOriginalDst = useOriginalDst || originalDstFilter;
  const transparent = l.transparent === true;
  // TPROXY reads the local address; REDIRECT needs getsockopt, which only the addon has.
  const missing = recoversOriginalDst && !transparent ? originalDstUnavailable() : undefined;
  if (missing !== undefined) errors.push(`${path}: ${useOriginalDst ? 'use_original_dst' : ORIGINAL_DST_FILTER} needs the original destination of each connection, which is not available here: ${missing}`);
  if (transparent && !(l.bind_to_port ?? true)) errors.push(`${path}.transparent: a listener with bind_to_port false has no socket to make transparent`);
  const chainCfgs = l.filter_chains ?? [];
  if (chainCfgs.length === 0 && l.default_filter_chain === undefined) errors.push(`${path}: no filter_chains and no default_filter_chain`);
  const chains: CompiledChain[] = [];
  const entries: { match: ReturnType<typeof compileChainMatch>; value: CompiledChain }[] = [];
  const seen = new Map<string, number>();
  chainCfgs.forEach((fc, i) => {
    const cpath = `${path}.filter_chains[${i}]`;
    const match = compileChainMatch(fc.filter_chain_match, `${cpath}.filter_chain_match`, errors);
    const key = matchKey(match);
    const dup = seen.get(key);
    if (dup !== undefined) errors.push(`${cpath}.filter_chain_match: the same match as filter_chains[${dup}] (Envoy refuses chains that cannot be told apart)`);
    seen.set(key, i);
    const chain = compileChain(l, fc, i, cpath, errors);
    if (chain === undefined) return;
    chains.push(chain);
    entries.push({ match, value: chain });
  });
  const defaultChain = l.default_filter_chain === undefined ? undefined : compileChain(l, l.default_filter_chain, -1, `${path}.default_filter_chain`, errors);
  if (errors.length > startErrors) return undefined;
  const metaChains = [...chains, ...(defaultChain === undefined ? [] : [defaultChain])].flatMap((c) => (c.kind === 'meta' ? [c.meta] : []));
  const rdsNames = new Set(metaChains.flatMap((m) => (m.rds === undefined ? [] : [m.rds.routeConfigName])));
  if (rdsNames.size > 1) {
    errors.push(`${path}: the MetaProtocol chains subscribe to ${rdsNames.size} MetaRDS route configs (${[...rdsNames].join(', ')}); Meltemi takes one per listener`);
    return undefined;
  }
  const sa = l.address.socket_address;
  return {
    name: l.name,
    host: sa.address,
    port: sa.port_value ?? 0,
    source: l,
    bindToPort: l.bind_to_port ?? true,
    useOriginalDst,
    recoversOriginalDst,
    transparent,
    inspectTls: tlsInspector || [...chainCfgs, ...(l.default_filter_chain === undefined ? [] : [l.default_filter_chain])].some((fc) => needsTlsInspection(fc)),
    chains,
    defaultChain,
    selector: new FilterChainSelector(entries, defaultChain),
    metaChains,
    rds: metaChains.find((m) => m.rds !== undefined)?.rds,
  };
}

/**
 * One filter chain: one terminal network filter, the MetaProtocol proxy or tcp_proxy. The
 * MetaProtocol proxy may have `envoy.filters.network.rbac` filters in front of it (istiod puts
 * one per AuthorizationPolicy action on every inbound chain); they run on the chain selected
 * for a connection.
 */
function compileChain(l: ListenerConfig, fc: FilterChainConfig, index: number, path: string, errors: string[]): CompiledChain | undefined {
  const filters = fc.filters;
  const name = fc.name ?? (index < 0 ? 'default' : `${index}`);
  if (filters.length === 0) {
    errors.push(`${path}.filters: no network filter (the MetaProtocol proxy or tcp_proxy is needed)`);
    return undefined;
  }
  // TLS termination of this chain's connections (DownstreamTlsContext), or plaintext.
  const transport = compileTransportSocket(fc.transport_socket, 'downstream', `${path}.transport_socket`, errors);
  const last = filters.length - 1;
  const f = filters[last]!;
  const fpath = `${path}.filters[${last}].typed_config`;
  const type = typedConfigType(f.typed_config);
  if (TCP_PROXY_NAMES.has(f.name) || type === TCP_PROXY_TYPE) {
    // Network RBAC may stand in front of tcp_proxy too (istiod's policies on pass-through chains).
    const networkRbac = compileNetworkRbac(filters.slice(0, last), `${path}.filters`, errors);
    const raw = unwrapTypedConfig(f.typed_config, TCP_PROXY_TYPE, fpath, errors);
    if (raw === undefined || networkRbac === undefined) return undefined;
    const startErrors = errors.length;
    const cfg = tcpProxy.parse(raw, fpath, errors);
    if (cfg === undefined || errors.length > startErrors) return undefined;
    const tcp = compileTcpProxy(cfg, fpath, errors);
    return tcp === undefined || transport === undefined ? undefined : { name, index, transport, kind: 'tcp', tcp, tcpConfig: cfg, networkRbac };
  }
  if (!META_PROTOCOL_NAMES.has(f.name) && type !== META_PROTOCOL_PROXY_TYPE) {
    errors.push(`${path}.filters[${last}]: unknown network filter '${f.name}' (Meltemi runs envoy.filters.network.meta_protocol_proxy and envoy.filters.network.tcp_proxy)`);
    return undefined;
  }
  const networkRbac = compileNetworkRbac(filters.slice(0, last), `${path}.filters`, errors);
  const raw = unwrapTypedConfig(f.typed_config, META_PROTOCOL_PROXY_TYPE, fpath, errors);
  if (raw === undefined || networkRbac === undefined) return undefined;
  const startErrors = errors.length;
  const cfg = metaProtocolProxy.parse(raw, fpath, errors);
  if (cfg === undefined || errors.length > startErrors) return undefined;
  const meta = compileProxyConfig(l, cfg, networkRbac, fpath, errors);
  return meta === undefined || transport === undefined ? undefined : { name, index, transport, kind: 'meta', meta };
}

/** A chain whose match reads what only the ClientHello tells (SNI, ALPN, TLS or not). */
function needsTlsInspection(fc: FilterChainConfig): boolean {
  const m = fc.filter_chain_match;
  return m !== undefined && ((m.server_names ?? []).length > 0 || m.transport_protocol === 'tls' || (m.application_protocols ?? []).length > 0);
}

/** The type a typed_config declares, looking inside a TypedStruct. */
function typedConfigType(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const t = o['@type'];
  if (typeof t === 'string' && TYPED_STRUCT_TYPES.has(t)) {
    const inner = o['type_url'] ?? o['typeUrl'];
    return typeof inner === 'string' ? inner : undefined;
  }
  return typeof t === 'string' ? t : undefined;
}

function compileProxyConfig(
  l: ListenerConfig,
  cfg: MetaProtocolProxyConfig,
  networkRbac: readonly RbacAuthorizer[],
  path: string,
  errors: string[],
): CompiledMetaChain | undefined {
  const codecCfg = cfg.protocol?.codec ?? cfg.codec;
  if (codecCfg === undefined) {
    errors.push(`${path}.codec: required field is missing (or protocol.codec)`);
    return undefined;
  }
  const codecFactory = findCodec(codecCfg.name);
  if (codecFactory === undefined) {
    errors.push(`${path}.codec.name: unknown codec '${codecCfg.name}'`);
    return undefined;
  }
  if (cfg.route_config === undefined && cfg.rds === undefined) {
    errors.push(`${path}: one of route_config or rds is required`);
    return undefined;
  }
  let routeTable = RouteTable.EMPTY;
  if (cfg.route_config !== undefined) {
    try {
      routeTable = new RouteTable(cfg.route_config);
    } catch (err) {
      errors.push(`${path}.route_config: ${(err as Error).message}`);
      return undefined;
    }
  }
  const makers: (() => Filter)[] = [];
  // Shared buckets are named by listener, the same in every worker.
  const filterContext = new ListenerFilterContext(`meta_protocol.${listenerProtocol(cfg, codecFactory)}.${cfg.stat_prefix}.`, directionOf(l.traffic_direction), (id, spec) =>
    sharedPolicy()?.tokenBucket(`${l.name}/${id}`, spec),
  );
  const filterCfgs = cfg.meta_protocol_filters ?? [];
  filterCfgs.forEach((f, i) => {
    const fp = `${path}.meta_protocol_filters[${i}]`;
    const factory = findFilter(f.name);
    if (factory === undefined) {
      // Envoy's is_optional: a filter this proxy lacks is left out instead of refusing the listener.
      if (f.is_optional === true) logger.warn({ listener: l.name }, `${fp}: unknown optional filter ${f.name} skipped`);
      else errors.push(`${fp}.name: unknown filter ${f.name} (known: ${filterNames().join(', ')})`);
      return;
    }
    if (factory.terminal === true && i !== filterCfgs.length - 1) errors.push(`${fp}: the terminal filter ${f.name} must be last`);
    try {
      makers.push(factory.create(f.config, filterContext));
    } catch (err) {
      errors.push(`${fp}.config: ${(err as Error).message}`);
    }
  });
  if (!filterCfgs.some((f) => f.name === ROUTER)) {
    const router = findFilter(ROUTER);
    if (router !== undefined) makers.push(router.create(undefined, filterContext));
  }
  const observability = compileObservability(cfg, cfg.stat_prefix, path, errors);
  const sa = l.address.socket_address;
  const options = codecCfg.config !== undefined && typeof codecCfg.config === 'object' && codecCfg.config !== null ? (codecCfg.config as Record<string, unknown>) : {};
  const onewayMethods = OnewayMethods.fromCodecOptions(options, `${path}.codec.config.${ONEWAY_METHODS_KEY}`, errors);
  return {
    name: l.name,
    host: sa.address,
    port: sa.port_value ?? 0,
    protocol: listenerProtocol(cfg, codecFactory),
    statPrefix: cfg.stat_prefix,
    codecFactory,
    codecContext: { maxFrameSize: cfg.max_frame_size ?? DEFAULT_MAX_FRAME_SIZE, options, wantedKeys: routeTable.keys },
    routeTable,
    filters: makers,
    filterContext,
    networkRbac,
    onewayMethods,
    idleTimeoutMs: cfg.idle_timeout,
    requestTimeoutMs: cfg.request_timeout ?? DEFAULT_REQUEST_TIMEOUT_MS,
    source: l,
    proxyConfig: cfg,
    observability,
    rds: cfg.rds === undefined ? undefined : { routeConfigName: cfg.rds.route_config_name, configSource: cfg.rds.config_source },
  };
}

/** The protocol name of a listener's stats (`meta_protocol.<protocol>.`). */
function listenerProtocol(cfg: MetaProtocolProxyConfig, codecFactory: CodecFactory): string {
  return cfg.protocol?.name || cfg.application_protocol || codecFactory.protocol;
}
