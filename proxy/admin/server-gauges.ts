import type { StatsSnapshot } from '../observability/stats-snapshot.js';
import { SERVER_STATE_VALUE } from '../server-state.js';
import type { ServerState } from '../server-state.js';

/** The gauges pilot-agent's readiness check reads; always written, so `usedonly` shows them at 0. */
export const SERVER_GAUGES: ReadonlySet<string> = new Set(['server.state', 'listener_manager.workers_started']);

/**
 * Adds `server.state` (0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING) and
 * `listener_manager.workers_started` (1 once the proxy has been LIVE: Envoy starts its
 * workers when its init manager is done) to a snapshot about to be rendered.
 */
export function addServerGauges(snap: StatsSnapshot, state: ServerState, workersStarted: boolean): StatsSnapshot {
  return { ...snap, gauges: { ...snap.gauges, 'server.state': SERVER_STATE_VALUE[state], 'listener_manager.workers_started': workersStarted ? 1 : 0 } };
}
