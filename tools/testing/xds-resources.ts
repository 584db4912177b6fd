/** Builders of xDS resources as the test control plane serves them (Envoy and Aeraki shapes). */
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import type { Resource } from './xds-control-plane.js';

const MPP = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';

export interface ListenerOptions {
  port?: number;
  /** MetaRDS route config name (routes from the `aeraki-xds` cluster), else `inlineCluster`. */
  rds?: string;
  inlineCluster?: string;
  /** Wrap the filter config in udpa.type.v1.TypedStruct, as Aeraki's EnvoyFilter does. */
  typedStruct?: boolean;
  statPrefix?: string;
  codec?: string;
}

/** An LDS Listener whose filter is Aeraki's MetaProtocolProxy. */
export function mppListener(name: string, o: ListenerOptions = {}): Resource {
  const proxy: Record<string, unknown> = {
    stat_prefix: o.statPrefix ?? name,
    application_protocol: 'dubbo',
    codec: { name: o.codec ?? 'aeraki.meta_protocol.codec.dubbo' },
    meta_protocol_filters: [{ name: 'aeraki.meta_protocol.filters.router', config: { '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.router.v1alpha.Router' } }],
  };
  if (o.rds !== undefined) {
    proxy['rds'] = {
      route_config_name: o.rds,
      config_source: {
        resource_api_version: 'V3',
        api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'aeraki-xds' } }] },
      },
    };
  } else {
    proxy['route_config'] = { name: `${name}-inline`, routes: [{ name: 'all', route: { cluster: o.inlineCluster ?? 'v1' } }] };
  }
  const typed_config = o.typedStruct === true ? { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: MPP, value: camelize(proxy) } : { '@type': MPP, ...proxy };
  return {
    '@type': LISTENER_TYPE,
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: o.port ?? 0 } },
    traffic_direction: 'OUTBOUND',
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.meta_protocol_proxy', typed_config }] }],
  };
}

/** proto-JSON lowerCamel keys, as an EnvoyFilter's TypedStruct value has them. */
function camelize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelize);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.startsWith('@') ? k : k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), camelize(x)]));
}

/** A listener istiod would also send (HTTP): not Meltemi's, must be left out, not rejected. */
export function httpListener(name: string): Resource {
  return {
    '@type': LISTENER_TYPE,
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', value: { cluster: 'x' } } }] }],
  };
}

/** A CDS Cluster of type EDS over ADS (as istiod sends them). */
export function edsCluster(name: string): Resource {
  return { '@type': CLUSTER_TYPE, name, type: 'EDS', connect_timeout: { seconds: 1 }, eds_cluster_config: { service_name: name, eds_config: { ads: {}, resource_api_version: 'V3' } } };
}

/** A CDS Cluster with its hosts inline. */
export function staticXdsCluster(name: string, ports: number[]): Resource {
  return { '@type': CLUSTER_TYPE, name, type: 'STATIC', connect_timeout: { seconds: 1 }, load_assignment: claBody(name, ports) };
}

function claBody(name: string, ports: number[]): Record<string, unknown> {
  return { cluster_name: name, endpoints: [{ lb_endpoints: ports.map((port_value) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value } } } })) }] };
}

/** An EDS ClusterLoadAssignment. */
export function cla(name: string, ports: number[]): Resource {
  return { '@type': ENDPOINT_TYPE, ...claBody(name, ports) };
}

export interface MetaRouteSpec {
  name: string;
  /** exact_match metadata matchers. */
  match?: Record<string, string>;
  cluster?: string;
  weighted?: Record<string, number>;
  requestMutation?: Record<string, string>;
  hashKeys?: string[];
}

/** A MetaRDS resource exactly as Aeraki encodes a meta route table (spec/metaprotocol.md §6.6). */
export function metaRds(name: string, routes: MetaRouteSpec[]): Resource {
  return {
    '@type': ROUTE_TYPE,
    name,
    virtual_hosts: [
      {
        name: 'dummy',
        domains: ['*'],
        routes: routes.map((r) => ({
          name: r.name,
          match: { prefix: '/', headers: Object.entries(r.match ?? {}).map(([k, v]) => ({ name: k, exact_match: v })) },
          route: {
            ...(r.cluster !== undefined ? { cluster: r.cluster } : {}),
            ...(r.weighted !== undefined
              ? {
                  weighted_clusters: {
                    clusters: Object.entries(r.weighted).map(([n, w]) => ({ name: n, weight: { value: w } })),
                    total_weight: { value: Object.values(r.weighted).reduce((a, b) => a + b, 0) },
                  },
                }
              : {}),
            ...(r.hashKeys !== undefined ? { hash_policy: r.hashKeys.map((h) => ({ header: { header_name: h } })) } : {}),
          },
          ...(r.requestMutation !== undefined ? { request_headers_to_add: Object.entries(r.requestMutation).map(([key, value]) => ({ header: { key, value } })) } : {}),
        })),
      },
    ],
  };
}

export interface XdsBootstrapOptions {
  adsPort: number;
  /** Aeraki's MetaRDS server port (default: the ADS port, one test server serves both). */
  aerakiPort?: number;
  delta?: boolean;
  staticListeners?: object[];
  staticClusters?: object[];
  admin?: boolean;
}

function grpcCluster(name: string, port: number, deprecatedH2: boolean): object {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    ...(deprecatedH2
      ? { http2_protocol_options: {} }
      : {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

/** An Istio-sidecar-shaped bootstrap (spec/xds.md §5.1) pointing at the test control plane. */
export function xdsBootstrap(o: XdsBootstrapOptions): object {
  return {
    node: {
      id: 'sidecar~127.0.0.1~demo-0.default~default.svc.cluster.local',
      cluster: 'demo.default',
      metadata: { ISTIO_VERSION: '1.22.0', NAMESPACE: 'default', INSTANCE_IPS: '127.0.0.1', LABELS: { app: 'demo' } },
    },
    ...(o.admin === true ? { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } } : {}),
    dynamic_resources: {
      ads_config: { api_type: o.delta === true ? 'DELTA_GRPC' : 'GRPC', transport_api_version: 'V3', set_node_on_first_message_only: true, grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }] },
      lds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' },
      cds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' },
    },
    static_resources: {
      listeners: o.staticListeners ?? [],
      clusters: [grpcCluster('xds-grpc', o.adsPort, false), grpcCluster('aeraki-xds', o.aerakiPort ?? o.adsPort, true), ...(o.staticClusters ?? [])],
    },
  };
}
