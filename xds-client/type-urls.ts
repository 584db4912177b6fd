/** xDS resource type URLs (spec/xds.md §1.2). MetaRDS uses the plain RDS type. */
export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

/** gRPC method paths (spec/xds.md §1.1). */
export const ADS_SOTW_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const ADS_DELTA_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
export const RDS_SOTW_METHOD = '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes';
export const RDS_DELTA_METHOD = '/envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes';
