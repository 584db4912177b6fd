/**
 * Where the proxy finds sidecar-wide policy state. A worker process installs its lease
 * client at start; a single process installs nothing and its filters keep local state
 * (nothing changes on its hot path).
 */
import type { SharedTokenBucket, TokenBucketSpec } from '../../filters/api/index.js';
import type { OutlierDetectionConfig } from '../upstream/cluster-policy.js';
import type { HostOutcomes, OutlierHost } from '../upstream/outlier-detector.js';
import type { BreakerSlot } from './breaker-share.js';

export interface SharedPolicy {
  tokenBucket(id: string, spec: TokenBucketSpec): SharedTokenBucket;
  /** Takes the place of a cluster's own outlier detector: the primary detects for the sidecar. */
  outliers<H extends OutlierHost>(cluster: string, config: OutlierDetectionConfig, hosts: () => readonly H[], onChange: () => void): HostOutcomes<H>;
  /** This worker's place among the workers, which sets its share of every circuit-breaker threshold. */
  readonly breakerSlot: BreakerSlot;
}

let current: SharedPolicy | undefined;

export function installSharedPolicy(policy: SharedPolicy | undefined): void {
  current = policy;
}

/** The installed policy state, or undefined in a single process. */
export function sharedPolicy(): SharedPolicy | undefined {
  return current;
}
