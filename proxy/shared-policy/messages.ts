/**
 * The IPC messages of sidecar-wide policy state between the primary and its workers
 * (routed by proxy/workers.ts).
 * Times are durations, never clock readings: each process has its own performance.now().
 */
import type { TokenBucketSpec } from '../../filters/api/index.js';
import type { OutlierDetectionConfig } from '../upstream/cluster-policy.js';

/** Worker → primary: a worker's lease on a token bucket is empty; it wants `want` tokens. */
export interface LeaseRequest {
  type: 'meltemi.policy.lease';
  seq: number;
  id: string;
  spec: TokenBucketSpec;
  want: number;
}

/**
 * Primary → worker: `tokens` granted (0: the bucket is empty), valid for `validMs` (until the
 * bucket's next fill, when unused tokens lapse).
 */
export interface LeaseGrant {
  type: 'meltemi.policy.grant';
  seq: number;
  tokens: number;
  validMs: number;
}

/**
 * Worker → primary: a request to `host` failed, or succeeded after this worker last saw it
 * fail (successes in a row are not sent: no IPC per successful request).
 */
export interface HostResult {
  type: 'meltemi.policy.host_result';
  cluster: string;
  host: string;
  ok: boolean;
  /** Every host of the cluster (max_ejection_percent is a share of them). */
  hosts: string[];
  config: OutlierDetectionConfig;
}

/** Primary → every worker: the hosts of `cluster` outlier detection has ejected now (all of them). */
export interface Ejections {
  type: 'meltemi.policy.ejections';
  cluster: string;
  ejected: string[];
}

export type PolicyToPrimary = LeaseRequest | HostResult;
/** Primary → worker: its place among the live workers (circuit-breaker shares). */
export interface Slot {
  type: 'meltemi.policy.slot';
  index: number;
  count: number;
}

export type PolicyToWorker = LeaseGrant | Ejections | Slot;
