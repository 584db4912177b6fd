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
import { configDumpSource } from './admin/config-dump/source-from-config.js';
import { serverInfo } from './admin/server-info.js';
import type { ClusterStatus } from './admin/clusters-view.js';
import type { CompiledConfig } from './config/compile.js';
import type { DrainListenersOptions } from './downstream/listener-manager.js';
import { plainSnapshot } from './dynamic/dynamic-snapshot.js';
import type { DynamicSnapshot } from './dynamic/dynamic-snapshot.js';
import { envoyXdsStatLines } from './dynamic/envoy-xds-stats.js';
import { InitManager } from './dynamic/init-manager.js';
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
import { LeasedTokenBucket } from './shared-policy/leased-token-bucket.js';
import type { PolicyToPrimary, PolicyToWorker } from './shared-policy/messages.js';
import { PrimaryBuckets } from './shared-policy/primary-buckets.js';
import { PrimaryOutliers } from './shared-policy/primary-outliers.js';
import { installSharedPolicy } from './shared-policy/shared-policy.js';
import { WorkerChannel } from './shared-policy/worker-channel.js';
import { WorkerOutliers } from './shared-policy/worker-outliers.js';
import type { ServerState } from './server-state.js';

/** Primary → worker. */
type ToWorker =
  | PolicyToWorker
  | { type: 'meltemi.snapshot'; snapshot: DynamicSnapshot }
  | { type: 'meltemi.drain' }
  | { type: 'meltemi.drain_listeners'; opts: DrainListenersOptions };

