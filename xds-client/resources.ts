/**
 * Decoded xDS resources → Meltemi's config model, with validation. Every problem is pushed
 * to `errors` with the resource name, so a NACK can list them all (spec/xds.md §1.4).
 */
import type { CompiledCluster } from '../proxy/config/compile.js';
import { clusterPolicyOf } from '../proxy/upstream/cluster-policy.js';
import { localityFacts, subsetLabels } from '../proxy/upstream/endpoint-facts.js';
import { LB_POLICIES } from '../proxy/upstream/lb/index.js';
import type { ClusterLbConfig, LbPolicy } from '../proxy/upstream/lb/index.js';
import { compileListener } from '../proxy/config/compile-listener.js';
import { META_PROTOCOL_PROXY_TYPE, configSource } from '../proxy/config/bootstrap-schema.js';
import type { ConfigSourceConfig, ListenerConfig } from '../proxy/config/bootstrap-schema.js';
import { MAX_TIMER_MS, takeWarnings } from '../config/schema.js';
import type { HostConfig } from '../proxy/upstream/cluster.js';
import { checkEnumValues } from './enum-check.js';
import { transportSocket } from '../proxy/config/tls-schema.js';
import { TLS_INSPECTOR, TLS_INSPECTOR_OLD } from '../proxy/config/filter-chain-match-schema.js';
import type { FilterChainMatchConfig } from '../proxy/config/filter-chain-match-schema.js';
import type { TransportSocketConfig } from '../proxy/config/tls-schema.js';
import { PLAINTEXT_CLUSTER, compileClusterTransport, transportMatchLabels } from '../proxy/tls/cluster-transport.js';
import type { ClusterTransport } from '../proxy/tls/cluster-transport.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const TYPED_STRUCTS = new Set(['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']);

/** A MetaProtocol listener from LDS, in the bootstrap's shape (plain data, safe to send to workers). */
export interface ListenerResource {
  readonly name: string;
  readonly listener: ListenerConfig;
  /** The MetaRDS subscription of this listener, if its routes are not inline. */
  readonly rds: { readonly routeConfigName: string; readonly configSource: ConfigSourceConfig } | undefined;
}

/** A cluster from CDS; an EDS cluster's hosts come from `edsServiceName`'s assignment. */
export interface ClusterResource {
  readonly cluster: CompiledCluster;
  readonly eds: { readonly serviceName: string; readonly configSource: ConfigSourceConfig | undefined } | undefined;
}

function isMetaProtocolFilter(f: unknown): boolean {
  if (!isObj(f) || !isObj(f['typed_config'])) return false;
  const tc = f['typed_config'];
  const type = tc['@type'];
  if (type === META_PROTOCOL_PROXY_TYPE) return true;
  return typeof type === 'string' && TYPED_STRUCTS.has(type) && tc['type_url'] === META_PROTOCOL_PROXY_TYPE;
}

/**
 * A Listener. Listeners without the MetaProtocol proxy (an istiod push also carries HTTP and
 * TCP listeners) are not Meltemi's: they return 'not-ours' and are left out, not rejected.
 */
