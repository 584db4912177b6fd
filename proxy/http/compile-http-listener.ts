import type { ClusterConfig, ListenerConfig } from '../config/bootstrap-schema.js';
import { HCM_FILTER_NAME, HCM_TYPE, HTTP_ROUTER_NAME, HTTP_ROUTER_TYPE, httpConnectionManager } from './hcm-schema.js';
import type { HttpConnectionManagerConfig } from './hcm-schema.js';

/** Envoy's default route timeout. */
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Where an HTTP route forwards to: a static cluster's TCP or Unix-socket endpoints. */
export type HttpHost = { readonly host: string; readonly port: number } | { readonly socketPath: string };

export interface HttpUpstreamCluster {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly hosts: readonly HttpHost[];
}

export interface CompiledHttpRoute {
  readonly name: string;
  /** Envoy's semantics: `prefix` against the whole :path, `path` against it without the query. */
  readonly matches: (path: string) => boolean;
  readonly cluster: string;
  /** 0: no timeout. */
  readonly timeoutMs: number;
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly CompiledHttpRoute[];
}

/** A static HTTP listener (an HTTP connection manager), compiled. */
export interface CompiledHttpListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly statPrefix: string;
  readonly virtualHosts: readonly CompiledVirtualHost[];
  readonly clusters: ReadonlyMap<string, HttpUpstreamCluster>;
  readonly source: ListenerConfig;
}

/** True when the listener's network filter is an HTTP connection manager (not the MetaProtocol proxy). */
export function isHttpListener(l: ListenerConfig): boolean {
  return l.filter_chains.some((c) =>
    c.filters.some((f) => f.name === HCM_FILTER_NAME || (typeof f.typed_config === 'object' && f.typed_config !== null && (f.typed_config as Record<string, unknown>)['@type'] === HCM_TYPE)),
  );
}

function httpHosts(c: ClusterConfig): HttpHost[] {
  const out: HttpHost[] = [];
  for (const locality of c.load_assignment?.endpoints ?? []) {
    for (const e of locality.lb_endpoints) {
      const a = e.endpoint.address;
      if (a.pipe !== undefined) out.push({ socketPath: a.pipe.path });
      else if (a.socket_address !== undefined) out.push({ host: a.socket_address.address, port: a.socket_address.port_value ?? 0 });
    }
  }
  return out;
}

function routeMatcher(m: { prefix?: string; path?: string }): (path: string) => boolean {
  if (m.path !== undefined) {
    const want = m.path;
    return (p) => {
      const q = p.indexOf('?');
      return (q < 0 ? p : p.slice(0, q)) === want;
    };
  }
  const prefix = m.prefix ?? '/';
  return (p) => p.startsWith(prefix);
}

/**
 * Compiles a static HTTP listener. Its routes reach static clusters only (the admin, the
 * agent's status port): a cluster that is not in static_resources is an error, as is any
 * HTTP filter other than the router.
 */
export function compileHttpListener(l: ListenerConfig, path: string, errors: string[], staticClusters: readonly ClusterConfig[]): CompiledHttpListener | undefined {
  const start = errors.length;
  if (l.filter_chains.length !== 1) errors.push(`${path}.filter_chains: an HTTP listener has exactly one filter chain (got ${l.filter_chains.length})`);
  const filters = l.filter_chains[0]?.filters ?? [];
  if (filters.length !== 1) errors.push(`${path}.filter_chains[0].filters: an HTTP listener has exactly one network filter, ${HCM_FILTER_NAME}`);
  const f = filters[0];
  if (f === undefined) return undefined;
  const fpath = `${path}.filter_chains[0].filters[0]`;
  if (f.name !== HCM_FILTER_NAME) errors.push(`${fpath}.name: expected ${HCM_FILTER_NAME}, got '${f.name}'`);
  const typed = f.typed_config as Record<string, unknown> | undefined;
  if (typed?.['@type'] !== HCM_TYPE) errors.push(`${fpath}.typed_config.@type: expected ${HCM_TYPE}`);
  const hcm: HttpConnectionManagerConfig | undefined = httpConnectionManager.parse(typed, `${fpath}.typed_config`, errors);
  if (hcm === undefined || errors.length > start) return undefined;
  (hcm.http_filters ?? []).forEach((hf, i) => {
    const p = `${fpath}.typed_config.http_filters[${i}]`;
    if (hf.name !== HTTP_ROUTER_NAME) errors.push(`${p}: HTTP filter '${hf.name}' is not supported by Meltemi (only ${HTTP_ROUTER_NAME})`);
    else if (hf.typed_config !== undefined && hf.typed_config['@type'] !== HTTP_ROUTER_TYPE) errors.push(`${p}.typed_config.@type: expected ${HTTP_ROUTER_TYPE}`);
  });
  const byName = new Map(staticClusters.map((c) => [c.name, c]));
  const clusters = new Map<string, HttpUpstreamCluster>();
  const virtualHosts = hcm.route_config.virtual_hosts.map((vh, i) => ({
    name: vh.name,
    domains: vh.domains,
    routes: vh.routes.map((r, j): CompiledHttpRoute => {
      const p = `${fpath}.typed_config.route_config.virtual_hosts[${i}].routes[${j}]`;
      const c = byName.get(r.route.cluster);
      if (c === undefined) errors.push(`${p}.route.cluster: '${r.route.cluster}' is not a static cluster (HTTP routes reach static clusters only)`);
      else if (!clusters.has(c.name)) {
        const hosts = httpHosts(c);
        if (hosts.length === 0) errors.push(`${p}.route.cluster: cluster '${c.name}' has no endpoint`);
        clusters.set(c.name, { name: c.name, connectTimeoutMs: c.connect_timeout ?? DEFAULT_CONNECT_TIMEOUT_MS, hosts });
      }
      return { name: r.name ?? `${vh.name}/${j}`, matches: routeMatcher(r.match), cluster: r.route.cluster, timeoutMs: r.route.timeout ?? DEFAULT_ROUTE_TIMEOUT_MS };
    }),
  }));
  if (errors.length > start) return undefined;
  const sa = l.address.socket_address;
  return { name: l.name, host: sa.address, port: sa.port_value ?? 0, statPrefix: hcm.stat_prefix, virtualHosts, clusters, source: l };
}

/**
 * The virtual host for a Host header, in Envoy's order: an exact domain, then the longest
 * suffix wildcard (`*.example.com`), then the longest prefix wildcard (`example.*`), then `*`.
 */
export function selectVirtualHost(hosts: readonly CompiledVirtualHost[], hostHeader: string): CompiledVirtualHost | undefined {
  const host = hostHeader.toLowerCase();
  const bare = host.replace(/:\d+$/, '');
  let best: { vh: CompiledVirtualHost; rank: number; len: number } | undefined;
  for (const vh of hosts) {
    for (const d of vh.domains) {
      const dl = d.toLowerCase();
      let rank = -1;
      if (dl === host || dl === bare) rank = 3;
      else if (dl === '*') rank = 0;
      else if (dl.startsWith('*') && (bare.endsWith(dl.slice(1)) || host.endsWith(dl.slice(1))) && bare.length > dl.length - 1) rank = 2;
      else if (dl.endsWith('*') && (bare.startsWith(dl.slice(0, -1)) || host.startsWith(dl.slice(0, -1)))) rank = 1;
      if (rank < 0) continue;
      if (best === undefined || rank > best.rank || (rank === best.rank && dl.length > best.len)) best = { vh, rank, len: dl.length };
    }
  }
  return best?.vh;
}
