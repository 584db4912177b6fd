/**
 * Envoy's `envoy.filters.network.tcp_proxy` (TcpProxy v3), the subset Istio generates: a
 * cluster or weighted clusters, the idle timeout, and an access log to a file. Other fields
 * are refused by name (config/schema.ts tells "not supported by Meltemi").
 */
import { duration, list, object, optional, str, wrappedInt } from '../../config/schema.js';
import type { Infer } from '../../config/schema.js';
import { compileTcpFormat, DEFAULT_TCP_FORMAT } from './tcp-access-log.js';
import type { TcpLogFormat } from './tcp-access-log.js';

export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const FILE_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
export const TCP_PROXY_NAMES = new Set(['envoy.filters.network.tcp_proxy', 'envoy.tcp_proxy']);

/** Envoy's default: one hour without a byte either way closes the connection. */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 60 * 60 * 1000;

/** An access log to a file, with Envoy's format commands (tcp-access-log.ts). */
const fileAccessLog = object(
  {
    name: str({ minLength: 1 }),
    typed_config: object(
      {
        '@type': optional(str()),
        path: str({ minLength: 1 }),
        log_format: optional(object({ text_format_source: optional(object({ inline_string: str() }, { proto: 'envoy.config.core.v3.DataSource' })) }, { proto: 'envoy.config.core.v3.SubstitutionFormatString' })),
      },
      { proto: 'envoy.extensions.access_loggers.file.v3.FileAccessLog' },
    ),
  },
  { proto: 'envoy.config.accesslog.v3.AccessLog' },
);

export const tcpProxy = object(
  {
    '@type': optional(str()),
    stat_prefix: str({ minLength: 1 }),
    cluster: optional(str({ minLength: 1 })),
    weighted_clusters: optional(
      object(
        { clusters: list(object({ name: str({ minLength: 1 }), weight: wrappedInt({ min: 1 }) }, { proto: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight' }), { minItems: 1 }) },
        { proto: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster' },
      ),
    ),
    /** 0 turns the timeout off; absent is Envoy's one hour. */
    idle_timeout: optional(duration()),
    access_log: optional(list(fileAccessLog)),
  },
  { oneOf: [['cluster', 'weighted_clusters']], proto: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy' },
);
export type TcpProxyConfig = Infer<typeof tcpProxy>;

/** A tcp_proxy filter, compiled. */
export interface CompiledTcpProxy {
  readonly statPrefix: string;
  /** Clusters with cumulative weights: a connection draws one (Envoy's weighted_clusters). */
  readonly clusters: readonly { readonly name: string; readonly upTo: number }[];
  readonly totalWeight: number;
  /** undefined: no idle timeout. */
  readonly idleTimeoutMs: number | undefined;
  readonly accessLogs: readonly { readonly path: string; readonly format: TcpLogFormat }[];
}

export function compileTcpProxy(cfg: TcpProxyConfig, path: string, errors: string[]): CompiledTcpProxy | undefined {
  const list = cfg.cluster !== undefined ? [{ name: cfg.cluster, weight: 1 }] : (cfg.weighted_clusters?.clusters ?? []);
  if (list.length === 0) {
    errors.push(`${path}: one of cluster or weighted_clusters is required`);
    return undefined;
  }
  let total = 0;
  const clusters = list.map((c) => ({ name: c.name, upTo: (total += c.weight) }));
  const idle = cfg.idle_timeout ?? DEFAULT_TCP_IDLE_TIMEOUT_MS;
  const accessLogs: { path: string; format: TcpLogFormat }[] = [];
  (cfg.access_log ?? []).forEach((a, i) => {
    const apath = `${path}.access_log[${i}].typed_config`;
    const type = a.typed_config['@type'];
    if (type !== undefined && type !== FILE_ACCESS_LOG_TYPE) {
      errors.push(`${apath}.@type: tcp_proxy access logs go to a file (${FILE_ACCESS_LOG_TYPE}), got ${type}`);
      return;
    }
    const format = compileTcpFormat(a.typed_config.log_format?.text_format_source?.inline_string ?? DEFAULT_TCP_FORMAT);
    if (typeof format === 'string') errors.push(`${apath}.log_format: ${format}`);
    else accessLogs.push({ path: a.typed_config.path, format });
  });
  return {
    statPrefix: cfg.stat_prefix,
    clusters,
    totalWeight: total,
    idleTimeoutMs: idle === 0 ? undefined : idle,
    accessLogs,
  };
}

/** The cluster for one connection (`draw` in [0, 1)). */
export function pickTcpCluster(p: CompiledTcpProxy, draw: number): string {
  const at = draw * p.totalWeight;
  for (const c of p.clusters) if (at < c.upTo) return c.name;
  return p.clusters[p.clusters.length - 1]!.name;
}
