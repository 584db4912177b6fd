/**
 * The part of Envoy's HttpConnectionManager that the static HTTP listeners of Istio's
 * bootstrap use (istio's tools/packaging/common/envoy_bootstrap.json: 15090 for Prometheus,
 * 15021 for the kubelet's readiness probe): an inline route_config with prefix/path routes
 * to static clusters, and the router as the only HTTP filter. Every other field of these
 * protos is refused by name ("not supported by Meltemi"), never ignored.
 */
import { duration, list, object, oneOfValues, optional, str } from '../../config/schema.js';
import type { Infer } from '../../config/schema.js';

export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const HTTP_ROUTER_NAME = 'envoy.filters.http.router';
export const HTTP_ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const routeMatch = object(
  {
    prefix: optional(str()),
    path: optional(str({ minLength: 1 })),
  },
  { oneOf: [['prefix', 'path']], proto: 'envoy.config.route.v3.RouteMatch' },
);

const routeAction = object(
  {
    cluster: str({ minLength: 1 }),
    /** The whole exchange, upstream connect included (Envoy's default: 15 s; 0: none). */
    timeout: optional(duration()),
  },
  { proto: 'envoy.config.route.v3.RouteAction' },
);

const route = object({ name: optional(str()), match: routeMatch, route: routeAction }, { proto: 'envoy.config.route.v3.Route' });

const virtualHost = object(
  { name: str({ minLength: 1 }), domains: list(str({ minLength: 1 }), { minItems: 1 }), routes: list(route) },
  { proto: 'envoy.config.route.v3.VirtualHost' },
);

const httpFilter = object({ name: str({ minLength: 1 }), typed_config: optional(object({ '@type': str() })) }, { proto: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter' });

export const httpConnectionManager = object(
  {
    '@type': optional(str()),
    /** AUTO and HTTP1 serve HTTP/1.1 (what the kubelet and Prometheus speak); HTTP2 is refused. */
    codec_type: optional(oneOfValues(['AUTO', 'HTTP1'])),
    stat_prefix: str({ minLength: 1 }),
    route_config: object({ name: optional(str()), virtual_hosts: list(virtualHost) }, { proto: 'envoy.config.route.v3.RouteConfiguration' }),
    http_filters: optional(list(httpFilter)),
  },
  { proto: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager' },
);
export type HttpConnectionManagerConfig = Infer<typeof httpConnectionManager>;
