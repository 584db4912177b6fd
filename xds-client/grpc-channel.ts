/**
 * The gRPC channel to a control plane named by `envoy_grpc.cluster_name`: the static
 * cluster's first endpoint (TCP or Unix socket), TLS/mTLS from the files its
 * transport_socket names, a raised receive limit and keepalive (spec/xds.md §1.7).
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../config/errors.js';
import type { XdsApiConfigSource, XdsBootstrap } from './bootstrap-types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Everything needed to open calls to one control plane. */
export interface ControlPlaneChannel {
  readonly clusterName: string;
  readonly target: string;
  readonly client: grpc.Client;
  readonly metadata: () => grpc.Metadata;
}

/** A file named by an Envoy DataSource: `{ filename }` or `{ inline_string }`. */
function dataSource(v: unknown, what: string): Buffer | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v['filename'] === 'string') return fs.readFileSync(v['filename']);
  if (typeof v['inline_string'] === 'string') return Buffer.from(v['inline_string']);
  if (typeof v['inline_bytes'] === 'string') return Buffer.from(v['inline_bytes'], 'base64');
  throw new ConfigError([`${what}: only filename, inline_string and inline_bytes are supported`], 'xDS control plane cluster');
}

/** grpc-js credentials from an UpstreamTlsContext (the cluster's transport_socket), or insecure. */
function credentialsOf(transportSocket: unknown, options: Record<string, unknown>): grpc.ChannelCredentials {
  if (!isObj(transportSocket)) return grpc.credentials.createInsecure();
  let tls = isObj(transportSocket['typed_config']) ? transportSocket['typed_config'] : {};
  if (tls['@type'] !== 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext') {
    throw new ConfigError([`transport_socket: only UpstreamTlsContext is supported, got ${JSON.stringify(tls['@type'])}`], 'xDS control plane cluster');
  }
  if (typeof tls['sni'] === 'string' && tls['sni'] !== '') options['grpc.ssl_target_name_override'] = tls['sni'];
  tls = isObj(tls['common_tls_context']) ? tls['common_tls_context'] : {};
  const certs = Array.isArray(tls['tls_certificates']) ? (tls['tls_certificates'] as unknown[]) : [];
  const first = isObj(certs[0]) ? certs[0] : undefined;
  const vc = isObj(tls['validation_context']) ? tls['validation_context'] : undefined;
  const ca = dataSource(vc?.['trusted_ca'], 'validation_context.trusted_ca') ?? null;
  const key = dataSource(first?.['private_key'], 'tls_certificates[0].private_key') ?? null;
  const cert = dataSource(first?.['certificate_chain'], 'tls_certificates[0].certificate_chain') ?? null;
  return grpc.credentials.createSsl(ca, key, cert);
}

/** Opens (lazily: grpc-js connects on the first call) a channel to the control plane of `source`. */
export function controlPlaneChannel(boot: XdsBootstrap, source: XdsApiConfigSource): ControlPlaneChannel {
  const service = source.grpc_services[0]!;
  const clusterName = service.envoy_grpc.cluster_name;
  const cluster = (boot.static_resources?.clusters ?? []).find((c) => c.name === clusterName);
  if (cluster === undefined) throw new ConfigError([`envoy_grpc.cluster_name '${clusterName}' is not a static cluster of the bootstrap`], 'xDS config source');
  const ep = cluster.load_assignment?.endpoints?.[0]?.lb_endpoints[0]?.endpoint.address;
  if (ep === undefined) throw new ConfigError([`static cluster '${clusterName}' has no endpoint`], 'xDS control plane cluster');
  const target = ep.pipe !== undefined ? `unix:${ep.pipe.path}` : `${ep.socket_address!.address}:${ep.socket_address!.port_value ?? 0}`;
  const options: Record<string, unknown> = {
    'grpc.max_receive_message_length': service.envoy_grpc.max_receive_message_length ?? -1,
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 5_000,
    // Meltemi reconnects itself, with its own backoff.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 5_000,
  };
  if (service.envoy_grpc.authority !== undefined) options['grpc.default_authority'] = service.envoy_grpc.authority;
  const creds = credentialsOf(cluster.transport_socket, options);
  const client = new grpc.Client(target, creds, options);
  const initial = service.initial_metadata ?? [];
  return {
    clusterName,
    target,
    client,
    metadata: () => {
      const md = new grpc.Metadata();
      for (const kv of initial) md.add(kv.key, kv.value);
      return md;
    },
  };
}
