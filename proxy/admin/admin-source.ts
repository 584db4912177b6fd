import type { CompiledConfig } from '../config/compile.js';
import type { ListenerManager } from '../downstream/listener-manager.js';
import type { HttpListener } from '../http/http-listener.js';
import { processMemory } from '../observability/memory.js';
import type { StatsSnapshot } from '../observability/stats-snapshot.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { AdminSource } from './admin-server.js';

const VERSION = '0.1.0';

/** The parts of a single-process proxy the admin reads. */
export interface ServerAdminParts {
  readonly config: CompiledConfig;
  readonly listeners: ListenerManager;
  readonly clusters: ClusterManager;
  readonly startedAt: number;
  draining(): boolean;
  statsSnapshot(): StatsSnapshot;
  /** Sections other parts add to /config_dump (the xDS client's resources, versions and errors). */
  configDumpExtra(): object[];
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
    ready: () => !p.draining(),
    configDump: () => ({
      configs: [
        { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: p.config.bootstrap },
        {
          '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump',
          static_route_configs: [...p.listeners.all()].map((l) => ({
            route_config: { '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration', ...l.runtime.routes.current.source },
          })),
        },
        ...p.configDumpExtra(),
      ],
    }),
    statsSnapshot: () => p.statsSnapshot(),
    memory: () => ({ total: processMemory(), processes: 1 }),
    clusters: () => p.clusters.status(),
    drainListeners: (opts) => p.listeners.drainListeners(opts),
    listeners: () => [...listenerAddresses(p.listeners), ...p.httpListeners().map((h) => ({ name: h.compiled.name, address: h.address }))],
    serverInfo: () => ({
      version: VERSION,
      state: p.draining() ? 'DRAINING' : 'LIVE',
      uptime_current_epoch: `${Math.floor((Date.now() - p.startedAt) / 1000)}s`,
      node: p.config.bootstrap.node ?? {},
    }),
  };
}
