/**
 * Several worker processes (node:cluster, `--concurrency N`). The primary holds the xDS
 * streams (the control plane sees one client) and the admin server; it sends every
 * accepted DynamicSnapshot to all workers, which apply it to their own MeltemiServer.
 * Workers share the listening sockets through node:cluster and send their stats to the
 * primary, whose admin serves the merged numbers. Messages are plain data (compiled
 * objects hold functions); each worker compiles what it receives.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { AdminServer } from './admin/admin-server.js';
import type { AdminSource } from './admin/admin-server.js';
import { mergeClusterStatuses } from './admin/clusters-view.js';
import type { ClusterStatus } from './admin/clusters-view.js';
import type { CompiledConfig } from './config/compile.js';
import { plainSnapshot } from './dynamic/dynamic-snapshot.js';
import type { DynamicSnapshot } from './dynamic/dynamic-snapshot.js';
import { MeltemiXds } from './dynamic/meltemi-xds.js';
import { SnapshotApplier } from './dynamic/snapshot-applier.js';
import { startHttpListeners } from './http/http-listener.js';
import type { HttpListener } from './http/http-listener.js';
import { logger } from './logger.js';
import { collectSnapshot } from './observability/collect.js';
import { addMemory, addMemoryGauges, processMemory } from './observability/memory.js';
import type { MemoryReport } from './observability/memory.js';
import { mergeStatsSnapshots } from './observability/stats-snapshot.js';
import type { StatsSnapshot } from './observability/stats-snapshot.js';
import { MeltemiServer } from './server.js';

/** Primary → worker. */
type ToWorker =
  | { type: 'meltemi.snapshot'; snapshot: DynamicSnapshot; dump: object[] }
  | { type: 'meltemi.drain' }
  | { type: 'meltemi.drain_listeners'; opts: { graceful: boolean; inboundOnly: boolean } };

/** Worker → primary. */
type ToPrimary =
  | { type: 'meltemi.ready' }
  /** The worker could not start (e.g. a listener port in use): the primary exits with it. */
  | { type: 'meltemi.fatal'; error: string }
  | { type: 'meltemi.stats'; snapshot: StatsSnapshot; clusters: ClusterStatus[]; listeners: { name: string; address: string }[]; memory: MemoryReport };

const STATS_INTERVAL_MS = 1000;
const RESTART_DELAY_MS = 1000;

/** True in a process forked by runPrimary. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

interface WorkerState {
  ready: boolean;
  stats: StatsSnapshot | undefined;
  clusters: ClusterStatus[];
  /** The addresses the worker's listeners are bound to (node:cluster shares one port among workers). */
  listeners: { name: string; address: string }[];
  /** The worker's memory at its latest report. */
  memory?: MemoryReport;
}

/**
 * Runs the primary: forks `n` workers (re-forked if one dies), holds xDS, serves admin.
 * Resolves with the exit code after SIGTERM/SIGINT drained every worker.
 */
