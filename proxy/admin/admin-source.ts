import type { CompiledConfig } from '../config/compile.js';
import type { ListenerManager } from '../downstream/listener-manager.js';
import type { HttpListener } from '../http/http-listener.js';
import { processMemory } from '../observability/memory.js';
import type { StatsSnapshot } from '../observability/stats-snapshot.js';
import type { ServerState } from '../server-state.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { MeltemiXds } from '../dynamic/meltemi-xds.js';
import type { AdminSource } from './admin-server.js';
import { configDumpSource } from './config-dump/source-from-config.js';
import { serverInfo } from './server-info.js';

const VERSION = '0.1.0';

/** The parts of a single-process proxy the admin reads. */
export interface ServerAdminParts {
  readonly config: CompiledConfig;
  readonly listeners: ListenerManager;
  readonly clusters: ClusterManager;
  readonly startedAt: number;
  serverState(): ServerState;
  quit(): void;
  statsSnapshot(): StatsSnapshot;
  /** The xDS client whose resources, versions and rejections /config_dump shows, if any. */
  dumpXds(): MeltemiXds | undefined;
  /** The static HTTP listeners, listed after the MetaProtocol ones in /listeners. */
  httpListeners(): readonly HttpListener[];
}

/** Every listener with the address it is bound to (the real port when the config said 0). */
export function listenerAddresses(listeners: ListenerManager): { name: string; address: string }[] {
  return [...listeners.all()].map((l) => ({ name: l.compiled.name, address: l.address }));
}

/** The admin's view of one process (the primary of several workers has its own, workers.ts). */
export function serverAdminSource(p: ServerAdminParts): AdminSource {
  return {
    serverState: () => p.serverState(),
    quit: () => p.quit(),
    configDump: () => configDumpSource({ config: p.config, loadedAt: new Date(p.startedAt), xds: () => p.dumpXds() }),
    statsSnapshot: () => p.statsSnapshot(),
    memory: () => ({ total: processMemory(), processes: 1 }),
    clusters: () => p.clusters.status(),
    drainListeners: (opts) => p.listeners.drainListeners(opts),
    listeners: () => [...listenerAddresses(p.listeners), ...p.httpListeners().map((h) => ({ name: h.compiled.name, address: h.address }))],
    serverInfo: () =>
      serverInfo({
        version: VERSION,
        state: p.serverState(),
        startedAtMs: p.startedAt,
        node: p.config.bootstrap.node,
        drainTimeMs: p.config.settings.drainTimeoutMs,
      }),
  };
}
