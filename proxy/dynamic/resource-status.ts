/**
 * What /config_dump shows per dynamic resource, in Envoy's terms (admin.v3
 * Dynamic*Config and UpdateFailureState): per type, every resource the client holds, with
 * its version_info, last_updated and, when its last update was rejected, error_state.
 */
import type { CachedResource, RejectedResource } from '../../xds-client/resource-cache.js';

export interface ResourceErrorState {
  /** The rejected resource as received. */
  readonly failed_configuration: unknown;
  readonly last_update_attempt: string;
  readonly details: string;
}

export interface ResourceStatus {
  readonly name: string;
  /** Of the accepted version; '' when nothing was ever accepted. */
  readonly version_info: string;
  /** When the accepted value last changed; undefined when nothing was accepted. */
  readonly last_updated: string | undefined;
  /** ACKED, NACKED (the last update was rejected) or DOES_NOT_EXIST (Envoy's ClientResourceStatus). */
  readonly client_status: 'ACKED' | 'NACKED' | 'DOES_NOT_EXIST';
  readonly error_state: ResourceErrorState | undefined;
}

/** Joins the accepted, rejected and missing resources of one type into one list, by name. */
export function resourceStatuses(
  accepted: ReadonlyMap<string, CachedResource<unknown>>,
  rejected: ReadonlyMap<string, RejectedResource>,
  missing: ReadonlySet<string>,
): ResourceStatus[] {
  const names = [...new Set([...accepted.keys(), ...rejected.keys(), ...missing])].sort();
  return names.map((name) => {
    const a = accepted.get(name);
    const r = rejected.get(name);
    return {
      name,
      version_info: a?.version ?? '',
      last_updated: a?.lastUpdated,
      client_status: r !== undefined ? 'NACKED' : a !== undefined ? 'ACKED' : 'DOES_NOT_EXIST',
      error_state: r === undefined ? undefined : { failed_configuration: r.failedConfiguration, last_update_attempt: r.lastUpdateAttempt, details: r.details },
    };
  });
}