export function decodeListener(res: Obj, errors: string[]): ListenerResource | 'not-ours' | undefined {
  const name = typeof res['name'] === 'string' ? res['name'] : '';
  if (name === '') {
    errors.push('listener without a name');
    return undefined;
  }
  const chain = arr(res['filter_chains']).find((c) => isObj(c) && arr(c['filters']).some(isMetaProtocolFilter));
  if (!isObj(chain)) return 'not-ours';
  const before = errors.length;
  checkEnumValues('envoy.config.listener.v3.Listener', res, `listener ${name}`, errors);
  if (errors.length > before) return undefined;
  const filter = arr(chain['filters']).find(isMetaProtocolFilter) as Obj;
  const address = isObj(res['address']) ? res['address'] : {};
  const sa = isObj(address['socket_address']) ? address['socket_address'] : undefined;
  if (sa === undefined || typeof sa['address'] !== 'string') {
    errors.push(`listener ${name}: a MetaProtocol listener needs address.socket_address`);
    return undefined;
  }
  const listener = {
    name,
    address: { socket_address: { address: sa['address'], port_value: Number(sa['port_value'] ?? 0) } },
    filter_chains: tlsSiblings(res, chain).map((c) => ({
      filters: [{ name: String(filter['name'] ?? ''), typed_config: zeroWeights(filter['typed_config']) }],
      ...chainTransport(c, name, errors),
      ...chainTlsMatch(c),
    })),
    ...(arr(res['listener_filters']).some((f) => isObj(f) && (f['name'] === TLS_INSPECTOR || f['name'] === TLS_INSPECTOR_OLD)) ? { listener_filters: [{ name: TLS_INSPECTOR }] } : {}),
  } as ListenerConfig;
  const start = errors.length;
  const compiled = compileListener(listener, `listener ${name}`, errors);
  takeWarnings();
  if (compiled === undefined || errors.length > start) return undefined;
  let rds: ListenerResource['rds'];
  if (compiled.rds !== undefined) {
    const cs = configSource.parse(stripUnread(compiled.rds.configSource), `listener ${name}: rds.config_source`, errors);
    takeWarnings();
    if (cs === undefined || errors.length > start) return undefined;
    rds = { routeConfigName: compiled.rds.routeConfigName, configSource: cs };
  }
  return { name, listener, rds };
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

const SUPPORTED_CLUSTER_TYPES = new Set(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS']);

function durationMs(v: unknown): number | undefined {
  if (!isObj(v)) return undefined;
  return Number(v['seconds'] ?? 0) * 1000 + Number(v['nanos'] ?? 0) / 1e6;
}

/**
 * A Cluster. Kinds Meltemi cannot serve (ORIGINAL_DST, custom cluster_type) are kept with
 * no hosts, as Envoy would accept them: requests to them get a no-healthy-upstream reply.
 */
export function decodeCluster(res: Obj, errors: string[], warnings: string[]): ClusterResource | undefined {
  const name = typeof res['name'] === 'string' ? res['name'] : '';
  if (name === '') {
    errors.push('cluster without a name');
    return undefined;
  }
  // An unknown type or lb_policy would read as "not set" below: reject it instead.
  const before = errors.length;
  checkEnumValues('envoy.config.cluster.v3.Cluster', res, `cluster ${name}`, errors);
  if (errors.length > before) return undefined;
  const type = typeof res['type'] === 'string' ? res['type'] : res['cluster_type'] !== undefined ? 'CUSTOM' : 'STATIC';
  const connectTimeoutMs = durationMs(res['connect_timeout']) ?? 5000;
  // A Node timer longer than 2^31-1 ms fires after 1 ms: refuse it, as the bootstrap does.
  if (connectTimeoutMs > MAX_TIMER_MS) {
    errors.push(`cluster ${name}: connect_timeout ${connectTimeoutMs / 1000}s is longer than the longest timer Node.js supports (${MAX_TIMER_MS} ms)`);
    return undefined;
  }
  const lb = lbConfigOf(res, name, warnings);
  const policy = clusterPolicyOf(res, warnings);
  // TLS that cannot be honoured NACKs the cluster: it never goes out in plaintext.
  const tlsStart = errors.length;
  const transport = clusterTransportOf(res, `cluster ${name}`, errors);
  if (errors.length > tlsStart) return undefined;
  if (!SUPPORTED_CLUSTER_TYPES.has(type)) {
    warnings.push(`cluster ${name}: type ${type} is not supported; it has no hosts`);
    return { cluster: { name, connectTimeoutMs, hosts: [], lb, policy, ...transport }, eds: undefined };
  }
  if (type === 'EDS') {
    const ecc = isObj(res['eds_cluster_config']) ? res['eds_cluster_config'] : {};
    const serviceName = typeof ecc['service_name'] === 'string' && ecc['service_name'] !== '' ? ecc['service_name'] : name;
    let source: ConfigSourceConfig | undefined;
    if (ecc['eds_config'] !== undefined) {
      const start = errors.length;
      source = configSource.parse(stripUnread(ecc['eds_config']), `cluster ${name}: eds_cluster_config.eds_config`, errors);
      takeWarnings();
      if (errors.length > start) return undefined;
    }
    return { cluster: { name, connectTimeoutMs, hosts: [], lb, policy, ...transport }, eds: { serviceName, configSource: source } };
  }
  const hosts = hostsOf(res['load_assignment'], `cluster ${name}: load_assignment`, errors);
  if (hosts === undefined) return undefined;
  return { cluster: { name, connectTimeoutMs, hosts, lb, policy, ...transport }, eds: undefined };
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

/** The cluster's transport_socket and transport_socket_matches, checked as strictly as the bootstrap's. */
function clusterTransportOf(res: Obj, path: string, errors: string[]): { transport?: ClusterTransport } {
  const start = errors.length;
  const ts = res['transport_socket'] === undefined ? undefined : transportSocket.parse(res['transport_socket'], `${path}: transport_socket`, errors);
  const matches = arr(res['transport_socket_matches']).map((m, i) => {
    const mm = isObj(m) ? m : {};
    const t = mm['transport_socket'] === undefined ? undefined : transportSocket.parse(mm['transport_socket'], `${path}: transport_socket_matches[${i}].transport_socket`, errors);
    return { name: String(mm['name'] ?? ''), match: mm['match'], transport_socket: t };
  });
  takeWarnings();
  if (errors.length > start) return {};
  const ct = compileClusterTransport(ts, matches, path, errors);
  return ct === undefined || ct === PLAINTEXT_CLUSTER ? {} : { transport: ct };
}

/** The CDS balancing policy; ones Meltemi does not implement fall back to round robin with a warning. */
function lbConfigOf(res: Obj, name: string, warnings: string[]): ClusterLbConfig {
  const raw = typeof res['lb_policy'] === 'string' ? res['lb_policy'] : 'ROUND_ROBIN';
  const policy = (LB_POLICIES as readonly string[]).includes(raw) ? (raw as LbPolicy) : undefined;
  if (policy === undefined) warnings.push(`cluster ${name}: lb_policy ${raw} is not supported; using ROUND_ROBIN`);
  const num = (o: unknown, key: string): number | undefined => {
    if (!isObj(o)) return undefined;
    const v = o[key];
    const n = isObj(v) ? Number(v['value']) : Number(v);
    return v === undefined || !Number.isFinite(n) ? undefined : n;
  };
  const out: { -readonly [K in keyof ClusterLbConfig]: ClusterLbConfig[K] } = { policy: policy ?? 'ROUND_ROBIN' };
  const ringMin = num(res['ring_hash_lb_config'], 'minimum_ring_size');
  const ringMax = num(res['ring_hash_lb_config'], 'maximum_ring_size');
  const table = num(res['maglev_lb_config'], 'table_size');
  const choices = num(res['least_request_lb_config'], 'choice_count');
  if (ringMin !== undefined) out.ringMinSize = ringMin;
  if (ringMax !== undefined) out.ringMaxSize = ringMax;
  if (table !== undefined) out.maglevTableSize = table;
  if (choices !== undefined) out.leastRequestChoices = choices;
  return out;
}

/** Parses a ConfigSource as decoded from a proto or written in a bootstrap, keeping the fields Meltemi reads. */
export function parseConfigSource(raw: unknown, path: string, errors: string[]): ConfigSourceConfig | undefined {
  const cs = configSource.parse(stripUnread(raw), path, errors);
  takeWarnings();
  return cs;
}

/**
 * Keeps the ConfigSource fields Meltemi reads: Envoy fills others (authorities, path
 * sources), and a TypedStruct payload spells them in lowerCamel.
 */
function stripUnread(v: unknown): unknown {
  if (!isObj(v)) return v;
  const out: Obj = {};
  const pick = (snake: string, camel: string): unknown => v[snake] ?? v[camel];
  if (v['ads'] !== undefined) out['ads'] = {};
  const api = pick('api_config_source', 'apiConfigSource');
  if (api !== undefined) out['api_config_source'] = api;
  const rav = pick('resource_api_version', 'resourceApiVersion');
  if (typeof rav === 'string') out['resource_api_version'] = rav;
  const ift = pick('initial_fetch_timeout', 'initialFetchTimeout');
  if (ift !== undefined) out['initial_fetch_timeout'] = ift;
  return out;
}

/** The priority-0 hosts of a ClusterLoadAssignment (higher priorities are failover, not supported yet). */
export function hostsOf(cla: unknown, path: string, errors: string[]): HostConfig[] | undefined {
  const hosts: HostConfig[] = [];
  const start = errors.length;
  arr(isObj(cla) ? cla['endpoints'] : undefined).forEach((loc, i) => {
    if (!isObj(loc)) return;
    const facts = localityFacts(loc);
    arr(loc['lb_endpoints']).forEach((e, j) => {
      const ep = isObj(e) && isObj(e['endpoint']) ? e['endpoint'] : undefined;
      const addr = ep !== undefined && isObj(ep['address']) ? ep['address'] : undefined;
      const sa = addr !== undefined && isObj(addr['socket_address']) ? addr['socket_address'] : undefined;
      if (sa === undefined) {
        if (addr === undefined || addr['pipe'] === undefined) errors.push(`${path}.endpoints[${i}].lb_endpoints[${j}]: endpoint.address.socket_address is required`);
        return;
      }
      const port = Number(sa['port_value'] ?? 0);
      if (typeof sa['address'] !== 'string' || sa['address'] === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
        errors.push(`${path}.endpoints[${i}].lb_endpoints[${j}]: invalid socket address ${JSON.stringify(sa)}`);
        return;
      }
      const status = isObj(e) && typeof e['health_status'] === 'string' ? e['health_status'] : 'UNKNOWN';
      const w = isObj(e) ? e['load_balancing_weight'] : undefined;
      const weight = isObj(w) ? Number(w['value'] ?? 1) : typeof w === 'number' ? w : 1;
      const labels = isObj(e) ? subsetLabels(e) : undefined;
      const transportMatch = isObj(e) ? transportMatchLabels(e) : undefined;
      hosts.push({
        address: sa['address'],
        port,
        healthy: status === 'UNKNOWN' || status === 'HEALTHY' || status === 'DEGRADED',
        weight,
        priority: facts.priority,
        locality: facts.locality,
        ...(facts.localityWeight !== undefined ? { localityWeight: facts.localityWeight } : {}),
        ...(labels !== undefined ? { labels } : {}),
        ...(transportMatch !== undefined ? { transportMatch } : {}),
      });
    });
  });
  return errors.length > start ? undefined : hosts;
}

/** The name of a ClusterLoadAssignment (its `cluster_name`, the EDS resource name). */
export function endpointResourceName(res: Obj): string {
  return typeof res['cluster_name'] === 'string' ? res['cluster_name'] : '';
}
