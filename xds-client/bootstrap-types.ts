/**
 * The parts of an Envoy bootstrap the xDS client reads, as its own structural types: the
 * client takes any object of this shape (Meltemi's parsed bootstrap is one) and so depends
 * on nothing of the runtime. Field names are Envoy's (snake_case, as parsed from YAML/JSON);
 * durations are already in milliseconds.
 */

/** core.v3.GrpcService with `envoy_grpc` naming a static cluster of the bootstrap. */
export interface XdsGrpcService {
  readonly envoy_grpc: {
    readonly cluster_name: string;
    readonly authority?: string | undefined;
    readonly max_receive_message_length?: number | undefined;
  };
  /** Sent with every call, e.g. `authorization: Bearer <token>`. */
  readonly initial_metadata?: readonly { readonly key: string; readonly value: string }[] | undefined;
}

/** core.v3.ApiConfigSource, the gRPC flavours. */
export interface XdsApiConfigSource {
  readonly api_type: 'GRPC' | 'DELTA_GRPC' | 'AGGREGATED_GRPC' | 'AGGREGATED_DELTA_GRPC';
  readonly grpc_services: readonly XdsGrpcService[];
  readonly set_node_on_first_message_only?: boolean | undefined;
}

/** core.v3.ConfigSource: over ADS, or a stream of its own. */
export interface XdsConfigSource {
  readonly ads?: object | undefined;
  readonly api_config_source?: XdsApiConfigSource | undefined;
  /** Milliseconds; 0 means "wait forever" (Envoy's meaning). */
  readonly initial_fetch_timeout?: number | undefined;
}

/** core.v3.Node as the bootstrap writes it. */
export interface XdsNode {
  readonly id?: string | undefined;
  readonly cluster?: string | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly locality?: unknown;
  readonly user_agent_name?: string | undefined;
  readonly user_agent_version?: string | undefined;
  readonly client_features?: readonly string[] | undefined;
}

/** An endpoint address of a static cluster: TCP, or a Unix socket (Istio's xds-grpc). */
export interface XdsEndpointAddress {
  readonly socket_address?: { readonly address: string; readonly port_value?: number | undefined } | undefined;
  readonly pipe?: { readonly path: string } | undefined;
}

/** A static cluster that can carry a control plane: its first endpoint and its TLS. */
export interface XdsStaticCluster {
  readonly name: string;
  readonly load_assignment?:
    | {
        readonly endpoints?: readonly { readonly lb_endpoints: readonly { readonly endpoint: { readonly address: XdsEndpointAddress } }[] }[] | undefined;
      }
    | undefined;
  /** An UpstreamTlsContext (typed_config) for TLS/mTLS to the control plane. */
  readonly transport_socket?: unknown;
}

/** The bootstrap as the client sees it. */
export interface XdsBootstrap {
  readonly node?: XdsNode | undefined;
  readonly static_resources?: { readonly clusters?: readonly XdsStaticCluster[] | undefined } | undefined;
  readonly dynamic_resources?:
    | {
        readonly lds_config?: XdsConfigSource | undefined;
        readonly cds_config?: XdsConfigSource | undefined;
        readonly ads_config?: XdsApiConfigSource | undefined;
      }
    | undefined;
}
