import { collectRbacStats } from '../../filters/rbac/index.js';
import type { CompiledListener } from '../config/compile-listener.js';
import { logger } from '../logger.js';
import type { ListenerStats } from '../stats.js';
import { AccessLogHook } from './access-log/access-log-hook.js';
import { AccessLogger } from './access-log/access-logger.js';
import { openLogSink } from './access-log/sink.js';
import type { LogSink } from './access-log/sink.js';
import type { RuntimeCompleter } from './completion.js';
import type { FilterEnvironment } from './filter-context.js';
import { buildObserver } from './listener-observer.js';
import type { ExchangeObserver } from './observed-exchange.js';
import { StatsRegistry } from './stats-registry.js';
import type { StatsSnapshot } from './stats-snapshot.js';
import { createTracer } from './tracing/provider.js';
import type { TracerHandle } from './tracing/provider.js';
import { MetaTracer } from './tracing/tracer.js';

/** What the proxy's observability needs from the bootstrap. */
export interface ObservabilityOptions {
  /** False with `stats_config.stats_matcher.reject_all`: no histograms, empty /stats. */
  readonly metricsOn: boolean;
  /** The bootstrap's `node.metadata` (Istio's workload attributes). */
  readonly nodeMetadata: Readonly<Record<string, unknown>> | undefined;
  /** The bootstrap's `node.id` (sent by metadata_exchange). */
  readonly nodeId?: string | undefined;
  /** `cluster name -> first host` for an OTLP collector named by envoy_grpc cluster_name. */
  readonly clusterAddress: (cluster: string) => string | undefined;
}

/**
 * The process-wide side of metrics, access logs and tracing: shared log files, tracer
 * providers per collector, the stats filters keep (Istio's series, the rate limit's).
 * Builds each listener's observer and end-of-exchange hooks.
 */
export class ServerObservability {
  readonly #opts: ObservabilityOptions;
  readonly #sinks = new Map<string, LogSink>();
  readonly #tracers = new Map<string, TracerHandle>();
  /** What the filters of this server's listeners get (FilterContext: stats, node). */
  readonly filterEnvironment: FilterEnvironment;

  constructor(opts: ObservabilityOptions) {
    this.#opts = opts;
    this.filterEnvironment = {
      stats: new StatsRegistry(),
      statsEnabled: opts.metricsOn,
      node: { id: opts.nodeId ?? '', metadata: opts.nodeMetadata ?? {} },
    };
  }

  get metricsOn(): boolean {
    return this.#opts.metricsOn;
  }

  /** The observer of a listener's exchanges; undefined when nothing is on. */
  observerFor(l: CompiledListener, stats: ListenerStats): ExchangeObserver | undefined {
    const o = l.observability;
    let tracer: MetaTracer | null = null;
    if (o.tracing !== undefined) {
      const t = o.tracing;
      const url = t.collectorUrl ?? (t.collectorCluster === undefined ? undefined : this.#collectorOf(t.collectorCluster));
      tracer = new MetaTracer(this.#tracer(url, t.serviceName).tracer, t, l.protocol, l.name);
    }
    return buildObserver({ metrics: this.#opts.metricsOn ? stats : null, tracer });
  }

  /** The listener's own end-of-exchange hooks, run after its filters' onComplete: its access logs. */
  completersFor(l: CompiledListener): RuntimeCompleter[] {
    const o = l.observability;
    if (o.accessLogs.length === 0) return [];
    const ctx = { protocol: l.protocol };
    return [new AccessLogHook(o.accessLogs.map((spec) => new AccessLogger(spec, this.#sink(spec.path), ctx)))];
  }

  #collectorOf(cluster: string): string | undefined {
    const addr = this.#opts.clusterAddress(cluster);
    if (addr === undefined) logger.warn({ cluster }, 'tracing: the collector cluster has no host; spans go to the OTLP default endpoint');
    return addr === undefined ? undefined : `http://${addr}`;
  }

  #sink(path: string): LogSink {
    let s = this.#sinks.get(path);
    if (s === undefined) {
      try {
        s = openLogSink(path);
      } catch (err) {
        throw new Error(`access log: cannot open '${path}': ${(err as Error).message}`, { cause: err });
      }
      this.#sinks.set(path, s);
    }
    return s;
  }

  #tracer(url: string | undefined, serviceName: string): TracerHandle {
    const key = `${url ?? ''}|${serviceName}`;
    let t = this.#tracers.get(key);
    if (t === undefined) this.#tracers.set(key, (t = createTracer({ serviceName, collectorUrl: url })));
    return t;
  }

  /** Adds the stats filters keep (Istio's series, the rate limit's, RBAC's) to a snapshot. */
  collect(into: StatsSnapshot): void {
    if (this.#opts.metricsOn) this.filterEnvironment.stats.collect(into);
    // RBAC counters are kept per process by filters/rbac (the network filter has no filter
    // context): Envoy's rbac.* stats, reported whether or not Istio's metrics are on.
    collectRbacStats(into.counters);
  }

  /** Writes out buffered access-log lines and spans. */
  async flush(): Promise<void> {
    await Promise.all([...[...this.#sinks.values()].map((s) => s.flush()), ...[...this.#tracers.values()].map((t) => t.flush())]);
  }

  async close(): Promise<void> {
    const sinks = [...this.#sinks.values()];
    const tracers = [...this.#tracers.values()];
    this.#sinks.clear();
    this.#tracers.clear();
    await Promise.all([...sinks.map((s) => s.close()), ...tracers.map((t) => t.shutdown().catch((err: unknown) => logger.warn({ err: String(err) }, 'tracing: export on shutdown failed')))]);
  }
}
