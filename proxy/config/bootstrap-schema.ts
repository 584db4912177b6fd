/**
 * The subset of the Envoy v3 bootstrap (and of Aeraki's MetaProtocolProxy config) that
 * Meltemi reads. Field names and nesting are Envoy's and Aeraki's (spec/metaprotocol.md §5).
 */
import { bool, duration, int, list, object, oneOfValues, optional, record, str, unknownValue, wrappedBool, wrappedInt } from '../../config/schema.js';
import type { Infer } from '../../config/schema.js';
import { routeMatch } from '../../config/matchers.js';
import { fractionalPercent } from '../../config/percent.js';
import { accessLog, statsConfig, tracing } from '../observability/config-schema.js';
import { transportSocket } from './tls-schema.js';

export const META_PROTOCOL_PROXY_TYPE = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';

const socketAddress = object({
  address: str({ minLength: 1 }),
  port_value: optional(int({ min: 0, max: 65535 })),
  protocol: optional(oneOfValues(['TCP'])),
  ipv4_compat: optional(bool()),
}, { proto: 'envoy.config.core.v3.SocketAddress' });
export const address = object({ socket_address: socketAddress }, { proto: 'envoy.config.core.v3.Address' });

const keyValue = object({ key: str({ minLength: 1 }), value: str() }, { proto: 'aeraki.meta_protocol_proxy.config.route.v1alpha.KeyValue' });

