/**
 * Envoy's server state, as admin `/ready`, `/server_info` and the `server.state` gauge show
 * it (pilot-agent's readiness check reads the gauge: istio pilot/cmd/pilot-agent/status).
 * DRAINING is only for a failed health check or Meltemi's own shutdown; an admin
 * /drain_listeners leaves the state as it is, as in Envoy.
 */
export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

/** The `server.state` gauge's values (Envoy's envoy.admin.v3.ServerInfo.State). */
export const SERVER_STATE_VALUE: Readonly<Record<ServerState, number>> = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 };
