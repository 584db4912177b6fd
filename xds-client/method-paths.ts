import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from './type-urls.js';
import type { XdsTypeUrl } from './type-urls.js';

const SERVICES: Readonly<Record<XdsTypeUrl, string>> = {
  [LISTENER_TYPE]: 'envoy.service.listener.v3.ListenerDiscoveryService/%Listeners',
  [CLUSTER_TYPE]: 'envoy.service.cluster.v3.ClusterDiscoveryService/%Clusters',
  [ENDPOINT_TYPE]: 'envoy.service.endpoint.v3.EndpointDiscoveryService/%Endpoints',
  [ROUTE_TYPE]: 'envoy.service.route.v3.RouteDiscoveryService/%Routes',
  [SECRET_TYPE]: 'envoy.service.secret.v3.SecretDiscoveryService/%Secrets',
};

/** The gRPC method of a non-aggregated xDS stream, e.g. MetaRDS's `/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes`. */
export function perTypeMethod(type: XdsTypeUrl, delta: boolean): string {
  return `/${SERVICES[type].replace('%', delta ? 'Delta' : 'Stream')}`;
}