export const metaRoute = object({
  name: optional(str()),
  match: optional(routeMatch),
  route: object(
    {
      cluster: optional(str({ minLength: 1 })),
      weighted_clusters: optional(
        object({
          clusters: list(object({ name: str({ minLength: 1 }), weight: wrappedInt({ min: 0 }) }, { proto: 'envoy.config.route.v3.WeightedCluster.ClusterWeight' }), {
            minItems: 1,
          }),
          total_weight: optional(wrappedInt()),
        }, { proto: 'envoy.config.route.v3.WeightedCluster' }),
      ),
      hash_policy: optional(list(str())),
      request_mirror_policies: optional(
        list(
          object({
            cluster: str({ minLength: 1 }),
            runtime_fraction: optional(
              object({ default_value: optional(fractionalPercent), runtime_key: optional(str()) }, { proto: 'envoy.config.core.v3.RuntimeFractionalPercent' }),
            ),
          }, { proto: 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteAction.RequestMirrorPolicy' }),
        ),
      ),
      /** Meltemi extension (Envoy's RouteAction has the same field): the request timeout. */
      timeout: optional(duration()),
      /** Envoy's RouteAction.metadata_match: only hosts whose `envoy.lb` labels hold these (subsets). */
      metadata_match: optional(object({ filter_metadata: record(unknownValue()) }, { proto: 'envoy.config.core.v3.Metadata' })),
      /**
       * Meltemi extension with Envoy's RouteAction.retry_policy fields. retry_on is a comma
       * list of connect-failure, reset, error-reply, per-try-timeout, or Envoy's 5xx and
       * gateway-error (which imply several of those).
       */
      retry_policy: optional(
        object({
          retry_on: str({ minLength: 1 }),
          num_retries: optional(wrappedInt({ min: 0, max: 10 })),
          per_try_timeout: optional(duration()),
          retry_back_off: optional(
            object({ base_interval: duration({ positive: true }), max_interval: optional(duration()) }, { proto: 'envoy.config.route.v3.RetryPolicy.RetryBackOff' }),
          ),
        }, { proto: 'envoy.config.route.v3.RetryPolicy' }),
      ),
    },
    { oneOf: [['cluster', 'weighted_clusters']], proto: 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteAction' },
  ),
  request_mutation: optional(list(keyValue)),
  response_mutation: optional(list(keyValue)),
}, { proto: 'aeraki.meta_protocol_proxy.config.route.v1alpha.Route' });
export type MetaRouteConfig = Infer<typeof metaRoute>;

export const routeConfiguration = object({ name: optional(str()), routes: list(metaRoute) }, { proto: 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration' });
export type RouteConfigurationConfig = Infer<typeof routeConfiguration>;

const codecConfig = object({ name: str({ minLength: 1 }), config: optional(unknownValue()) }, { proto: 'aeraki.meta_protocol_proxy.v1alpha.Codec' });

export const metaProtocolProxy = object(
  {
    '@type': optional(str()),
    stat_prefix: str({ minLength: 1 }),
    application_protocol: optional(str()),
    codec: optional(codecConfig),
    protocol: optional(object({ name: optional(str()), codec: optional(codecConfig), multiplexing: optional(bool()) }, { proto: 'aeraki.meta_protocol_proxy.v1alpha.ApplicationProtocol' })),
    route_config: optional(routeConfiguration),
    rds: optional(object({ config_source: unknownValue(), route_config_name: str({ minLength: 1 }) }, { proto: 'aeraki.meta_protocol_proxy.v1alpha.Rds' })),
    meta_protocol_filters: optional(list(object({ name: str({ minLength: 1 }), config: optional(unknownValue()), is_optional: optional(bool()) }, { proto: 'aeraki.meta_protocol_proxy.v1alpha.MetaProtocolFilter' }))),
    idle_timeout: optional(duration()),
    /** Meltemi extension: the request timeout of routes that set none (default 15 s, as Envoy's). */
    request_timeout: optional(duration()),
    /** Meltemi extension: a stream with no frame either way for this long is reset (default 60 s). */
    stream_idle_timeout: optional(duration()),
    /** Meltemi extension: the largest frame accepted, in bytes (default 8 MiB). */
    max_frame_size: optional(int({ min: 64, max: 1 << 30 })),
    tracing: optional(tracing),
    access_log: optional(list(accessLog)),
  },
  { oneOf: [['route_config', 'rds']], proto: 'aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy' },
);
export type MetaProtocolProxyConfig = Infer<typeof metaProtocolProxy>;

const networkFilter = object({ name: str({ minLength: 1 }), typed_config: unknownValue() }, { proto: 'envoy.config.listener.v3.Filter' });

const cidrRange = object(
  { address_prefix: str({ minLength: 1 }), prefix_len: optional(wrappedInt({ min: 0, max: 128 })) },
  { proto: 'envoy.config.core.v3.CidrRange' },
);

/** Envoy's FilterChainMatch; selection in proxy/downstream/filter-chain-match.ts (spec/istio-sidecar.md §4.4). */
export const filterChainMatch = object(
  {
    destination_port: optional(wrappedInt({ min: 1, max: 65535 })),
    prefix_ranges: optional(list(cidrRange)),
    server_names: optional(list(str({ minLength: 1 }))),
    transport_protocol: optional(str()),
    application_protocols: optional(list(str({ minLength: 1 }))),
    source_type: optional(oneOfValues(['ANY', 'SAME_IP_OR_LOOPBACK', 'EXTERNAL'])),
    source_prefix_ranges: optional(list(cidrRange)),
    source_ports: optional(list(int({ min: 1, max: 65535 }))),
  },
  { proto: 'envoy.config.listener.v3.FilterChainMatch' },
);

const filterChain = object(
  {
    name: optional(str()),
    filter_chain_match: optional(filterChainMatch),
    filters: list(networkFilter, { minItems: 1 }),
    /** TLS termination (DownstreamTlsContext) or plaintext: proxy/tls/compile-tls.ts. */
    transport_socket: optional(transportSocket),
    /** Opaque to Meltemi; shown in /config_dump as written. */
    metadata: optional(unknownValue()),
  },
  { proto: 'envoy.config.listener.v3.FilterChain' },
);
export type FilterChainConfig = Infer<typeof filterChain>;

/** A listener filter; the names Meltemi runs (original_dst, tls_inspector) are checked in compile-listener.ts (an unknown one is refused by name). */
const listenerFilter = object(
  { name: str({ minLength: 1 }), typed_config: optional(unknownValue()) },
  { proto: 'envoy.config.listener.v3.ListenerFilter' },
);

const listener = object(
  {
    name: str({ minLength: 1 }),
    address,
    filter_chains: optional(list(filterChain)),
    /** The chain of a connection no `filter_chain_match` takes (Istio's PassthroughFilterChain). */
    default_filter_chain: optional(filterChain),
    traffic_direction: optional(oneOfValues(['UNSPECIFIED', 'INBOUND', 'OUTBOUND'])),
    /** How long draining connections get on shutdown or removal (Envoy: --drain-time-s). */
    drain_type: optional(oneOfValues(['DEFAULT', 'MODIFY_ONLY'])),
    /**
     * false: the listener owns no socket and only takes connections handed off by a
     * `use_original_dst` listener whose original destination is its address (Istio's
     * `<vip>_<port>` outbound listeners).
     */
    bind_to_port: optional(wrappedBool()),
    /** Hand each connection to the listener of its original destination (Istio's virtualOutbound). */
    use_original_dst: optional(wrappedBool()),
    /** TPROXY: the listening socket gets IP_TRANSPARENT; the local address is the original destination. */
    transparent: optional(wrappedBool()),
    listener_filters: optional(list(listenerFilter)),
    /**
     * Waits of listener filters that read bytes; the original_dst filter reads none, so
     * there is nothing to time out.
     */
    listener_filters_timeout: optional(duration()),
    continue_on_listener_filters_timeout: optional(bool()),
    /**
     * Istio's static HTTP listeners (15090, 15021) set these: no connection limit or overload
     * action applies to them. Meltemi's HTTP listeners are always exempt; a MetaProtocol
     * listener cannot be, and refuses `true`.
     */
    ignore_global_conn_limit: optional(bool()),
    bypass_overload_manager: optional(bool()),
  },
  {
    ignored: { per_connection_buffer_limit_bytes: 'Meltemi uses its own watermarks' },
    proto: 'envoy.config.listener.v3.Listener',
  },
);
export type ListenerConfig = Infer<typeof listener>;

/** An endpoint address: a TCP socket, or a Unix socket (`pipe`, as Istio's xds-grpc cluster uses). */
const endpointAddress = object(
  { socket_address: optional(socketAddress), pipe: optional(object({ path: str({ minLength: 1 }), mode: optional(int()) }, { proto: 'envoy.config.core.v3.Pipe' })) },
  { oneOf: [['socket_address', 'pipe']], proto: 'envoy.config.core.v3.Address' },
);
export type EndpointAddressConfig = Infer<typeof endpointAddress>;

const lbEndpoint = object({
  endpoint: object({ address: endpointAddress, health_check_config: optional(unknownValue()), hostname: optional(str()) }, { proto: 'envoy.config.endpoint.v3.Endpoint' }),
  health_status: optional(oneOfValues(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'])),
  load_balancing_weight: optional(wrappedInt({ min: 1 })),
  metadata: optional(unknownValue()),
}, { proto: 'envoy.config.endpoint.v3.LbEndpoint' });

const localityLbEndpoints = object({
  locality: optional(object({ region: optional(str()), zone: optional(str()), sub_zone: optional(str()) }, { proto: 'envoy.config.core.v3.Locality' })),
  lb_endpoints: list(lbEndpoint),
  load_balancing_weight: optional(wrappedInt({ min: 1 })),
  priority: optional(int({ min: 0 })),
}, { proto: 'envoy.config.endpoint.v3.LocalityLbEndpoints' });

export const clusterLoadAssignment = object({
  cluster_name: optional(str()),
  endpoints: optional(list(localityLbEndpoints)),
  policy: optional(unknownValue()),
}, { proto: 'envoy.config.endpoint.v3.ClusterLoadAssignment' });

/** Istio's auto-mTLS: per-endpoint TLS by `envoy.transport_socket_match` metadata (proxy/tls/cluster-transport.ts). */
const transportSocketMatch = object(
  { name: str({ minLength: 1 }), match: optional(unknownValue()), transport_socket: optional(transportSocket) },
  { proto: 'envoy.config.cluster.v3.Cluster.TransportSocketMatch' },
);

const cluster = object(
  {
    name: str({ minLength: 1 }),
    /** Envoy requires it to be above 0 (a 0 ms connect timer fails every connection). */
    connect_timeout: optional(duration({ positive: true })),
    /** STRICT_DNS/LOGICAL_DNS hosts are resolved at connect time; EDS clusters get their hosts over xDS. */
    /**
     * ORIGINAL_DST: every connection goes to its own original destination (Istio's
     * PassthroughCluster, InboundPassthroughCluster, inbound|<port>||); only tcp_proxy and
     * MetaProtocol chains of intercepted connections can use it.
     */
    type: optional(oneOfValues(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'])),
    /** CLUSTER_PROVIDED goes with ORIGINAL_DST (the cluster picks the host). */
    lb_policy: optional(oneOfValues(['ROUND_ROBIN', 'RANDOM', 'LEAST_REQUEST', 'RING_HASH', 'MAGLEV', 'CLUSTER_PROVIDED'])),
    /** The local address of every upstream connection (Istio binds inbound clusters to 127.0.0.6). */
    upstream_bind_config: optional(
      object(
        { source_address: object({ address: str({ minLength: 1 }), port_value: optional(int({ min: 0, max: 65535 })), protocol: optional(oneOfValues(['TCP'])) }, { proto: 'envoy.config.core.v3.SocketAddress' }) },
        { proto: 'envoy.config.core.v3.BindConfig' },
      ),
    ),
    /** How long an ORIGINAL_DST host unused is kept; Meltemi keeps no per-destination state for tcp_proxy, so it is read and shown only. */
    cleanup_interval: optional(duration()),
    alt_stat_name: optional(str()),
    ring_hash_lb_config: optional(
      object({
        minimum_ring_size: optional(wrappedInt({ min: 1, max: 8388608 })),
        maximum_ring_size: optional(wrappedInt({ min: 1, max: 8388608 })),
        hash_function: optional(oneOfValues(['XX_HASH'])),
      }, { proto: 'envoy.config.cluster.v3.Cluster.RingHashLbConfig' }),
    ),
    maglev_lb_config: optional(object({ table_size: optional(wrappedInt({ min: 2, max: 5000011 })) }, { proto: 'envoy.config.cluster.v3.Cluster.MaglevLbConfig' })),
    least_request_lb_config: optional(object({ choice_count: optional(wrappedInt({ min: 2 })) }, { proto: 'envoy.config.cluster.v3.Cluster.LeastRequestLbConfig' })),
    load_assignment: optional(clusterLoadAssignment),
    eds_cluster_config: optional(object({ eds_config: optional(unknownValue()), service_name: optional(str()) }, { proto: 'envoy.config.cluster.v3.Cluster.EdsClusterConfig' })),
    /** HTTP/2 settings of a control-plane cluster (gRPC is always HTTP/2): accepted as written. */
    http2_protocol_options: optional(unknownValue()),
    typed_extension_protocol_options: optional(unknownValue()),
    /** TLS (UpstreamTlsContext) or plaintext to the cluster's hosts: proxy/tls/compile-tls.ts. */
    transport_socket: optional(transportSocket),
    transport_socket_matches: optional(list(transportSocketMatch)),
    dns_lookup_family: optional(oneOfValues(['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'])),
    /** Read by proxy/upstream/cluster-policy.ts (thresholds of the DEFAULT priority). */
    circuit_breakers: optional(unknownValue()),
    outlier_detection: optional(unknownValue()),
  },
  {
    ignored: {
      upstream_connection_options: 'TCP keepalive is not configurable yet',
      max_requests_per_connection: 'upstream connections are multiplexed',
      alt_stat_name: 'cluster stats are named by the cluster name',
      respect_dns_ttl: 'STRICT_DNS hosts are resolved when a connection is made',
      dns_refresh_rate: 'STRICT_DNS hosts are resolved when a connection is made',
    },
    proto: 'envoy.config.cluster.v3.Cluster',
  },
);
export type ClusterConfig = Infer<typeof cluster>;

/** Meltemi's own settings; an Envoy bootstrap without them gets the defaults. */
const meltemiSettings = object({
  /** Upstream connections per host that downstream requests are multiplexed onto (default 2). */
  upstream_connections_per_host: optional(int({ min: 1, max: 64 })),
  /** How long in-flight requests get to finish on SIGTERM (default 10 s). */
  drain_timeout: optional(duration()),
  /** Idle time after which an upstream connection sends a heartbeat (Dubbo; default 60 s). */
  upstream_heartbeat_interval: optional(duration()),
  /** Write buffer high watermark per socket in bytes (low = high / 2; default 1 MiB). */
  write_buffer_high_watermark: optional(int({ min: 1024 })),
  /**
   * True (default): one client connection's requests to a host go over one upstream
   * connection, so they reach the server in the order sent. False: each request goes to the
   * least-loaded of the host's `upstream_connections_per_host` connections.
   */
  keep_client_order: optional(bool()),
  /** Codec packages by codec name, loaded at start-up: `{ <codec name>: <package or path> }`. */
  codecs: optional(record(str({ minLength: 1 }))),
  /** Filter packages by filter name, loaded at start-up: `{ <filter name>: <package or path> }`. */
  filters: optional(record(str({ minLength: 1 }))),
  /** A frame partly received that is not complete after this long closes its connection (default 30 s; 0: never). */
  frame_read_timeout: optional(duration()),
  /** How long a draining connection that was sent a go-away frame (Dubbo READONLY) is still read (default 0.5 s). */
  drain_goaway_grace: optional(duration()),
  /** Connection limits and heap watermarks (docs/lifecycle.md); Envoy's overload_manager maps onto the same. */
  overload: optional(
    object({
      max_downstream_connections: optional(int({ min: 1 })),
      max_connections_per_listener: optional(int({ min: 1 })),
      heap_stop_accepting_connections_bytes: optional(int({ min: 1 })),
      heap_stop_accepting_requests_bytes: optional(int({ min: 1 })),
      refresh_interval: optional(duration()),
    }),
  ),
});
export type MeltemiSettings = Infer<typeof meltemiSettings>;

/** A gRPC service of an ApiConfigSource: Envoy's `envoy_grpc` naming a static cluster. */
const grpcService = object({
  envoy_grpc: object(
    { cluster_name: str({ minLength: 1 }), authority: optional(str()), max_receive_message_length: optional(wrappedInt()) },
    { proto: 'envoy.config.core.v3.GrpcService.EnvoyGrpc' },
  ),
  timeout: optional(duration()),
  /** Sent with every xDS call, e.g. `authorization: Bearer <token>` for istiod's 15012. */
  initial_metadata: optional(list(object({ key: str({ minLength: 1 }), value: str() }, { proto: 'envoy.config.core.v3.HeaderValue' }))),
}, { proto: 'envoy.config.core.v3.GrpcService' });

/** Envoy's ApiConfigSource, the gRPC flavours (spec/xds.md §5.1). */
export const apiConfigSource = object(
  {
    api_type: oneOfValues(['GRPC', 'DELTA_GRPC', 'AGGREGATED_GRPC', 'AGGREGATED_DELTA_GRPC']),
    transport_api_version: optional(oneOfValues(['V3', 'AUTO'])),
    grpc_services: list(grpcService, { minItems: 1 }),
    set_node_on_first_message_only: optional(bool()),
    request_timeout: optional(duration()),
    refresh_delay: optional(duration()),
  },
  {
    ignored: { rate_limit_settings: 'xDS requests are not rate limited', config_validators: 'no config validators' },
    proto: 'envoy.config.core.v3.ApiConfigSource',
  },
);
export type ApiConfigSourceConfig = Infer<typeof apiConfigSource>;

/** Envoy's ConfigSource: over ADS, or its own gRPC stream. */
export const configSource = object(
  {
    ads: optional(object({}, { proto: 'envoy.config.core.v3.AggregatedConfigSource' })),
    api_config_source: optional(apiConfigSource),
    resource_api_version: optional(oneOfValues(['V3', 'AUTO'])),
    initial_fetch_timeout: optional(duration()),
  },
  { oneOf: [['ads', 'api_config_source']], proto: 'envoy.config.core.v3.ConfigSource' },
);
export type ConfigSourceConfig = Infer<typeof configSource>;

const dynamicResources = object({
  lds_config: optional(configSource),
  cds_config: optional(configSource),
  ads_config: optional(apiConfigSource),
}, { proto: 'envoy.config.bootstrap.v3.Bootstrap.DynamicResources' });
export type DynamicResourcesConfig = Infer<typeof dynamicResources>;

export const bootstrap = object(
  {
    node: optional(
      object({
        id: optional(str()),
        cluster: optional(str()),
        metadata: optional(record(unknownValue())),
        locality: optional(unknownValue()),
        user_agent_name: optional(str()),
        user_agent_version: optional(str()),
        client_features: optional(list(str())),
      }, { proto: 'envoy.config.core.v3.Node' }),
    ),
    dynamic_resources: optional(dynamicResources),
    admin: optional(
      object(
        { address, access_log_path: optional(str()), access_log: optional(unknownValue()), profile_path: optional(str()) },
        { proto: 'envoy.config.bootstrap.v3.Admin' },
      ),
    ),
    static_resources: optional(
      object({
        listeners: optional(list(listener)),
        clusters: optional(list(cluster)),
      }, { proto: 'envoy.config.bootstrap.v3.Bootstrap.StaticResources' }),
    ),
    meltemi: optional(meltemiSettings),
    /** Envoy's overload manager: checked and compiled by proxy/overload/overload-config.ts. */
    overload_manager: optional(unknownValue()),
    /** `stats_matcher.reject_all: true` turns metrics (latency histograms, /stats) off. */
    stats_config: optional(statsConfig),
    /** Checked by name in compile.ts: only extensions that change nothing for Meltemi are accepted. */
    bootstrap_extensions: optional(list(object({ name: str({ minLength: 1 }), typed_config: optional(unknownValue()) }, { proto: 'envoy.config.core.v3.TypedExtensionConfig' }))),
  },
  {
    ignored: {
      layered_runtime: 'Meltemi has no runtime layer',
      application_log_config: 'the log format is set with --log-format',
      tracing: "Envoy's HTTP tracer; MetaProtocol listeners trace with their own tracing config",
      deferred_stat_options: 'stats are created when first written',
    },
    proto: 'envoy.config.bootstrap.v3.Bootstrap',
  },
);
export type BootstrapConfig = Infer<typeof bootstrap>;
