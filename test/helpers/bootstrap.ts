/** Builders for the Envoy v3 bootstrap documents tests start Meltemi with. */

export interface RouteSpec {
  name: string;
  match?: Record<string, string>;
  /** Full Envoy HeaderMatchers, for forms other than exact_match. */
  matchers?: object[];
  cluster?: string;
  weighted?: Record<string, number>;
  timeout?: string;
  requestMutation?: Record<string, string>;
  responseMutation?: Record<string, string>;
  /** Metadata keys of the route's hash policy (consistent hashing). */
  hashPolicy?: string[];
}

export interface ListenerSpec {
  name?: string;
  codec?: string;
  protocol?: string;
  routes: RouteSpec[];
  extra?: Record<string, unknown>;
}

export function metaProtocolListener(spec: ListenerSpec): object {
  return {
    name: spec.name ?? 'main',
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.meta_protocol_proxy',
            typed_config: {
              '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy',
              stat_prefix: spec.name ?? 'main',
              application_protocol: spec.protocol ?? 'dubbo',
              codec: { name: spec.codec ?? 'aeraki.meta_protocol.codec.dubbo' },
              route_config: {
                name: 'routes',
                routes: spec.routes.map((r) => ({
                  name: r.name,
                  match: {
                    metadata: [
                      ...Object.entries(r.match ?? {}).map(([name, exact_match]) => ({ name, exact_match })),
                      ...(r.matchers ?? []),
                    ],
                  },
                  route: {
                    ...(r.cluster !== undefined ? { cluster: r.cluster } : {}),
                    ...(r.weighted !== undefined
                      ? { weighted_clusters: { clusters: Object.entries(r.weighted).map(([name, weight]) => ({ name, weight })) } }
                      : {}),
                    ...(r.timeout !== undefined ? { timeout: r.timeout } : {}),
                    ...(r.hashPolicy !== undefined ? { hash_policy: r.hashPolicy } : {}),
                  },
                  ...(r.requestMutation !== undefined
                    ? { request_mutation: Object.entries(r.requestMutation).map(([key, value]) => ({ key, value })) }
                    : {}),
                  ...(r.responseMutation !== undefined
                    ? { response_mutation: Object.entries(r.responseMutation).map(([key, value]) => ({ key, value })) }
                    : {}),
                })),
              },
              meta_protocol_filters: [{ name: 'aeraki.meta_protocol.filters.router' }],
              ...spec.extra,
            },
          },
        ],
      },
    ],
  };
}

export function staticCluster(name: string, ports: number[], extra: Record<string, unknown> = {}): object {
  return {
    name,
    connect_timeout: '1s',
    type: 'STATIC',
    lb_policy: 'ROUND_ROBIN',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: ports.map((port_value) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value } } } })) }],
    },
    ...extra,
  };
}

export function bootstrapOf(listeners: object[], clusters: object[], meltemi?: object, admin?: object): object {
  return {
    static_resources: { listeners, clusters },
    ...(meltemi !== undefined ? { meltemi } : {}),
    ...(admin !== undefined ? { admin } : {}),
  };
}
