import type { DecodedResource } from './messages.js';
import type { XdsTypeUrl } from './type-urls.js';

/** One accepted-or-rejected batch of resources of one type. */
export interface ResourceUpdate {
  /** Resources by name, in the order they came. */
  readonly resources: ReadonlyMap<string, DecodedResource>;
  /** Names removed explicitly (delta `removed_resources`). */
  readonly removed: readonly string[];
  /** True when `resources` is the whole state: names not in it are deleted (SotW LDS/CDS). */
  readonly full: boolean;
  /** SotW: the response's version_info (every resource's version); delta: system_version_info. */
  readonly version?: string;
  /** Delta: each resource's own version. */
  readonly resourceVersions?: ReadonlyMap<string, string>;
}

/** The version a resource of `update` came with (for /config_dump). */
export function versionOf(update: ResourceUpdate, name: string): string {
  return update.resourceVersions?.get(name) ?? update.version ?? '';
}

/**
 * What a stream needs from the owner of a resource type: validation and application of an
 * update (all or nothing; the returned errors become the NACK), and does-not-exist news.
 */
export interface TypeWatcher {
  readonly typeUrl: XdsTypeUrl;
  /** LDS and CDS subscribe to everything; EDS and RDS name what they want. */
  readonly wildcard: boolean;
  /** Validates every resource; when there is no error, applies them all. Returns the errors. */
  onUpdate(update: ResourceUpdate): string[];
  /** A subscribed name the server did not send within the does-not-exist timeout. */
  onDoesNotExist(name: string): void;
}

/** The name of a decoded resource: `cluster_name` for endpoints, `name` otherwise. */
export function resourceName(res: DecodedResource): string {
  const n = res['name'] ?? res['cluster_name'];
  return typeof n === 'string' ? n : '';
}
