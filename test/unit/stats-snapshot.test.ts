/**
 * Histograms, snapshots and their merge across workers, and the Prometheus and Envoy text
 * renderings, checked with a real Prometheus parser.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as hdr from 'hdr-histogram-js';
import { test } from 'node:test';
import { mergeClusterStatuses } from '../../proxy/admin/clusters-view.js';
import { LatencyHistogram, mergeHistograms, snapshotQuantiles } from '../../proxy/observability/histogram.js';
import { prometheusName, renderPrometheus } from '../../proxy/observability/prometheus.js';
import { mergeStatsSnapshots, taggedName } from '../../proxy/observability/stats-snapshot.js';
import type { StatsSnapshot } from '../../proxy/observability/stats-snapshot.js';
import { renderStatsText } from '../../proxy/observability/stats-text.js';
import { ErrorType } from '../../codecs/api/index.js';
import { ClusterStats, countLocalError, ListenerStats } from '../../proxy/stats.js';

const require = createRequire(import.meta.url);
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => { name: string; type: string; metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[] }[];

test('a latency histogram: quantiles at 3 significant digits, Envoy buckets, count and sum', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 .. 100 ms
  assert.equal(h.count, 1000);
  assert.ok(Math.abs(h.percentile(50) - 50) < 0.1, String(h.percentile(50)));
  assert.ok(Math.abs(h.percentile(90) - 90) < 0.1);
  assert.ok(Math.abs(h.percentile(99) - 99) < 0.1);
  assert.ok(Math.abs(h.percentile(99.9) - 99.9) < 0.1);
  const s = h.snapshot();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.sum - 50050 / 1) / 10 < 1);
  // le=0.5 holds 0.1..0.5 (5 values), le=1 adds 0.6..1.0 (5), le=5 adds 1.1..5.0 (40).
  assert.deepEqual(s.buckets.slice(0, 3), [5, 5, 40]);
  assert.equal(s.buckets.reduce((a, b) => a + b, 0), 1000);
  assert.ok(Number.isNaN(new LatencyHistogram().percentile(50)));
});

test('the hand-written recording lands every value where hdr-histogram-js would, from 1 µs to an hour', () => {
  const ours = new LatencyHistogram();
  const reference = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  // A fixed pseudo-random spread over every power of two, plus the edges of the fast path.
  let seed = 7;
  const values = [1, 2047, 2048, 2049, 0x7fffffff, 0x80000000, 0x80000001, 3_600_000_000];
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push(1 + Math.floor(2 ** ((seed / 2 ** 31) * 31.7)));
  }
  for (const us of values) {
    ours.record(us / 1000);
    reference.recordValue(us);
  }
  for (const q of [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100]) {
    assert.equal(ours.percentile(q), reference.getValueAtPercentile(q) / 1000, `p${q}`);
  }
  const decoded = hdr.decodeFromCompressedBase64(ours.snapshot().hdr, 32, false);
  assert.equal(decoded.totalCount, values.length);
  assert.equal(decoded.getValueAtPercentile(99), reference.getValueAtPercentile(99));
});

test('merging worker snapshots sums counters and gauges and adds histograms', () => {
  const worker = (n: number, ms: number): StatsSnapshot => {
    const l = new ListenerStats('dubbo', 'in');
    l.request = n;
    l.request_active = 1;
    for (let i = 0; i < n; i++) l.request_time_ms.record(ms);
    const c = new ClusterStats();
    c.upstream_rq_total = n;
    const snap: StatsSnapshot = { counters: {}, gauges: {}, histograms: {} };
    l.collect(snap);
    c.collect('outbound|20880||demo', snap);
    // Snapshots cross process boundaries as JSON.
    return JSON.parse(JSON.stringify(snap)) as StatsSnapshot;
  };
  const merged = mergeStatsSnapshots([worker(30, 2), worker(70, 40)]);
  assert.equal(merged.counters['meta_protocol.dubbo.in.request'], 100);
  assert.equal(merged.gauges['meta_protocol.dubbo.in.request_active'], 2);
  assert.equal(merged.counters['cluster.outbound|20880||demo.upstream_rq_total'], 100);
  const h = merged.histograms['meta_protocol.dubbo.in.request_time_ms']!;
  assert.equal(h.count, 100);
  assert.equal(h.sum, 30 * 2 + 70 * 40);
  const [p25, p50] = snapshotQuantiles(h, [25, 50]);
  assert.ok(Math.abs(p25! - 2) < 0.01 && Math.abs(p50! - 40) < 0.05, `${p25} ${p50}`);
  assert.equal(mergeHistograms([]).count, 0);
});

test('Prometheus names: envoy_ prefix, cluster name as a label, Istio series as they are', () => {
  assert.deepEqual(prometheusName('meta_protocol.thrift.sample-server.meta-thrift.svc.cluster.local.local_rate_limit.ok'), {
    name: 'envoy_meta_protocol_thrift_sample_server_meta_thrift_svc_cluster_local_local_rate_limit_ok',
    labels: '',
  });
  assert.deepEqual(prometheusName('cluster.outbound|20880||demo.svc.upstream_rq_total'), { name: 'envoy_cluster_upstream_rq_total', labels: 'envoy_cluster_name="outbound|20880||demo.svc"' });
  assert.deepEqual(prometheusName(taggedName('istio_requests_total', [['reporter', 'source']])), { name: 'istio_requests_total', labels: 'reporter="source"' });
});

test('Prometheus text parses with a real parser: types, values, escaped labels, cumulative buckets', () => {
  const h = new LatencyHistogram();
  for (const v of [0.3, 0.7, 3, 3, 700]) h.record(v);
  const snap: StatsSnapshot = {
    counters: { 'meta_protocol.dubbo.x.request': 5, [taggedName('istio_requests_total', [['source_app', 'a "quoted" \\ app']])]: 3 },
    gauges: { 'meta_protocol.dubbo.x.request_active': 2 },
    histograms: { 'meta_protocol.dubbo.x.request_time_ms': h.snapshot() },
  };
  const text = renderPrometheus(snap);
  const fams = parsePrometheus(text);
  const by = new Map(fams.map((f) => [f.name, f]));
  assert.equal(by.get('envoy_meta_protocol_dubbo_x_request')?.type, 'COUNTER');
  assert.equal(by.get('envoy_meta_protocol_dubbo_x_request')?.metrics[0]?.value, '5');
  assert.equal(by.get('envoy_meta_protocol_dubbo_x_request_active')?.type, 'GAUGE');
  assert.equal(by.get('istio_requests_total')?.metrics[0]?.labels?.['source_app'], 'a "quoted" \\ app');
  const hist = by.get('envoy_meta_protocol_dubbo_x_request_time_ms')!;
  assert.equal(hist.type, 'HISTOGRAM');
  const b = hist.metrics[0]!.buckets!;
  assert.equal(b['0.5'], '1');
  assert.equal(b['1'], '2');
  assert.equal(b['5'], '4');
  assert.equal(b['500'], '4');
  assert.equal(b['1000'], '5');
  assert.equal(hist.metrics[0]!.count, '5');
  assert.equal(Number(hist.metrics[0]!.sum), 0.3 + 0.7 + 3 + 3 + 700);
});

test("Envoy's /stats text: sorted name: value lines, then quantile lines", () => {
  const h = new LatencyHistogram();
  h.record(10);
  const text = renderStatsText({ counters: { 'b.c': 2, 'a.c': 1 }, gauges: { 'a.g': 0 }, histograms: { 'z.h': h.snapshot(), 'y.h': new LatencyHistogram().snapshot() } });
  assert.deepEqual(text.trimEnd().split('\n').slice(0, 4), ['a.c: 1', 'a.g: 0', 'b.c: 2', 'y.h: No recorded values']);
  // HDR reports the top of the value's bucket: 10 ms reads as 10 to 10.01 at 3 digits.
  const v = String.raw`10(\.0\d{0,2})?`;
  assert.match(text, new RegExp(String.raw`^z\.h: P0\(nan,${v}\) P25\(nan,${v}\) P50\(nan,${v}\) P75\(nan,${v}\) P90\(nan,${v}\) P95\(nan,${v}\) P99\(nan,${v}\) P99\.5\(nan,${v}\) P99\.9\(nan,${v}\) P100\(nan,${v}\)$`, 'm'));
  assert.equal(renderStatsText({ counters: { 'a.c': 0, 'b.c': 1 }, gauges: {}, histograms: {} }, { usedOnly: true }), 'b.c: 1\n');
  assert.equal(renderStatsText({ counters: { 'a.c': 0, 'b.c': 1 }, gauges: {}, histograms: {} }, { filter: /^a\./ }), 'a.c: 0\n');
});

test('cluster views of several workers add up per host', () => {
  const host = (port: number, rq: number, cx: number) => ({
    address: '10.0.0.5',
    port,
    healthy: true,
    ejected: false,
    weight: 1,
    cxActive: cx,
    stats: { rq_total: rq, rq_success: rq, rq_error: 0, rq_timeout: 0, rq_active: 0 },
  });
  const merged = mergeClusterStatuses([
    [{ name: 'demo', hosts: [host(1, 3, 2), host(2, 1, 1)] }],
    [{ name: 'demo', hosts: [host(1, 4, 2)] }, { name: 'other', hosts: [host(3, 9, 1)] }],
  ]);
  assert.deepEqual(
    merged.map((c) => [c.name, c.hosts.map((h) => [h.port, h.stats.rq_total, h.cxActive])]),
    [
      ['demo', [[1, 7, 4], [2, 1, 1]]],
      ['other', [[3, 9, 1]]],
    ],
  );
});

test('local errors are counted by kind; a failed connection to a picked host is not "no healthy upstream"', () => {
  const l = new ListenerStats('dubbo', 'x');
  countLocalError(l, ErrorType.RouteNotFound, false);
  countLocalError(l, ErrorType.NoHealthyUpstream, false);
  countLocalError(l, ErrorType.NoHealthyUpstream, true);
  countLocalError(l, ErrorType.UpstreamReset, true);
  countLocalError(l, ErrorType.OverLimit, false);
  countLocalError(l, ErrorType.BadResponse, true);
  assert.deepEqual(
    [l.route_not_found, l.no_healthy_upstream, l.upstream_cx_connect_fail, l.upstream_reset, l.request_rate_limited, l.response_decoding_error, l.cluster_not_found],
    [1, 1, 1, 1, 1, 1, 0],
  );
});
