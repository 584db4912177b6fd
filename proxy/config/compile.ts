import type { HostConfig } from '../upstream/cluster.js';
import { clusterPolicyOf } from '../upstream/cluster-policy.js';
import { localityFacts, subsetLabels } from '../upstream/endpoint-facts.js';
import type { ClusterPolicy } from '../upstream/cluster-policy.js';
import type { ClusterLbConfig } from '../upstream/lb/index.js';
import { bootstrap } from './bootstrap-schema.js';
import type { BootstrapConfig, ClusterConfig } from './bootstrap-schema.js';
import { ConfigError } from '../../config/errors.js';
import { compileListener } from './compile-listener.js';
import { PLAINTEXT_CLUSTER, compileClusterTransport, transportMatchLabels } from '../tls/cluster-transport.js';
import type { ClusterTransport } from '../tls/cluster-transport.js';
import type { CompiledListener } from './compile-listener.js';
import { takeWarnings, withUnknownFieldsAllowed } from '../../config/schema.js';
import { compileOverload } from '../overload/overload-config.js';
import { compileHttpListener, isHttpListener } from '../http/compile-http-listener.js';
import type { CompiledHttpListener } from '../http/compile-http-listener.js';
import type { OverloadSettings } from '../overload/overload-config.js';

export interface CompiledCluster {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly hosts: HostConfig[];
  /** Absent means round robin. */
  readonly lb?: ClusterLbConfig;
  /** Circuit breakers and outlier detection; absent means Envoy's defaults. */
  readonly policy?: ClusterPolicy;
  /** ORIGINAL_DST: each connection goes to its own original destination; `hosts` is empty. */
  readonly originalDst?: boolean;
  /** upstream_bind_config.source_address: the local address of every upstream connection. */
  readonly sourceAddress?: string;
  /** TLS per host (transport_socket, transport_socket_matches); absent means plaintext. */
  readonly transport?: ClusterTransport;
}

export interface RuntimeSettings {
  readonly connectionsPerHost: number;
  readonly drainTimeoutMs: number;
  readonly highWatermark: number;
  /** meltemi `keep_client_order`: a client's requests to a host share one upstream connection. */
  readonly keepClientOrder: boolean;
  /** Idle time after which an upstream connection sends the protocol's heartbeat. */
  readonly upstreamHeartbeatMs: number;
  /** A partly received frame not complete after this long closes its connection; 0: never. */
  readonly frameReadTimeoutMs: number;
  /** How long a draining connection sent a go-away frame is still read. */
  readonly drainGraceMs: number;
  readonly overload: OverloadSettings;
}

