/**
 * GET /server_info in the shape of Envoy's `envoy.admin.v3.ServerInfo`, which istioctl and
 * dashboards read: version, state, uptimes as durations, the command line, the node.
 */
import { commandLineOptions } from './command-line-options.js';
import { duration, toProtoJson } from './config-dump/proto-json.js';

/** Envoy's ServerInfo.State names. */
export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

export interface ServerInfoInputs {
  readonly version: string;
  readonly state: ServerState;
  /** When this process started (Date.now() then). */
  readonly startedAtMs: number;
  /** The bootstrap's node (core.v3.Node, as written). */
  readonly node: unknown;
  /** The drain time in force. */
  readonly drainTimeMs?: number;
}

export function serverInfo(i: ServerInfoInputs): Record<string, unknown> {
  const uptime = duration(Math.floor((Date.now() - i.startedAtMs) / 1000));
  let node: Record<string, unknown>;
  try {
    node = toProtoJson('envoy.config.core.v3.Node', i.node ?? {});
  } catch {
    node = {};
  }
  return {
    version: i.version,
    state: i.state,
    uptime_current_epoch: uptime,
    // No hot restart: this epoch is the only one.
    uptime_all_epochs: uptime,
    hot_restart_version: 'disabled',
    command_line_options: commandLineOptions(i.drainTimeMs),
    node,
  };
}
