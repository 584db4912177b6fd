import { ErrorType } from '../../codecs/api/index.js';
import type { RetryOn, RetryPolicy, UpstreamCluster } from '../api/index.js';

/**
 * The retry rules of a route (Envoy's retry_policy on MetaProtocol failures): which
 * failures count, how many tries, the circuit breaker or budget on retries in flight, and
 * the back-off between tries.
 */

/** The retry_on condition an upstream failure of a try falls under. */
export function retryOnFor(error: ErrorType): RetryOn {
  return error === ErrorType.NoHealthyUpstream ? 'connect-failure' : 'reset';
}

/**
 * True when `policy` allows another try after a failure of `kind`, `tries` having been
 * sent. `retrying`: the request already holds a retry slot of the cluster; otherwise it
 * needs one (max_retries or the retry budget), and a refusal is counted as an overflow.
 */
export function mayRetry(policy: RetryPolicy | undefined, kind: RetryOn, tries: number, cluster: UpstreamCluster, retrying: boolean): boolean {
  if (policy === undefined || !policy.retryOn.has(kind)) return false;
  if (tries > policy.numRetries) return false;
  if (!retrying && !cluster.admitRetry()) {
    cluster.stats.upstream_rq_retry_overflow++;
    return false;
  }
  return true;
}

/** Envoy's jittered exponential back-off: a delay in [0, min(base * 2^(tries-1), max)). */
export function backOffMs(policy: RetryPolicy, tries: number, random: number): number {
  const ceiling = Math.min(policy.baseIntervalMs * 2 ** (tries - 1), policy.maxIntervalMs);
  return random * ceiling;
}
