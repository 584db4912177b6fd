/**
 * The subset of the Envoy v3 bootstrap (and of Aeraki's MetaProtocolProxy config) that
 * Meltemi reads. Field names and nesting are Envoy's and Aeraki's (spec/metaprotocol.md §5).
 */
import { bool, duration, int, list, object, oneOfValues, optional, record, str, unknownValue, wrappedInt } from './schema.js';
import type { Infer } from './schema.js';

export const META_PROTOCOL_PROXY_TYPE = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';

const socketAddress = object({
  address: str({ minLength: 1 }),
  port_value: optional(int({ min: 0, max: 65535 })),
  protocol: optional(oneOfValues(['TCP'])),
  ipv4_compat: optional(bool()),
});
export const address = object({ socket_address: socketAddress });

const regexMatcher = object({ regex: str(), google_re2: optional(unknownValue()) });

const stringMatcher = object(
  {
    exact: optional(str()),
    prefix: optional(str()),
    suffix: optional(str()),
    contains: optional(str()),
    safe_regex: optional(regexMatcher),
    ignore_case: optional(bool()),
  },
  { oneOf: [['exact', 'prefix', 'suffix', 'contains', 'safe_regex']] },
);

export const headerMatcher = object(
  {
    name: str({ minLength: 1 }),
    exact_match: optional(str()),
    safe_regex_match: optional(regexMatcher),
    range_match: optional(object({ start: int(), end: int() })),
    present_match: optional(bool()),
    prefix_match: optional(str()),
    suffix_match: optional(str()),
    contains_match: optional(str()),
    string_match: optional(stringMatcher),
    invert_match: optional(bool()),
    treat_missing_header_as_empty: optional(bool()),
  },
  {
    oneOf: [
      ['exact_match', 'safe_regex_match', 'range_match', 'present_match', 'prefix_match', 'suffix_match', 'contains_match', 'string_match'],
    ],
  },
);
export type HeaderMatcherConfig = Infer<typeof headerMatcher>;

const fractionalPercent = object({
  numerator: int({ min: 0 }),
  denominator: optional(oneOfValues(['HUNDRED', 'TEN_THOUSAND', 'MILLION'])),
});

const keyValue = object({ key: str({ minLength: 1 }), value: str() });

export const routeMatch = object({ metadata: optional(list(headerMatcher)) });

export const metaRoute = object({
  name: optional(str()),
  match: optional(routeMatch),
  route: object(
    {
      cluster: optional(str({ minLength: 1 })),
      weighted_clusters: optional(
        object({
          clusters: list(object({ name: str({ minLength: 1 }), weight: wrappedInt({ min: 0 }) }), { minItems: 1 }),
          total_weight: optional(wrappedInt()),
        }),
      ),
      hash_policy: optional(list(str())),
      request_mirror_policies: optional(
        list(
          object({
            cluster: str({ minLength: 1 }),
            runtime_fraction: optional(object({ default_value: optional(fractionalPercent), runtime_key: optional(str()) })),
          }),
        ),
      ),
      /** Meltemi extension (Envoy's RouteAction has the same field): the request timeout. */
      timeout: optional(duration()),
    },
    { oneOf: [['cluster', 'weighted_clusters']] },
  ),
  request_mutation: optional(list(keyValue)),
  response_mutation: optional(list(keyValue)),
});
export type MetaRouteConfig = Infer<typeof metaRoute>;

export const routeConfiguration = object({ name: optional(str()), routes: list(metaRoute) });
export type RouteConfigurationConfig = Infer<typeof routeConfiguration>;

const codecConfig = object({ name: str({ minLength: 1 }), config: optional(unknownValue()) });

