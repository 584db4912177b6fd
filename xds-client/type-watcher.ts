import type { DecodedResource } from './messages.js';

/** One accepted-or-rejected batch of resources of one type. */
export interface ResourceUpdate {
  /** Resources by name, in the order they came. */
  readonly resources: ReadonlyMap<string, DecodedResource>;
  /** The version of each resource: the response's version_info (SotW) or its own (delta). */
  readonly versions: ReadonlyMap<string, string>;
  /** Names removed explicitly (delta `removed_resources`). */
  readonly removed: readonly string[];
  /** True when `resources` is the whole state: names not in it are deleted (SotW wildcard). */
  readonly full: boolean;
}

/**
 * What a stream needs from the owner of a resource type: validation and application of an
 * update (the returned errors become the NACK), and does-not-exist news.
 */
export interface TypeWatcher {
  readonly typeUrl: string;
  /** For logs, stats and the config dump (`lds`, `cds`...). */
  readonly shortName: string;
  /** Wildcard subscriptions (LDS, CDS) take everything; named ones (EDS, RDS) name what they want. */
  readonly wildcard: boolean;
  /** Validates every resource and applies what may be applied. Returns the errors. */
  onUpdate(update: ResourceUpdate, subscribed: ReadonlySet<string> | '*'): string[];
  /** A subscribed name the server did not send within the does-not-exist timeout. */
  onDoesNotExist(name: string): void;
  /** Any response of the type arrived (accepted or not): ends the initial fetch. */
  onResponse(accepted: boolean): void;
}

/** The name of a decoded resource: `cluster_name` for endpoints, `name` otherwise. */
export function resourceName(res: DecodedResource): string {
  const n = res['name'] ?? res['cluster_name'];
  return typeof n === 'string' ? n : '';
}
