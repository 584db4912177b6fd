/**
 * Circuit-breaker thresholds split among the workers: each worker admits up to its share,
 * so the sidecar admits up to the threshold (one more per worker at most, when a threshold
 * is smaller than the worker count: a share is never 0, or that worker could serve nothing).
 * The primary renumbers the workers when one starts or exits, so a dead worker's share
 * flows back to the others at once.
 */

/** This process's place among the workers. Mutable: the primary's updates land in place. */
export interface BreakerSlot {
  index: number;
  count: number;
}

/** One process serves alone: every threshold is its own. */
export const ALONE: BreakerSlot = { index: 0, count: 1 };

/** This worker's share of `limit`: an even split, the remainder to the first workers, never below one. */
export function shareOf(limit: number, slot: BreakerSlot): number {
  if (slot.count <= 1) return limit;
  return Math.max(1, Math.floor(limit / slot.count) + (slot.index < limit % slot.count ? 1 : 0));
}
