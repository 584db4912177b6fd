/**
 * istio_stats' source_principal and connection_security_policy, read in onComplete from the
 * exchange's connection (filters/api/connection.ts): the principal of a peer certificate
 * that verified, `none` on plaintext, `unknown` on TLS without a verified certificate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseStatus } from '../../codecs/api/index.js';
import type { ConnectionInfo, Counter, ExchangeCompletion, Gauge, Histogram, StatsScope, StatTags } from '../../filters/api/index.js';
import { IstioStatsFilter } from '../../filters/istio-stats/index.js';

/** Records the label sets of istio_requests_total and how often each was counted. */
class RecordingScope implements StatsScope {
  readonly prefix = '';
  readonly enabled = true;
  readonly requests = new Map<string, number>();

  counter(name: string, tags?: StatTags): Counter {
    const key = JSON.stringify(tags ?? []);
    const requests = this.requests;
    return {
      inc(n = 1) {
        if (name === 'istio_requests_total') requests.set(key, (requests.get(key) ?? 0) + n);
      },
      get value() {
        return requests.get(key) ?? 0;
      },
    };
  }

  gauge(): Gauge {
    return { set: () => undefined, add: () => undefined, value: 0 };
  }

  histogram(): Histogram {
    return { record: () => undefined };
  }

  scope(): StatsScope {
    return this;
  }
}

function connection(peer: ConnectionInfo['peer']): ConnectionInfo {
  return { remoteAddress: '10.0.0.1', remotePort: 4000, directRemoteAddress: '10.0.0.1', localAddress: '10.0.0.2', localPort: 20880, peer, requestedServerName: '' };
}

function completion(conn: ConnectionInfo | undefined): ExchangeCompletion {
  return {
    outcome: 'success',
    errorType: undefined,
    responseStatus: ResponseStatus.Ok,
    startTime: 0,
    durationMs: 1,
    upstreamLatencyMs: 1,
    metadata: new Map<string, string>() as unknown as ExchangeCompletion['metadata'],
    responseMetadata: undefined,
    operationName: 'sayHello',
    requestBytes: 10,
    responseBytes: 20,
    routeName: 'all',
    upstreamCluster: 'inbound|20880||',
    upstreamHost: '127.0.0.1:20880',
    downstreamRemoteAddress: '10.0.0.1:4000',
    downstreamLocalAddress: '10.0.0.2:20880',
    connection: conn,
  };
}

function labelsOf(scope: RecordingScope): Record<string, string>[] {
  return [...scope.requests.keys()].map((k) => Object.fromEntries(JSON.parse(k) as [string, string][]));
}

const SPIFFE = 'spiffe://cluster.local/ns/shop/sa/client';

test('inbound: mutual_tls with the verified principal, none on plaintext, unknown on TLS without a verified certificate', () => {
  const scope = new RecordingScope();
  const filter = new IstioStatsFilter('destination', {}, { destinationService: 'demo.shop.svc.cluster.local' }, scope);
  filter.onComplete(completion(connection({ principal: SPIFFE, uriSans: [SPIFFE], dnsSans: [], subject: '' })));
  filter.onComplete(completion(connection({ principal: SPIFFE, uriSans: [SPIFFE], dnsSans: [], subject: '' })));
  filter.onComplete(completion(connection(undefined)));
  filter.onComplete(completion(connection({ principal: undefined, uriSans: [], dnsSans: [], subject: '' })));
  const seen = labelsOf(scope).map((l) => `${l['source_principal']} ${l['connection_security_policy']}`);
  assert.deepEqual(seen.sort(), [`${SPIFFE} mutual_tls`, 'unknown none', 'unknown unknown'].sort());
  const mtls = [...scope.requests.entries()].find(([k]) => k.includes(SPIFFE));
  assert.equal(mtls?.[1], 2, 'one series for the same principal');
});

test('outbound (reporter=source) reports unknown whatever the downstream connection was', () => {
  const scope = new RecordingScope();
  const filter = new IstioStatsFilter('source', {}, { destinationService: '' }, scope);
  filter.onComplete(completion(connection({ principal: SPIFFE, uriSans: [SPIFFE], dnsSans: [], subject: '' })));
  const [labels] = labelsOf(scope);
  assert.equal(labels?.['source_principal'], 'unknown');
  assert.equal(labels?.['connection_security_policy'], 'unknown');
});
