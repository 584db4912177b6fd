/**
 * The IPC messages of sidecar-wide policy state between the primary and its workers
 * (routed by proxy/workers.ts).
 * Times are durations, never clock readings: each process has its own performance.now().
 */
import type { TokenBucketSpec } from '../../filters/api/index.js';

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

export type PolicyToPrimary = LeaseRequest;
export type PolicyToWorker = LeaseGrant;
