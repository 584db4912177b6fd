/** The resource types Meltemi hands to its xDS client. */
import type { SomeResourceType } from '../../../xds-client/resource-type.js';
import { clusterType } from './cluster-type.js';
import { endpointType } from './endpoint-type.js';
import { listenerType } from './listener-type.js';
import { routeType } from './route-type.js';

export { clusterType, endpointType, listenerType, routeType };
export type { ClusterResource } from './cluster-type.js';
export type { ListenerResource } from './listener-type.js';
export type { RouteResource } from './route-type.js';

export const MELTEMI_RESOURCE_TYPES: readonly SomeResourceType[] = [listenerType, clusterType, endpointType, routeType];
