import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from './type-urls.js';

/** The per-type discovery services of Envoy's API; `%` is `Stream` (SotW) or `Delta`. */
const SERVICES: Readonly<Record<string, string>> = {
  [LISTENER_TYPE]: 'envoy.service.listener.v3.ListenerDiscoveryService/%Listeners',
  [CLUSTER_TYPE]: 'envoy.service.cluster.v3.ClusterDiscoveryService/%Clusters',
  [ENDPOINT_TYPE]: 'envoy.service.endpoint.v3.EndpointDiscoveryService/%Endpoints',
  [ROUTE_TYPE]: 'envoy.service.route.v3.RouteDiscoveryService/%Routes',
  [SECRET_TYPE]: 'envoy.service.secret.v3.SecretDiscoveryService/%Secrets',
};

/**
 * The gRPC method of a non-aggregated xDS stream, e.g. MetaRDS's
 * `/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes`. A type with no such service
 * can only travel over ADS.
 */
export function perTypeMethod(typeUrl: string, delta: boolean): string {
  const service = SERVICES[typeUrl];
  if (service === undefined) throw new Error(`xDS: ${typeUrl} has no discovery service of its own; subscribe to it over ADS`);
  return `/${service.replace('%', delta ? 'Delta' : 'Stream')}`;
}