export const metaProtocolProxy = object(
  {
    '@type': optional(str()),
    stat_prefix: str({ minLength: 1 }),
    application_protocol: optional(str()),
    codec: optional(codecConfig),
    protocol: optional(object({ name: optional(str()), codec: optional(codecConfig), multiplexing: optional(bool()) })),
    route_config: optional(routeConfiguration),
    rds: optional(object({ config_source: unknownValue(), route_config_name: str({ minLength: 1 }) })),
    meta_protocol_filters: optional(list(object({ name: str({ minLength: 1 }), config: optional(unknownValue()) }))),
    idle_timeout: optional(duration()),
    /** Meltemi extension: the request timeout of routes that set none (default 15 s, as Envoy's). */
    request_timeout: optional(duration()),
    /** Meltemi extension: the largest frame accepted, in bytes (default 8 MiB). */
    max_frame_size: optional(int({ min: 64, max: 1 << 30 })),
    tracing: optional(unknownValue()),
    access_log: optional(unknownValue()),
  },
  { oneOf: [['route_config', 'rds']] },
);
export type MetaProtocolProxyConfig = Infer<typeof metaProtocolProxy>;

const networkFilter = object({ name: str({ minLength: 1 }), typed_config: unknownValue() });

const listener = object(
  {
    name: str({ minLength: 1 }),
    address,
    filter_chains: list(object({ name: optional(str()), filters: list(networkFilter, { minItems: 1 }) }), { minItems: 1 }),
    traffic_direction: optional(oneOfValues(['UNSPECIFIED', 'INBOUND', 'OUTBOUND'])),
    /** How long draining connections get on shutdown or removal (Envoy: --drain-time-s). */
    drain_type: optional(oneOfValues(['DEFAULT', 'MODIFY_ONLY'])),
  },
  { ignored: { per_connection_buffer_limit_bytes: 'Meltemi uses its own watermarks', listener_filters: 'no listener filters yet' } },
);
export type ListenerConfig = Infer<typeof listener>;

const lbEndpoint = object({
  endpoint: object({ address, health_check_config: optional(unknownValue()), hostname: optional(str()) }),
  health_status: optional(oneOfValues(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'])),
  load_balancing_weight: optional(wrappedInt({ min: 1 })),
  metadata: optional(unknownValue()),
});

const localityLbEndpoints = object({
  locality: optional(object({ region: optional(str()), zone: optional(str()), sub_zone: optional(str()) })),
  lb_endpoints: list(lbEndpoint),
  load_balancing_weight: optional(wrappedInt({ min: 1 })),
  priority: optional(int({ min: 0 })),
});

export const clusterLoadAssignment = object({
  cluster_name: optional(str()),
  endpoints: optional(list(localityLbEndpoints)),
  policy: optional(unknownValue()),
});

const cluster = object({
  name: str({ minLength: 1 }),
  connect_timeout: optional(duration()),
  type: optional(oneOfValues(['STATIC'])),
  lb_policy: optional(oneOfValues(['ROUND_ROBIN'])),
  load_assignment: optional(clusterLoadAssignment),
});
export type ClusterConfig = Infer<typeof cluster>;

/** Meltemi's own settings; an Envoy bootstrap without them gets the defaults. */
const meltemiSettings = object({
  /** Upstream connections per host that downstream requests are multiplexed onto (default 2). */
  upstream_connections_per_host: optional(int({ min: 1, max: 64 })),
  /** How long in-flight requests get to finish on SIGTERM (default 10 s). */
  drain_timeout: optional(duration()),
  /** Write buffer high watermark per socket in bytes (low = high / 2; default 1 MiB). */
  write_buffer_high_watermark: optional(int({ min: 1024 })),
});
export type MeltemiSettings = Infer<typeof meltemiSettings>;

export const bootstrap = object(
  {
    node: optional(object({ id: optional(str()), cluster: optional(str()), metadata: optional(record(unknownValue())), locality: optional(unknownValue()) })),
    admin: optional(
      object(
        { address, access_log_path: optional(str()), access_log: optional(unknownValue()), profile_path: optional(str()) },
        {},
      ),
    ),
    static_resources: optional(
      object({
        listeners: optional(list(listener)),
        clusters: optional(list(cluster)),
      }),
    ),
    meltemi: optional(meltemiSettings),
  },
  { ignored: { layered_runtime: 'Meltemi has no runtime layer', stats_config: 'stats are always on' } },
);
export type BootstrapConfig = Infer<typeof bootstrap>;
