/**
 * A millisecond clock read on hot paths at the cost of a property read: the connection
 * sweeps (downstream/connection-sweeper.ts) refresh it every few hundred milliseconds at
 * most, so a value read from it lags the real time by at most MAX_LAG_MS. Timeouts measured
 * with it add that lag so they never fire early.
 */
export const coarseClock = { now: Date.now() };

/** The longest a sweep waits; the clock is never older than this while a listener runs. */
export const MAX_LAG_MS = 250;

/** Refreshes the clock and returns the time. */
export function tickCoarseClock(): number {
  return (coarseClock.now = Date.now());
}
