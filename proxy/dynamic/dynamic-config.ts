/**
 * Wires the xDS client to a running server: accepted snapshots are applied, and the
 * client's versions, NACKs and counters show in /config_dump and /stats.
 */
import { XdsClient } from '../../xds-client/xds-client.js';
import type { XdsClientOptions } from '../../xds-client/xds-client.js';
import type { CompiledConfig } from '../config/compile.js';
import type { MeltemiServer } from '../server.js';
import { logger } from '../logger.js';
import { envoyXdsStatLines } from './envoy-xds-stats.js';
import { InitManager } from './init-manager.js';
import { SnapshotApplier } from './snapshot-applier.js';

export interface DynamicConfig {
  readonly xds: XdsClient;
  readonly applier: SnapshotApplier;
  readonly init: InitManager;
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
      // Readiness counts a response once what it carried is applied, not when it arrived.
      void applier.apply(snap).then(() => init.check());
    },
  });
  const init = new InitManager(config.bootstrap, () => xds.typeTotals(), () => logger.info('init done: every first xDS response applied (or timed out); LIVE'));
  server.setInitState(() => init.state);
  server.setConfigDumpExtra(() => xds.configDump());
  server.setStatsExtra(() => [...xds.statsLines(), ...envoyXdsStatLines(xds.typeTotals())]);
  xds.start();
  init.start();
  return {
    xds,
    applier,
    init,
    close: () => {
      init.close();
      xds.close();
    },
  };
}
