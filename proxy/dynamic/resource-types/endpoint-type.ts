/**
 * EDS ClusterLoadAssignments: the priority-0 hosts of a cluster's service name (higher
 * priorities are failover, not supported yet). A response is taken whole or not at all.
 */
import { transportMatchLabels } from '../../tls/cluster-transport.js';
import type { DecodeResult, XdsResourceType } from '../../../xds-client/resource-type.js';
import { sameContent } from '../../../xds-client/resource-equality.js';
import { checkEnumValues } from '../../../xds-client/enum-check.js';
import { ENDPOINT_TYPE } from '../../../xds-client/type-urls.js';
import type { HostConfig } from '../../upstream/cluster.js';
import { localityFacts, subsetLabels } from '../../upstream/endpoint-facts.js';
import { arr, isObj, nameOf } from './plain-object.js';
import type { Obj } from './plain-object.js';

/** The priority-0 hosts of a ClusterLoadAssignment (higher priorities are failover, not supported yet). */
export function hostsOf(cla: unknown, path: string, errors: string[]): HostConfig[] | undefined {
  const hosts: HostConfig[] = [];
  const start = errors.length;
  arr(isObj(cla) ? cla['endpoints'] : undefined).forEach((loc, i) => {
    if (!isObj(loc)) return;
    const facts = localityFacts(loc);
    arr(loc['lb_endpoints']).forEach((e, j) => {
      const ep = isObj(e) && isObj(e['endpoint']) ? e['endpoint'] : undefined;
      const addr = ep !== undefined && isObj(ep['address']) ? ep['address'] : undefined;
      const sa = addr !== undefined && isObj(addr['socket_address']) ? addr['socket_address'] : undefined;
      if (sa === undefined) {
        if (addr === undefined || addr['pipe'] === undefined) errors.push(`${path}.endpoints[${i}].lb_endpoints[${j}]: endpoint.address.socket_address is required`);
        return;
      }
      const port = Number(sa['port_value'] ?? 0);
      if (typeof sa['address'] !== 'string' || sa['address'] === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
        errors.push(`${path}.endpoints[${i}].lb_endpoints[${j}]: invalid socket address ${JSON.stringify(sa)}`);
        return;
      }
      const status = isObj(e) && typeof e['health_status'] === 'string' ? e['health_status'] : 'UNKNOWN';
      const w = isObj(e) ? e['load_balancing_weight'] : undefined;
      const weight = isObj(w) ? Number(w['value'] ?? 1) : typeof w === 'number' ? w : 1;
      const labels = isObj(e) ? subsetLabels(e) : undefined;
      const transportMatch = isObj(e) ? transportMatchLabels(e) : undefined;
      hosts.push({
        address: sa['address'],
        port,
        healthy: status === 'UNKNOWN' || status === 'HEALTHY' || status === 'DEGRADED',
        weight,
        priority: facts.priority,
        locality: facts.locality,
        ...(facts.localityWeight !== undefined ? { localityWeight: facts.localityWeight } : {}),
        ...(labels !== undefined ? { labels } : {}),
        ...(transportMatch !== undefined ? { transportMatch } : {}),
      });
    });
  });
  return errors.length > start ? undefined : hosts;
}

/** Decodes a ClusterLoadAssignment proto into its hosts. */
export function decodeEndpoints(res: Obj): DecodeResult<readonly HostConfig[]> {
  const name = nameOf(res, 'cluster_name');
  const errors: string[] = [];
  checkEnumValues('envoy.config.endpoint.v3.ClusterLoadAssignment', res, `cluster load assignment ${name}`, errors);
  if (errors.length > 0) return { kind: 'invalid', errors };
  const hosts = hostsOf(res, `cluster load assignment ${name}`, errors);
  return hosts === undefined ? { kind: 'invalid', errors } : { kind: 'ok', value: hosts };
}

export const endpointType: XdsResourceType<readonly HostConfig[]> = {
  typeUrl: ENDPOINT_TYPE,
  shortName: 'eds',
  acceptance: 'all-or-nothing',
  decode: decodeEndpoints,
  validate: () => [],
  equal: sameContent,
};