export async function runPrimary(config: CompiledConfig, n: number): Promise<number> {
  const workers = new Map<Worker, WorkerState>();
  /** Why a worker could not start: the primary stops and fails with it, as one process would. */
  let failed: string | undefined;
  let onFailed: (() => void) | undefined;
  let latest: { snapshot: DynamicSnapshot; dump: object[] } | undefined;
  let stopping = false;
  const xds = MeltemiXds.wanted(config.bootstrap, config.listeners)
    ? new MeltemiXds(config.bootstrap, {
        staticListeners: config.listeners,
        onSnapshot: (compiled) => {
          latest = { snapshot: plainSnapshot(compiled), dump: xds?.configDump() ?? [] };
          for (const [w, st] of workers) if (st.ready) send(w, { type: 'meltemi.snapshot', ...latest });
        },
      })
    : undefined;
  const send = (w: Worker, msg: ToWorker): void => {
    if (w.isConnected()) w.send(msg);
  };
  const fork = (): void => {
    const w = cluster.fork();
    workers.set(w, { ready: false, stats: undefined, clusters: [], listeners: [] });
    w.on('message', (msg: ToPrimary) => {
      const st = workers.get(w);
      if (st === undefined) return;
      if (msg.type === 'meltemi.ready') {
        st.ready = true;
        // A worker that came up after the stop signal drains at once.
        if (stopping) send(w, { type: 'meltemi.drain' });
        else if (latest !== undefined) send(w, { type: 'meltemi.snapshot', ...latest });
      } else if (msg.type === 'meltemi.fatal') {
        if (failed !== undefined || stopping) return;
        failed = msg.error;
        stopping = true;
        xds?.close();
        for (const other of workers.keys()) other.process.kill('SIGKILL');
        onFailed?.();
      } else if (msg.type === 'meltemi.stats') {
        st.stats = msg.snapshot;
        st.clusters = msg.clusters;
        st.listeners = msg.listeners;
        st.memory = msg.memory;
      }
    });
    w.on('exit', (code) => {
      workers.delete(w);
      if (stopping) return;
      logger.error({ worker: w.id, code }, 'worker exited; starting another');
      setTimeout(fork, RESTART_DELAY_MS).unref();
    });
  };
  for (let i = 0; i < n; i++) fork();
  xds?.start();
  let http: HttpListener[] = [];
  const admin = config.admin === undefined ? undefined : await AdminServer.start(config.admin.host, config.admin.port, primaryAdmin(config, workers, () => xds, send, () => http));
  http = await startHttpListeners(config.httpListeners ?? []);
  logger.info({ workers: n, xds: xds !== undefined }, 'primary started');
  return new Promise<number>((resolve, reject) => {
    onFailed = (): void => {
      void admin?.close();
      for (const h of http) void h.close();
      reject(new Error(failed));
    };
    if (failed !== undefined) return onFailed();
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'draining workers before exit');
      xds?.close();
      // Ready workers drain; one still starting has no requests yet and learns of the stop
      // when it reports ready. A worker that hangs is killed after the drain timeout.
      for (const [w, st] of workers) if (st.ready) send(w, { type: 'meltemi.drain' });
      setTimeout(() => {
        for (const w of workers.keys()) w.process.kill('SIGKILL');
      }, config.settings.drainTimeoutMs + 2000).unref();
      const check = setInterval(() => {
        if (workers.size > 0) return;
        clearInterval(check);
        void Promise.all([admin?.close(), ...http.map((h) => h.close())]).then(() => resolve(0));
      }, 50);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function primaryAdmin(
  config: CompiledConfig,
  workers: Map<Worker, WorkerState>,
  xds: () => MeltemiXds | undefined,
  send: (w: Worker, msg: ToWorker) => void,
  http: () => readonly HttpListener[],
): AdminSource {
  const startedAt = Date.now();
  return {
    ready: () => workers.size > 0 && [...workers.values()].every((w) => w.ready),
    configDump: () => ({
      configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: config.bootstrap }, ...(xds()?.configDump() ?? [])],
    }),
    statsSnapshot: () => {
      const parts = [...workers.values()].flatMap((w) => (w.stats === undefined ? [] : [w.stats]));
      // The primary's own part: xDS stats, and its memory, which the workers' gauges add to.
      parts.push(
        collectSnapshot({
          listeners: [],
          clusters: [],
          extraLines: xds()?.statsLines() ?? [],
          collectExtra: (into) => {
            addMemoryGauges(into, processMemory());
            for (const h of http()) h.collect(into);
          },
        }),
      );
      return mergeStatsSnapshots(parts);
    },
    memory: () => {
      const reports = [...workers.values()].flatMap((w) => (w.memory === undefined ? [] : [w.memory]));
      return { total: addMemory([processMemory(), ...reports]), processes: 1 + reports.length };
    },
    // Each worker has its own pools: hosts' counters are summed over the workers.
    clusters: () => mergeClusterStatuses([...workers.values()].map((w) => w.clusters)),
    serverInfo: () => ({ version: '0.1.0', state: 'LIVE', workers: workers.size, uptime_current_epoch: `${Math.floor((Date.now() - startedAt) / 1000)}s`, node: config.bootstrap.node ?? {} }),
    // Workers report their bound addresses (the real port when the config says 0).
    listeners: () => [...workers.values()].find((w) => w.listeners.length > 0)?.listeners ?? [],
    drainListeners: (opts) => {
      for (const w of workers.keys()) send(w, { type: 'meltemi.drain_listeners', opts });
    },
  };
}

/**
 * Runs a worker: the static config (without the admin server, which the primary runs),
 * plus every snapshot the primary sends. Resolves with the exit code after a drain.
 */
export async function runWorker(config: CompiledConfig): Promise<number> {
  let server: MeltemiServer;
  try {
    // The admin and the static HTTP listeners that front it run in the primary.
    server = await MeltemiServer.start({ ...config, admin: undefined, httpListeners: [] });
  } catch (err) {
    // Restarting would fail the same way (a port in use stays in use): tell the primary.
    const msg: ToPrimary = { type: 'meltemi.fatal', error: (err as Error).message };
    await new Promise<void>((resolve) => {
      if (process.send === undefined) resolve();
      else process.send(msg, undefined, {}, () => resolve());
    });
    throw err;
  }
  const applier = new SnapshotApplier(server);
  let dump: object[] = [];
  server.setConfigDumpExtra(() => dump);
  const report = (): void => {
    const msg: ToPrimary = {
      type: 'meltemi.stats',
      snapshot: server.statsSnapshot(),
      clusters: server.clustersView(),
      listeners: server.listenerAddresses(),
      memory: processMemory(),
    };
    process.send?.(msg);
  };
  const timer = setInterval(report, STATS_INTERVAL_MS);
  timer.unref();
  return new Promise<number>((resolve) => {
    process.on('message', (msg: ToWorker) => {
      if (msg.type === 'meltemi.snapshot') {
        dump = msg.dump;
        void applier.apply(msg.snapshot).then(report);
      } else if (msg.type === 'meltemi.drain_listeners') {
        server.drainListeners(msg.opts);
      } else if (msg.type === 'meltemi.drain') {
        clearInterval(timer);
        server.drain().then(
          () => resolve(0),
          () => resolve(1),
        );
      }
    });
    // The primary handles signals; a worker only drains when told (or when the primary dies).
    process.on('SIGTERM', () => undefined);
    process.on('SIGINT', () => undefined);
    process.on('disconnect', () => {
      void server.drain().then(() => resolve(0));
    });
    const ready: ToPrimary = { type: 'meltemi.ready' };
    process.send?.(ready);
    report();
  });
}