/** Worker → primary. */
type ToPrimary =
  | PolicyToPrimary
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
  let latest: { snapshot: DynamicSnapshot } | undefined;
  let stopping = false;
  const xds = MeltemiXds.wanted(config.bootstrap, config.listeners)
    ? new MeltemiXds(config.bootstrap, {
        staticListeners: config.listeners,
        onSnapshot: (compiled) => {
          latest = { snapshot: plainSnapshot(compiled) };
          for (const [w, st] of workers) if (st.ready) send(w, { type: 'meltemi.snapshot', ...latest });
          // Sent is taken as applied: each worker applies it within the same turn of its loop.
          init?.check();
        },
      })
    : undefined;
  const init = xds === undefined ? undefined : new InitManager(config.bootstrap, () => xds.typeTotals());
  let quit = (): void => undefined;
  const send = (w: Worker, msg: ToWorker): void => {
    // A worker that is exiting can close its channel between the check and the write: the
    // callback takes that EPIPE, which would otherwise be an 'error' event that ends the primary.
    if (w.isConnected()) w.send(msg, undefined, {}, (err) => err && logger.debug({ worker: w.id, err: err.message, type: msg.type }, 'message to an exiting worker dropped'));
  };
  // Sidecar-wide policy state: the workers lease from it (docs/workers.md).
  const buckets = new PrimaryBuckets(() => workers.size);
  // Circuit-breaker shares: the ready workers, numbered afresh whenever one comes or goes.
  const renumber = (): void => {
    const ready = [...workers].filter(([, st]) => st.ready);
    ready.forEach(([w], index) => send(w, { type: 'meltemi.policy.slot', index, count: ready.length }));
  };
  const outliers = new PrimaryOutliers((msg) => {
    for (const [w, st] of workers) if (st.ready) send(w, msg);
  });
  const fork = (): void => {
    const w = cluster.fork();
    workers.set(w, { ready: false, stats: undefined, clusters: [], listeners: [] });
    w.on('message', (msg: ToPrimary) => {
      const st = workers.get(w);
      if (st === undefined) return;
      if (msg.type === 'meltemi.policy.lease') {
        send(w, buckets.lease(msg));
      } else if (msg.type === 'meltemi.policy.host_result') {
        outliers.report(msg);
      } else if (msg.type === 'meltemi.ready') {
        st.ready = true;
        for (const e of outliers.states()) send(w, e);
        renumber();
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
      // The dead worker's breaker shares flow back to the others (its leased tokens count as used).
      renumber();
      if (stopping) return;
      logger.error({ worker: w.id, code }, 'worker exited; starting another');
      setTimeout(fork, RESTART_DELAY_MS).unref();
    });
  };
  for (let i = 0; i < n; i++) fork();
  xds?.start();
  init?.start();
  let http: HttpListener[] = [];
  const state = (): ServerState => {
    if (stopping) return 'DRAINING';
    if (workers.size === 0 || ![...workers.values()].every((w) => w.ready)) return 'PRE_INITIALIZING';
    return init?.state ?? 'LIVE';
  };
  const parts: PrimaryParts = { config, workers, xds: () => xds, send, http: () => http, state, quit: () => quit(), outliers };
  const admin = config.admin === undefined ? undefined : await AdminServer.start(config.admin.host, config.admin.port, primaryAdmin(parts));
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
    quit = () => stop('quitquitquit');
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** What the primary's admin reads. */
interface PrimaryParts {
  readonly config: CompiledConfig;
  readonly workers: Map<Worker, WorkerState>;
  xds(): MeltemiXds | undefined;
  send(w: Worker, msg: ToWorker): void;
  http(): readonly HttpListener[];
  state(): ServerState;
  quit(): void;
  readonly outliers: PrimaryOutliers;
}

function primaryAdmin(p: PrimaryParts): AdminSource {
  const { config, workers, xds, send, http, outliers } = p;
  const startedAt = Date.now();
  return {
    serverState: () => p.state(),
    quit: () => p.quit(),
    configDump: () => configDumpSource({ config, loadedAt: new Date(startedAt), xds }),
    statsSnapshot: () => {
      const parts = [...workers.values()].flatMap((w) => (w.stats === undefined ? [] : [w.stats]));
      // The primary's own part: xDS stats, and its memory, which the workers' gauges add to.
      parts.push(
        collectSnapshot({
          listeners: [],
          clusters: [],
          extraLines: [...(xds()?.statsLines() ?? []), ...envoyXdsStatLines(xds()?.typeTotals())],
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
    // Each worker has its own pools: hosts' counters are summed over the workers. Outlier
    // state is the sidecar's, as the primary's detector has it now.
    clusters: () =>
      mergeClusterStatuses([...workers.values()].map((w) => w.clusters)).map((c) => ({
        ...c,
        hosts: c.hosts.map((h) => ({ ...h, ejected: outliers.isEjected(c.name, `${h.address}:${h.port}`) ?? h.ejected })),
      })),
    serverInfo: () => serverInfo({ version: '0.1.0', state: p.state(), startedAtMs: startedAt, node: config.bootstrap.node, drainTimeMs: config.settings.drainTimeoutMs }),
    // Workers report their bound addresses (the real port when the config says 0).
    listeners: () => [...workers.values()].find((w) => w.listeners.length > 0)?.listeners ?? [],
    drainListeners: (opts) => {
      for (const w of workers.keys()) send(w, { type: 'meltemi.drain_listeners', opts });
    },
  };
}

/**
 * In a worker, makes the listeners compiled from now on (the static config, then every
 * snapshot) use the primary's sidecar-wide policy state. Call it before compiling the config.
 */
export function joinSharedPolicy(): void {
  if (!cluster.isWorker) return;
  // Once the primary is gone a send would fail with an 'error' event: nothing is sent then.
  // (process.send's false only means "queued behind others": the message still goes.)
  const toPrimary = (msg: ToPrimary): boolean => {
    if (!process.connected || process.send === undefined) return false;
    // The channel can still close between the check and the write: the callback takes the EPIPE.
    process.send(msg, undefined, {}, (err) => err && logger.debug({ err: err.message, type: msg.type }, 'message to the primary dropped'));
    return true;
  };
  const channel = new WorkerChannel(toPrimary);
  const outliers = new WorkerOutliers(toPrimary);
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'meltemi.policy.grant') channel.onMessage(msg);
    else if (msg.type === 'meltemi.policy.ejections') outliers.onEjections(msg);
    else if (msg.type === 'meltemi.policy.slot') Object.assign(breakerSlot, { index: msg.index, count: msg.count });
  });
  const breakerSlot = { index: 0, count: 1 };
  installSharedPolicy({
    breakerSlot,
    tokenBucket: (id, spec) => new LeasedTokenBucket(id, spec, channel),
    outliers: (cluster, config, hosts, onChange) => outliers.link(cluster, config, hosts, onChange),
  });
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
