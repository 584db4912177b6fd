/** Message names of the config dump's sections and of the resources in them. */
export const BOOTSTRAP_DUMP = 'envoy.admin.v3.BootstrapConfigDump';
export const LISTENERS_DUMP = 'envoy.admin.v3.ListenersConfigDump';
export const CLUSTERS_DUMP = 'envoy.admin.v3.ClustersConfigDump';
export const ENDPOINTS_DUMP = 'envoy.admin.v3.EndpointsConfigDump';
export const ROUTES_DUMP = 'envoy.admin.v3.RoutesConfigDump';
export const SECRETS_DUMP = 'envoy.admin.v3.SecretsConfigDump';
/** meta-protocol-proxy's own section: MetaRDS and inline meta route tables (spec/metaprotocol.md §5.1). */
export const META_ROUTES_DUMP = 'aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump';

export const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
export const LISTENER = 'envoy.config.listener.v3.Listener';
export const CLUSTER = 'envoy.config.cluster.v3.Cluster';
export const CLUSTER_LOAD_ASSIGNMENT = 'envoy.config.endpoint.v3.ClusterLoadAssignment';
/** The MetaRDS wire type (a rejected MetaRDS update is shown as it came). */
export const ENVOY_ROUTE_CONFIGURATION = 'envoy.config.route.v3.RouteConfiguration';
/** What meta-protocol-proxy turns a MetaRDS resource into, and what it dumps. */
export const META_ROUTE_CONFIGURATION = 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration';