export interface CompiledConfig {
  readonly listeners: CompiledListener[];
  /** Static HTTP listeners (Istio's Prometheus and readiness ports); served by the process that runs the admin. */
  readonly httpListeners?: readonly CompiledHttpListener[];
  readonly clusters: CompiledCluster[];
  readonly admin: { host: string; port: number } | undefined;
  readonly settings: RuntimeSettings;
  readonly warnings: string[];
  readonly bootstrap: BootstrapConfig;
  /**
   * The document as given (the file with --config-yaml merged in), before validation turned
   * durations into milliseconds: /config_dump prints it in Envoy's form.
   */
  readonly document?: unknown;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Bootstrap extensions Istio's template adds that change nothing for Meltemi, and why. */
const HARMLESS_BOOTSTRAP_EXTENSIONS: Readonly<Record<string, string>> = {
  'envoy.bootstrap.internal_listener': 'Meltemi has no internal listeners, and no listener it serves names one',
};
/** Long enough for a large frame over a slow link, short enough that slow clients do not pile up. */
const DEFAULT_FRAME_READ_TIMEOUT_MS = 30_000;
/** Long enough for a client to see the go-away frame and stop sending on this connection. */
const DEFAULT_DRAIN_GRACE_MS = 500;

/** Compiles one cluster (static, or delivered by CDS). Unix-socket endpoints carry no RPC traffic and are skipped. */
export function compileCluster(c: ClusterConfig, path = `cluster ${c.name}`, errors: string[] = []): CompiledCluster {
  const hosts: HostConfig[] = [];
  for (const locality of c.load_assignment?.endpoints ?? []) {
    const facts = localityFacts(locality as unknown as Record<string, unknown>);
    for (const e of locality.lb_endpoints) {
      const sa = e.endpoint.address.socket_address;
      if (sa === undefined) continue;
      const status = e.health_status ?? 'UNKNOWN';
      const labels = subsetLabels(e as unknown as Record<string, unknown>);
      const transportMatch = transportMatchLabels(e as unknown as Record<string, unknown>);
      hosts.push({
        address: sa.address,
        port: sa.port_value ?? 0,
        healthy: status === 'UNKNOWN' || status === 'HEALTHY' || status === 'DEGRADED',
        weight: e.load_balancing_weight ?? 1,
        priority: facts.priority,
        locality: facts.locality,
        ...(facts.localityWeight !== undefined ? { localityWeight: facts.localityWeight } : {}),
        ...(labels !== undefined ? { labels } : {}),
        ...(transportMatch !== undefined ? { transportMatch } : {}),
      });
    }
  }
  const lb: ClusterLbConfig = {
    policy: c.lb_policy === undefined || c.lb_policy === 'CLUSTER_PROVIDED' ? 'ROUND_ROBIN' : c.lb_policy,
    ...(c.ring_hash_lb_config?.minimum_ring_size !== undefined ? { ringMinSize: c.ring_hash_lb_config.minimum_ring_size } : {}),
    ...(c.ring_hash_lb_config?.maximum_ring_size !== undefined ? { ringMaxSize: c.ring_hash_lb_config.maximum_ring_size } : {}),
    ...(c.maglev_lb_config?.table_size !== undefined ? { maglevTableSize: c.maglev_lb_config.table_size } : {}),
    ...(c.least_request_lb_config?.choice_count !== undefined ? { leastRequestChoices: c.least_request_lb_config.choice_count } : {}),
  };
  const policy = clusterPolicyOf({ circuit_breakers: c.circuit_breakers, outlier_detection: c.outlier_detection });
  const source = c.upstream_bind_config?.source_address;
  const transport = compileClusterTransport(c.transport_socket, c.transport_socket_matches, path, errors);
  return {
    name: c.name,
    connectTimeoutMs: c.connect_timeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    hosts,
    lb,
    policy,
    ...(c.type === 'ORIGINAL_DST' ? { originalDst: true } : {}),
    ...(source !== undefined ? { sourceAddress: source.address } : {}),
    ...(transport !== undefined && transport !== PLAINTEXT_CLUSTER ? { transport } : {}),
  };
}

/** What a cluster says that cannot be honoured together ("<field>: <problem>" each). */
export function clusterProblems(c: ClusterConfig): string[] {
  const out: string[] = [];
  const od = c.type === 'ORIGINAL_DST';
  if (od && (c.lb_policy ?? 'CLUSTER_PROVIDED') !== 'CLUSTER_PROVIDED') out.push(`lb_policy: an ORIGINAL_DST cluster needs CLUSTER_PROVIDED, got ${c.lb_policy}`);
  if (!od && c.lb_policy === 'CLUSTER_PROVIDED') out.push('lb_policy: CLUSTER_PROVIDED goes only with type ORIGINAL_DST');
  if (od && (c.load_assignment?.endpoints ?? []).some((e) => e.lb_endpoints.length > 0)) out.push('load_assignment: an ORIGINAL_DST cluster has no endpoints of its own');
  if (c.upstream_bind_config?.source_address.port_value !== undefined && c.upstream_bind_config.source_address.port_value !== 0) {
    out.push('upstream_bind_config.source_address.port_value: only 0 (any port) is supported');
  }
  return out;
}

export interface CompileOptions {
  /** Envoy's --allow-unknown-static-fields: fields in no proto are warned about, not refused. */
  readonly allowUnknownStaticFields?: boolean;
}

/** Validates a parsed bootstrap document and compiles it; throws ConfigError listing every problem. */
export function compileBootstrap(doc: unknown, source = 'bootstrap', opts: CompileOptions = {}): CompiledConfig {
  const errors: string[] = [];
  const warningsOfExtensions: string[] = [];
  takeWarnings();
  const allow = opts.allowUnknownStaticFields === true;
  const boot = withUnknownFieldsAllowed(allow, () => bootstrap.parse(doc, '', errors));
  if (boot === undefined || errors.length > 0) throw new ConfigError(errors, source);
  const listeners: CompiledListener[] = [];
  const httpListeners: CompiledHttpListener[] = [];
  const names = new Set<string>();
  (boot.static_resources?.listeners ?? []).forEach((l, i) => {
    const path = `static_resources.listeners[${i}]`;
    if (names.has(l.name)) errors.push(`${path}.name: duplicate listener name '${l.name}'`);
    names.add(l.name);
    if (isHttpListener(l)) {
      const http = withUnknownFieldsAllowed(allow, () => compileHttpListener(l, path, errors, boot.static_resources?.clusters ?? []));
      if (http !== undefined) httpListeners.push(http);
      return;
    }
    for (const f of ['ignore_global_conn_limit', 'bypass_overload_manager'] as const) {
      if (l[f] === true) errors.push(`${path}.${f}: not supported on a MetaProtocol listener (connection limits and overload actions apply to every one)`);
    }
    // The listener's typed_config is parsed here, and is part of the static bootstrap too.
    const compiled = withUnknownFieldsAllowed(allow, () => compileListener(l, path, errors));
    if (compiled !== undefined) listeners.push(compiled);
  });
  (boot.bootstrap_extensions ?? []).forEach((e, i) => {
    const reason = HARMLESS_BOOTSTRAP_EXTENSIONS[e.name];
    if (reason === undefined) errors.push(`bootstrap_extensions[${i}]: extension '${e.name}' is not supported by Meltemi`);
    else warningsOfExtensions.push(`bootstrap_extensions[${i}] (${e.name}): ignored (${reason})`);
  });
  const clusters: CompiledCluster[] = [];
  const clusterNames = new Set<string>();
  (boot.static_resources?.clusters ?? []).forEach((c, i) => {
    if (clusterNames.has(c.name)) errors.push(`static_resources.clusters[${i}].name: duplicate cluster name '${c.name}'`);
    clusterNames.add(c.name);
    const cpath = `static_resources.clusters[${i}]`;
    errors.push(...clusterProblems(c).map((p) => `${cpath}.${p}`));
    clusters.push(compileCluster(c, cpath, errors));
  });
  const overload = compileOverload(boot.overload_manager, boot.meltemi?.overload, errors);
  if (errors.length > 0) throw new ConfigError(errors, source);
  const warnings = [...takeWarnings(), ...warningsOfExtensions];
  for (const l of listeners) {
    for (const r of l.metaChains.flatMap((m) => m.routeTable.routes)) {
      for (const c of r.clusters) {
        if (!clusterNames.has(c)) warnings.push(`listener ${l.name}, route ${r.name}: cluster '${c}' is not defined (requests get a cluster-not-found error)`);
      }
    }
  }
  const m = boot.meltemi;
  const adminAddr = boot.admin?.address.socket_address;
  return {
    listeners,
    httpListeners,
    clusters,
    admin: adminAddr === undefined ? undefined : { host: adminAddr.address, port: adminAddr.port_value ?? 0 },
    settings: {
      connectionsPerHost: m?.upstream_connections_per_host ?? 2,
      drainTimeoutMs: m?.drain_timeout ?? 10_000,
      highWatermark: m?.write_buffer_high_watermark ?? 1024 * 1024,
      keepClientOrder: m?.keep_client_order ?? true,
      upstreamHeartbeatMs: m?.upstream_heartbeat_interval ?? 60_000,
      frameReadTimeoutMs: m?.frame_read_timeout ?? DEFAULT_FRAME_READ_TIMEOUT_MS,
      drainGraceMs: m?.drain_goaway_grace ?? DEFAULT_DRAIN_GRACE_MS,
      overload,
    },
    warnings,
    bootstrap: boot,
    document: doc,
  };
}
