/**
 * Wires the xDS client to a running server: accepted snapshots are applied, and the
 * client's versions, NACKs and counters show in /config_dump and /stats.
 */
import type { InitialFetchOutcome } from '../../xds-client/initial-fetch.js';
import type { CompiledConfig } from '../config/compile.js';
import type { MeltemiServer } from '../server.js';
import { MeltemiXds } from './meltemi-xds.js';
import type { MeltemiXdsOptions } from './meltemi-xds.js';
import { SnapshotApplier } from './snapshot-applier.js';

export interface DynamicConfig {
  readonly xds: MeltemiXds;
  readonly applier: SnapshotApplier;
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
      void applier.applyCompiled(snap);
    },
  });
  server.setConfigDumpExtra(() => xds.configDump());
  server.setStatsExtra(() => xds.statsLines());
  xds.start();
  return {
    xds,
    applier,
    // The snapshot of an accepted response is queued in a microtask after the ACK: wait a
    // turn, then for the applier's queue.
    initialized: async (typeUrl) => {
      const outcome = await xds.initialFetch(typeUrl);
      await new Promise((r) => setImmediate(r));
      await applier.settled();
      return outcome;
    },
    close: () => xds.close(),
  };
}
