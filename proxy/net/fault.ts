import { logger } from '../logger.js';

/**
 * Exceptions caught at a per-connection boundary (a socket callback, a timer, a filter's
 * promise): a bug in a codec, filter or the proxy itself. Each one ends only the request or
 * the connection it happened on (DESIGN.md §7); this module names and counts it. The
 * process-wide count is for faults no listener or cluster can be charged with.
 */
export const faultCounts = { total: 0 };

/** Counts and logs one caught exception; `where` names the boundary, `context` the connection. */
export function reportFault(where: string, err: unknown, context?: Readonly<Record<string, unknown>>): void {
  faultCounts.total++;
  const e = err instanceof Error ? err : new Error(String(err));
  logger.error({ ...context, err: e.message, stack: e.stack }, `internal error in ${where}: ${e.message}`);
}

/** The message of whatever was thrown. */
export function faultText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
