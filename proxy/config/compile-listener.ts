import type { CodecContext, CodecFactory } from '../../codecs/api/index.js';
import type { Filter } from '../../filters/api/index.js';
import { findCodec } from '../codec-registry.js';
import { filterNames, findFilter } from '../filter-registry.js';
import { logger } from '../logger.js';
import { compileObservability } from '../observability/compile-observability.js';
import type { ListenerObservability } from '../observability/compile-observability.js';
import { directionOf, ListenerFilterContext } from '../observability/filter-context.js';
import { RouteTable } from '../route/route-table.js';
import { META_PROTOCOL_PROXY_TYPE, metaProtocolProxy } from './bootstrap-schema.js';
import type { ListenerConfig, MetaProtocolProxyConfig } from './bootstrap-schema.js';
import { compileChains } from '../tls/compile-chains.js';
import type { CompiledChains } from '../tls/compile-chains.js';
import { ONEWAY_METHODS_KEY, OnewayMethods } from '../downstream/oneway-methods.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import { compileNetworkRbac } from './network-rbac.js';

export const DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const ROUTER = 'aeraki.meta_protocol.filters.router';
const TYPED_STRUCT_TYPES = new Set(['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']);

/** A listener, compiled: what the runtime needs to serve it. */
export interface CompiledListener {
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
  /** The filter chains by match (tls / raw_buffer, SNI, ALPN) with their TLS termination. */
  readonly chains: CompiledChains;
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
    errors.push(`${path}.@type: expected ${wantType}, got ${JSON.stringify(type)} (only the MetaProtocol proxy network filter is supported)`);
    return undefined;
  }
  const { ['@type']: _drop, ...rest } = obj;
  return rest;
}

export function compileListener(l: ListenerConfig, path: string, errors: string[]): CompiledListener | undefined {
  const startErrors = errors.length;
  const filters = l.filter_chains[0]?.filters ?? [];
  // The MetaProtocol proxy is the last (terminal) filter; network RBAC filters may precede it.
  const last = filters.length - 1;
  const networkRbac = compileNetworkRbac(filters.slice(0, Math.max(last, 0)), `${path}.filter_chains[0].filters`, errors);
  const fpath = `${path}.filter_chains[0].filters[${Math.max(last, 0)}].typed_config`;
  const raw = unwrapTypedConfig(filters[last]?.typed_config, META_PROTOCOL_PROXY_TYPE, fpath, errors);
  if (raw === undefined || networkRbac === undefined) return undefined;
  const cfg = metaProtocolProxy.parse(raw, fpath, errors);
  const chains = compileChains(l, path, errors);
  if (cfg === undefined || chains === undefined || errors.length > startErrors) return undefined;
  return compileProxyConfig(l, cfg, networkRbac, fpath, errors, chains);
}

function compileProxyConfig(
  l: ListenerConfig,
  cfg: MetaProtocolProxyConfig,
  networkRbac: readonly RbacAuthorizer[],
  path: string,
  errors: string[],
  chains: CompiledChains,
): CompiledListener | undefined {
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
  const filterContext = new ListenerFilterContext(`meta_protocol.${listenerProtocol(cfg, codecFactory)}.${cfg.stat_prefix}.`, directionOf(l.traffic_direction));
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
    chains,
  };
}

/** The protocol name of a listener's stats (`meta_protocol.<protocol>.`). */
function listenerProtocol(cfg: MetaProtocolProxyConfig, codecFactory: CodecFactory): string {
  return cfg.protocol?.name || cfg.application_protocol || codecFactory.protocol;
}
