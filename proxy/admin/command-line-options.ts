/**
 * The command line this process was started with, in the shape of Envoy's
 * `envoy.admin.v3.CommandLineOptions` (what /server_info shows as `command_line_options`,
 * and what tools read to learn e.g. the drain time). Recorded once by the CLI; a proxy
 * started from code (tests) shows Envoy's defaults for what it was not told.
 */
import { duration } from './config-dump/proto-json.js';

/** The CLI's parsed values that have a CommandLineOptions field. */
export interface CommandLineValues {
  readonly configPath?: string;
  readonly configYaml?: string;
  readonly validate?: boolean;
  readonly concurrency?: number;
  readonly allowUnknownStaticFields?: boolean;
  readonly logLevel?: string;
  readonly componentLogLevel?: string;
  readonly logFormat?: string;
  readonly serviceCluster?: string;
  readonly serviceNode?: string;
  readonly drainTimeS?: number;
  readonly fileFlushIntervalMs?: number;
  readonly localAddressIpVersion?: string;
  readonly disableHotRestart?: boolean;
}

let recorded: CommandLineValues = {};

export function recordCommandLine(values: CommandLineValues): void {
  recorded = values;
}

/**
 * Envoy's CommandLineOptions as proto JSON (defaults left out, as protobuf JSON does).
 * `drainTimeMs`: the drain time in force (--drain-time-s, else the bootstrap's
 * meltemi.drain_timeout), so the dump says what the proxy will really do.
 */
export function commandLineOptions(drainTimeMs?: number): Record<string, unknown> {
  const v = recorded;
  const out: Record<string, unknown> = {};
  const set = (k: string, x: unknown): void => {
    if (x !== undefined && x !== '' && x !== false && x !== 0) out[k] = x;
  };
  set('concurrency', v.concurrency);
  set('config_path', v.configPath);
  set('config_yaml', v.configYaml);
  set('allow_unknown_static_fields', v.allowUnknownStaticFields);
  // Envoy's enum IpVersion { v4 = 0; v6 = 1 }: v4 is the default, left out.
  if (v.localAddressIpVersion === 'v6') out['local_address_ip_version'] = 'v6';
  set('log_level', v.logLevel ?? 'info');
  set('component_log_level', v.componentLogLevel);
  set('log_format', v.logFormat);
  set('service_cluster', v.serviceCluster);
  set('service_node', v.serviceNode);
  if (v.fileFlushIntervalMs !== undefined) out['file_flush_interval'] = duration(v.fileFlushIntervalMs / 1000);
  const drainS = drainTimeMs !== undefined ? drainTimeMs / 1000 : v.drainTimeS;
  if (drainS !== undefined) out['drain_time'] = duration(drainS);
  // Meltemi always drains every connection at once: Envoy's `--drain-strategy immediate`.
  out['drain_strategy'] = 'Immediate';
  if (v.validate === true) out['mode'] = 'Validate';
  // Meltemi has no hot restart, whatever the flag says.
  out['disable_hot_restart'] = true;
  return out;
}
