/**
 * A cluster's protective policy from CDS or the bootstrap: circuit breaker thresholds
 * (Envoy's `circuit_breakers.thresholds`, DEFAULT priority) and outlier detection.
 */
export interface CircuitBreakerThresholds {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /** Envoy's retry budget: retries allowed as a share of active requests, with a floor. */
  readonly retryBudget?: { readonly budgetPercent: number; readonly minRetryConcurrency: number };
}

/** Envoy's defaults when a cluster sets no thresholds. */
export const DEFAULT_THRESHOLDS: CircuitBreakerThresholds = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

export interface OutlierDetectionConfig {
  /** Consecutive failures (error replies, resets, timeouts) that eject a host (consecutive_5xx). */
  readonly consecutiveErrors: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  /** At most this share of the cluster's hosts is ejected at once (at least one host may be). */
  readonly maxEjectionPercent: number;
  /** Share of detected outliers that are really ejected (enforcing_consecutive_5xx). */
  readonly enforcingPercent: number;
}

export interface ClusterPolicy {
  readonly circuitBreakers: CircuitBreakerThresholds;
  readonly outlierDetection: OutlierDetectionConfig | undefined;
}

export const DEFAULT_POLICY: ClusterPolicy = { circuitBreakers: DEFAULT_THRESHOLDS, outlierDetection: undefined };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A number from an int, a numeric string or a wrapper `{ value }` (proto JSON). */
function num(v: unknown): number | undefined {
  const raw = isObj(v) ? v['value'] : v;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Milliseconds from "1.5s", `{ seconds, nanos }` or a number of seconds. */
function ms(v: unknown): number | undefined {
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(v.trim());
    return m === null ? undefined : Number(m[1]) * 1000;
  }
  if (isObj(v)) return (Number(v['seconds'] ?? 0) || 0) * 1000 + (Number(v['nanos'] ?? 0) || 0) / 1e6;
  return undefined;
}

/**
 * Reads `circuit_breakers` and `outlier_detection` of a cluster (bootstrap or CDS, snake
 * or camel case). Values it cannot read keep Envoy's defaults; `problems` says which.
 */
export function clusterPolicyOf(cluster: Obj, problems: string[] = []): ClusterPolicy {
  const get = (o: Obj, snake: string): unknown => o[snake] ?? o[snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
  let circuitBreakers = DEFAULT_THRESHOLDS;
  const cb = get(cluster, 'circuit_breakers');
  if (isObj(cb)) {
    const thresholds = get(cb, 'thresholds');
    const list = Array.isArray(thresholds) ? thresholds.filter(isObj) : [];
    const t = list.find((x) => (get(x, 'priority') ?? 'DEFAULT') === 'DEFAULT' || get(x, 'priority') === 0);
    if (t !== undefined) {
      const budget = get(t, 'retry_budget');
      circuitBreakers = {
        maxConnections: num(get(t, 'max_connections')) ?? DEFAULT_THRESHOLDS.maxConnections,
        maxPendingRequests: num(get(t, 'max_pending_requests')) ?? DEFAULT_THRESHOLDS.maxPendingRequests,
        maxRequests: num(get(t, 'max_requests')) ?? DEFAULT_THRESHOLDS.maxRequests,
        maxRetries: num(get(t, 'max_retries')) ?? DEFAULT_THRESHOLDS.maxRetries,
        ...(isObj(budget)
          ? {
              retryBudget: {
                budgetPercent: num(isObj(get(budget, 'budget_percent')) ? get(budget, 'budget_percent') : undefined) ?? 20,
                minRetryConcurrency: num(get(budget, 'min_retry_concurrency')) ?? 3,
              },
            }
          : {}),
      };
    } else if (list.length > 0) problems.push('circuit_breakers: only the DEFAULT priority is used; the thresholds given are for other priorities');
  }
  let outlierDetection: OutlierDetectionConfig | undefined;
  const od = get(cluster, 'outlier_detection');
  if (isObj(od)) {
    const base = ms(get(od, 'base_ejection_time')) ?? 30_000;
    outlierDetection = {
      consecutiveErrors: num(get(od, 'consecutive_5xx')) ?? 5,
      baseEjectionTimeMs: base,
      maxEjectionTimeMs: Math.max(base, ms(get(od, 'max_ejection_time')) ?? 300_000),
      maxEjectionPercent: num(get(od, 'max_ejection_percent')) ?? 10,
      enforcingPercent: num(get(od, 'enforcing_consecutive_5xx')) ?? 100,
    };
  }
  return { circuitBreakers, outlierDetection };
}
