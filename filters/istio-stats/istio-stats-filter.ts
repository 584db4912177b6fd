import { ResponseStatus } from '../../codecs/api/index.js';
import { FilterStatus } from '../api/index.js';
import type { ConnectionInfo, Counter, ExchangeCompletion, Filter, Histogram, StatsScope } from '../api/index.js';
import type { IstioStatsConfig } from './config.js';
import { istioLabels, serviceFromCluster, workloadOf } from './labels.js';
import type { ConnectionSecurity, Reporter, Workload } from './labels.js';
import { decodePeerMetadata } from './peer-metadata.js';

const PEER_KEY = 'x-envoy-peer-metadata';
/** Past this many label sets, new peers are reported as unknown: a bound on memory. */
const MAX_SERIES = 10_000;

/** Istio's source_principal and connection_security_policy of an inbound request's connection. */
function securityOf(connection: ConnectionInfo | undefined): ConnectionSecurity {
  if (connection === undefined) return { sourcePrincipal: 'unknown', destinationPrincipal: 'unknown', policy: 'unknown' };
  const principal = connection.peer?.principal;
  if (principal !== undefined) return { sourcePrincipal: principal, destinationPrincipal: 'unknown', policy: 'mutual_tls' };
  return { sourcePrincipal: 'unknown', destinationPrincipal: 'unknown', policy: connection.peer === undefined ? 'none' : 'unknown' };
}

/** One label set's metrics. */
interface IstioSeries {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;
}

/**
 * Records Istio's request metrics at the end of each exchange, local replies included
 * (spec/metaprotocol.md §7.5): the peer is read from `x-envoy-peer-metadata` of the request
 * (inbound, reporter=destination) or of the response (outbound, reporter=source); this
 * proxy's own node metadata is the other side.
 */
export class IstioStatsFilter implements Filter {
  readonly #reporter: Reporter;
  readonly #local: Workload;
  readonly #config: IstioStatsConfig;
  readonly #stats: StatsScope;
  /** Series by what decides their labels (reporter, code, service, raw peer value). */
  readonly #series = new Map<string, IstioSeries>();

  constructor(reporter: Reporter, localNodeMetadata: Readonly<Record<string, unknown>>, config: IstioStatsConfig, rootStats: StatsScope) {
    this.#reporter = reporter;
    this.#local = workloadOf(localNodeMetadata as Parameters<typeof workloadOf>[0]);
    this.#config = config;
    this.#stats = rootStats;
  }

  onRequest(): FilterStatus {
    return FilterStatus.Continue;
  }

  onComplete(c: ExchangeCompletion): void {
    const inbound = this.#reporter === 'destination';
    let peerB64 = inbound ? c.metadata.get(PEER_KEY) : c.responseMetadata?.get(PEER_KEY);
    const code = c.responseStatus === ResponseStatus.Ok ? 0 : 1;
    const svc = inbound ? this.#config.destinationService : serviceFromCluster(c.upstreamCluster);
    if (this.#series.size >= MAX_SERIES) peerB64 = undefined;
    // Inbound: the client's identity from a certificate that verified (mutual_tls), none on
    // plaintext, unknown on TLS without one (or a test double without a connection).
    const security = inbound ? securityOf(c.connection) : undefined;
    const key = `${this.#reporter}|${code}|${svc}|${peerB64 ?? ''}|${security === undefined ? '' : `${security.policy}|${security.sourcePrincipal}`}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      const peer = workloadOf(decodePeerMetadata(peerB64));
      const labels = inbound ? istioLabels('destination', peer, this.#local, svc, code, security) : istioLabels('source', this.#local, peer, svc, code);
      const s = this.#stats;
      series = {
        requests: s.counter('istio_requests_total', labels),
        duration: s.histogram('istio_request_duration_milliseconds', labels),
        requestBytes: s.histogram('istio_request_bytes', labels),
        responseBytes: s.histogram('istio_response_bytes', labels),
      };
      this.#series.set(key, series);
    }
    series.requests.inc();
    series.duration.record(c.durationMs);
    series.requestBytes.record(c.requestBytes);
    series.responseBytes.record(c.responseBytes);
  }
}
