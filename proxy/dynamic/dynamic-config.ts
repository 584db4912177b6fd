/**
 * Wires the xDS client to a running server: accepted snapshots are applied, and the
 * client's versions, NACKs and counters show in /config_dump and /stats.
 */
import { XdsClient } from '../../xds-client/xds-client.js';
import type { XdsClientOptions } from '../../xds-client/xds-client.js';
import type { CompiledConfig } from '../config/compile.js';
import type { MeltemiServer } from '../server.js';
import { SnapshotApplier } from './snapshot-applier.js';

export interface DynamicConfig {
  readonly xds: XdsClient;
  readonly applier: SnapshotApplier;
  close(): void;
}

/** Tuning for tests (shorter timers); production uses the defaults. */
export type DynamicConfigOptions = Pick<XdsClientOptions, 'doesNotExistTimeoutMs' | 'backoffBaseMs' | 'backoffMaxMs'> & { readonly warmingTimeoutMs?: number };

/** Starts xDS for `server` when its bootstrap asks for it; undefined otherwise. */
export function startDynamicConfig(server: MeltemiServer, config: CompiledConfig, opts: DynamicConfigOptions = {}): DynamicConfig | undefined {
  if (!XdsClient.wanted(config.bootstrap, config.listeners)) return undefined;
  const { warmingTimeoutMs, ...xdsOpts } = opts;
  const applier = new SnapshotApplier(server, warmingTimeoutMs);
  const xds = new XdsClient(config.bootstrap, {
    ...xdsOpts,
    staticListeners: config.listeners,
    onSnapshot: (snap) => {
      void applier.apply(snap);
    },
  });
  server.setConfigDumpXds(() => xds);
  server.setStatsExtra(() => xds.statsLines());
  xds.start();
  return { xds, applier, close: () => xds.close() };
}
