import { istioLabels, serviceFromCluster, decodePeerMetadata, workloadOf } from '../../filters/istio-stats/index.js';
import type { IstioStatsConfig, Reporter, Workload } from '../../filters/istio-stats/index.js';
import { LatencyHistogram, mergeHistograms } from './histogram.js';
import type { HistogramSnapshot } from './histogram.js';
import type { ExchangeRecorder } from './listener-observer.js';
import type { ObservedExchange } from './observed-exchange.js';
import { taggedName } from './stats-snapshot.js';
import type { StatsSnapshot } from './stats-snapshot.js';

const PEER_KEY = 'x-envoy-peer-metadata';
/** Past this many label sets, new peers are reported as unknown: a bound on memory. */
const MAX_SERIES = 10_000;

function addHistogram(into: StatsSnapshot, key: string, h: HistogramSnapshot): void {
  const had = into.histograms[key];
  into.histograms[key] = had === undefined ? h : mergeHistograms([had, h]);
}

/** One label set's metrics. */
class IstioSeries {
  readonly labels: string;
  requests = 0;
  readonly duration = new LatencyHistogram();
  readonly requestBytes = new LatencyHistogram();
  readonly responseBytes = new LatencyHistogram();

  constructor(labels: string) {
    this.labels = labels;
  }
}

/** The Istio series of a whole process, shared by the listeners that report them. */
export class IstioSeriesStore {
  readonly #series = new Map<string, IstioSeries>();

  get size(): number {
    return this.#series.size;
  }

  /** The series of a label set, created on first use. */
  get(cacheKey: string, labels: () => [string, string][]): IstioSeries {
    let s = this.#series.get(cacheKey);
    if (s === undefined) {
      s = new IstioSeries(taggedName('', labels()));
      this.#series.set(cacheKey, s);
    }
    return s;
  }

  collect(into: StatsSnapshot): void {
    // Several cache keys can map to one label set: add them up.
    for (const s of this.#series.values()) {
      const c = `istio_requests_total${s.labels}`;
      into.counters[c] = (into.counters[c] ?? 0) + s.requests;
      addHistogram(into, `istio_request_duration_milliseconds${s.labels}`, s.duration.snapshot());
      addHistogram(into, `istio_request_bytes${s.labels}`, s.requestBytes.snapshot());
      addHistogram(into, `istio_response_bytes${s.labels}`, s.responseBytes.snapshot());
    }
  }
}

/**
 * Records Istio's request metrics for one listener (spec/metaprotocol.md §7.5): the peer is
 * read from `x-envoy-peer-metadata` of the request (inbound, reporter=destination) or of the
 * response (outbound, reporter=source); this proxy's own node metadata is the other side.
 */
export class IstioStatsRecorder implements ExchangeRecorder {
  readonly #reporter: Reporter;
  readonly #local: Workload;
  readonly #config: IstioStatsConfig;
  readonly #store: IstioSeriesStore;

  constructor(reporter: Reporter, localNodeMetadata: Readonly<Record<string, unknown>> | undefined, config: IstioStatsConfig, store: IstioSeriesStore) {
    this.#reporter = reporter;
    this.#local = workloadOf(localNodeMetadata as Parameters<typeof workloadOf>[0]);
    this.#config = config;
    this.#store = store;
  }

  record(ex: ObservedExchange, durationMs: number): void {
    const inbound = this.#reporter === 'destination';
    let peerB64 = inbound ? ex.metadata.get(PEER_KEY) : ex.response?.metadata.get(PEER_KEY);
    const code = ex.response !== undefined && ex.response.status === 0 ? 0 : 1;
    const svc = inbound ? this.#config.destinationService : serviceFromCluster(ex.upstreamCluster);
    if (this.#store.size >= MAX_SERIES) peerB64 = undefined;
    // Inbound: the client's SPIFFE id from its certificate (mutual_tls), or none (plaintext).
    const dp = inbound ? ex.downstreamPeer : undefined;
    const principal = dp?.peerPrincipal;
    const key = `${this.#reporter}|${code}|${svc}|${peerB64 ?? ''}|${principal ?? (dp?.tls === false ? '-' : '')}`;
    const series = this.#store.get(key, () => {
      const peer = workloadOf(decodePeerMetadata(peerB64));
      if (!inbound) return istioLabels('source', this.#local, peer, svc, code);
      const security = { sourcePrincipal: principal ?? 'unknown', destinationPrincipal: 'unknown', policy: principal !== undefined ? 'mutual_tls' : dp?.tls === false ? 'none' : 'unknown' };
      return istioLabels('destination', peer, this.#local, svc, code, security);
    });
    series.requests++;
    series.duration.record(durationMs);
    series.requestBytes.record(ex.request.frame.length);
    series.responseBytes.record(ex.responseBytes);
  }
}
