/**
 * Wires the xDS client to a running server: accepted snapshots are applied, and the
 * client's versions, NACKs and counters show in /config_dump and /stats.
 */
import type { InitialFetchOutcome } from '../../xds-client/initial-fetch.js';
import type { CompiledConfig } from '../config/compile.js';
import type { MeltemiServer } from '../server.js';
import { logger } from '../logger.js';
import { envoyXdsStatLines } from './envoy-xds-stats.js';
import { InitManager } from './init-manager.js';
import { MeltemiXds } from './meltemi-xds.js';
import type { MeltemiXdsOptions } from './meltemi-xds.js';
import { SnapshotApplier } from './snapshot-applier.js';

export interface DynamicConfig {
  readonly xds: MeltemiXds;
  readonly applier: SnapshotApplier;
  /** Readiness: INITIALIZING until the first response of each type is applied (or timed out). */
  readonly init: InitManager;
  /**
   * For an init manager: settles once the first response of the type (a type URL, e.g.
   * LISTENER_TYPE) was answered and what it brought is applied to the server, or once its
   * initial_fetch_timeout passed. Pending while nothing subscribes to the type.
   */
  initialized(typeUrl: string): Promise<InitialFetchOutcome>;
  close(): void;
}

/** Tuning for tests (shorter timers); production uses the defaults. */
export type DynamicConfigOptions = Pick<MeltemiXdsOptions, 'doesNotExistTimeoutMs' | 'backoffBaseMs' | 'backoffMaxMs'> & { readonly warmingTimeoutMs?: number };

/** Starts xDS for `server` when its bootstrap asks for it; undefined otherwise. */
export function startDynamicConfig(server: MeltemiServer, config: CompiledConfig, opts: DynamicConfigOptions = {}): DynamicConfig | undefined {
  if (!MeltemiXds.wanted(config.bootstrap, config.listeners)) return undefined;
  const { warmingTimeoutMs, ...xdsOpts } = opts;
  const applier = new SnapshotApplier(server, warmingTimeoutMs);
  const xds = new MeltemiXds(config.bootstrap, {
    ...xdsOpts,
    staticListeners: config.listeners,
    onSnapshot: (snap) => {
      // Readiness counts a response once what it carried is applied, not when it arrived:
      // an init target, so a listener still waiting for its SDS certificates keeps the
      // proxy INITIALIZING.
      init.waitFor(applier.applyCompiled(snap));
    },
  });
  const init = new InitManager(config.bootstrap, () => xds.typeTotals(), () => logger.info('init done: every first xDS response applied (or timed out); LIVE'));
  server.setInitState(() => init.state);
  server.setConfigDumpXds(() => xds);
  server.setStatsExtra(() => [...xds.statsLines(), ...envoyXdsStatLines(xds.typeTotals())]);
  xds.start();
  init.start();
  return {
    xds,
    applier,
    init,
    // The snapshot of an accepted response is queued in a microtask after the ACK: wait a
    // turn, then for the applier's queue.
    initialized: async (typeUrl) => {
      const outcome = await xds.initialFetch(typeUrl);
      await new Promise((r) => setImmediate(r));
      await applier.settled();
      return outcome;
    },
    close: () => {
      init.close();
      xds.close();
    },
  };
}
