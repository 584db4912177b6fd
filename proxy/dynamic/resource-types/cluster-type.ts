/**
 * CDS Clusters. ORIGINAL_DST clusters (Istio's PassthroughCluster, InboundPassthroughCluster,
 * inbound|<port>||) connect each request or connection to its original destination, from
 * `upstream_bind_config.source_address` when set. Kinds Meltemi cannot serve (a custom cluster_type) are kept
 * with no hosts, as Envoy would accept them: requests to them get a no-healthy-upstream
 * reply. An EDS cluster's hosts come from its service name's ClusterLoadAssignment.
 */
import type { DecodeResult, XdsResourceType } from '../../../xds-client/resource-type.js';
import { sameContent } from '../../../xds-client/resource-equality.js';
import { checkEnumValues } from '../../../xds-client/enum-check.js';
import { CLUSTER_TYPE } from '../../../xds-client/type-urls.js';
import type { ConfigSourceConfig } from '../../config/bootstrap-schema.js';
import type { CompiledCluster } from '../../config/compile.js';
import { MAX_TIMER_MS } from '../../../config/schema.js';
import { clusterPolicyOf } from '../../upstream/cluster-policy.js';
import { LB_POLICIES } from '../../upstream/lb/index.js';
import type { ClusterLbConfig, LbPolicy } from '../../upstream/lb/index.js';
import { parseConfigSource } from './config-source.js';
import { hostsOf } from './endpoint-type.js';
import { isObj } from './plain-object.js';
import { takeWarnings } from '../../../config/schema.js';
import { transportSocket } from '../../config/tls-schema.js';
import { PLAINTEXT_CLUSTER, compileClusterTransport } from '../../tls/cluster-transport.js';
import type { ClusterTransport } from '../../tls/cluster-transport.js';
import type { Obj } from './plain-object.js';

/** A cluster from CDS; an EDS cluster's hosts come from `eds.serviceName`'s assignment. */
export interface ClusterResource {
  readonly cluster: CompiledCluster;
  readonly eds: { readonly serviceName: string; readonly configSource: ConfigSourceConfig | undefined } | undefined;
}

const SUPPORTED_CLUSTER_TYPES = new Set(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS']);

function durationMs(v: unknown): number | undefined {
  if (!isObj(v)) return undefined;
  return Number(v['seconds'] ?? 0) * 1000 + Number(v['nanos'] ?? 0) / 1e6;
}

/** Reads a Cluster into `errors` and `warnings` (unsupported policies fall back with a warning). */
function decodeClusterInto(res: Obj, errors: string[], warnings: string[]): ClusterResource | undefined {
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
  const policy = clusterPolicyOf(res, warnings);
  const bind = isObj(res['upstream_bind_config']) && isObj(res['upstream_bind_config']['source_address']) ? res['upstream_bind_config']['source_address'] : undefined;
  const sourceAddress = typeof bind?.['address'] === 'string' && bind['address'] !== '' ? { sourceAddress: bind['address'] } : {};
  // TLS that cannot be honoured NACKs the cluster: it never goes out in plaintext.
  const tlsStart = errors.length;
  const transport = clusterTransportOf(res, `cluster ${name}`, errors);
  if (errors.length > tlsStart) return undefined;
  if (type === 'ORIGINAL_DST') {
    // lb_policy CLUSTER_PROVIDED: the cluster picks the host (the original destination).
    return { cluster: { name, connectTimeoutMs, hosts: [], lb: { policy: 'ROUND_ROBIN' }, policy, originalDst: true, ...sourceAddress, ...transport }, eds: undefined };
  }
  const lb = lbConfigOf(res, name, warnings);
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
      source = parseConfigSource(ecc['eds_config'], `cluster ${name}: eds_cluster_config.eds_config`, errors);
      if (errors.length > start) return undefined;
    }
    return { cluster: { name, connectTimeoutMs, hosts: [], lb, policy, ...sourceAddress, ...transport }, eds: { serviceName, configSource: source } };
  }
  const hosts = hostsOf(res['load_assignment'], `cluster ${name}: load_assignment`, errors);
  if (hosts === undefined) return undefined;
  return { cluster: { name, connectTimeoutMs, hosts, lb, policy, ...sourceAddress, ...transport }, eds: undefined };
}

/** The cluster's transport_socket and transport_socket_matches, checked as strictly as the bootstrap's. */
function clusterTransportOf(res: Obj, path: string, errors: string[]): { transport?: ClusterTransport } {
  const start = errors.length;
  const ts = res['transport_socket'] === undefined ? undefined : transportSocket.parse(res['transport_socket'], `${path}: transport_socket`, errors);
  const matches = (Array.isArray(res['transport_socket_matches']) ? (res['transport_socket_matches'] as unknown[]) : []).map((m, i) => {
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

/** Decodes a Cluster proto (as protobufjs gives it). */
export function decodeCluster(res: Obj): DecodeResult<ClusterResource> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const value = decodeClusterInto(res, errors, warnings);
  return value === undefined || errors.length > 0 ? { kind: 'invalid', errors } : { kind: 'ok', value, warnings };
}

export const clusterType: XdsResourceType<ClusterResource> = {
  typeUrl: CLUSTER_TYPE,
  shortName: 'cds',
  acceptance: 'all-or-nothing',
  decode: decodeCluster,
  validate: () => [],
  equal: sameContent,
};
