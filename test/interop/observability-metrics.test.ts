/**
 * Metrics after known traffic from real Dubbo peers: exact counters per listener, route,
 * cluster and host; latency histograms; Prometheus output read by a real parser; Istio's
 * request metrics with the labels of the peer's metadata. Read over HTTP from the admin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { request } from 'undici';
import { encodePeerMetadata } from '../../filters/istio-stats/index.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';

const require = createRequire(import.meta.url);
interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface PromFamily {
  name: string;
  type: string;
  metrics: PromSample[];
}
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => PromFamily[];

const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
const PEER = {
  NAME: 'client-7d9f',
  NAMESPACE: 'shop',
  WORKLOAD_NAME: 'client',
  CLUSTER_ID: 'Kubernetes',
  LABELS: { app: 'client-app', version: 'v3', 'service.istio.io/canonical-name': 'client-svc' },
};

describe('metrics after known traffic', () => {
  let provider: Provider;
  let proxy: RunningMeltemi;
  let consumer: Consumer;
  let admin: string;

  before(async () => {
    provider = await startSofaProvider({ name: 'p1' });
    const boot = bootstrapOf(
      [
        metaProtocolListener({
          routes: [
            { name: 'slow', match: { method: 'slow' }, cluster: 'demo', timeout: '0.2s' },
            { name: 'demo', match: { interface: 'com.example.DemoService' }, cluster: 'demo' },
          ],
          extra: {
            meta_protocol_filters: [
              { name: 'aeraki.meta_protocol.filters.istio_stats', config: { destination_service: 'demo.shop.svc.cluster.local' } },
              { name: 'aeraki.meta_protocol.filters.router' },
            ],
          },
        }),
      ],
      [staticCluster('demo', [provider.port])],
      undefined,
      ADMIN,
    ) as Record<string, unknown>;
    (boot['static_resources'] as { listeners: Record<string, unknown>[] }).listeners[0]!['traffic_direction'] = 'INBOUND';
    boot['node'] = { id: 'sidecar~10.0.0.9~demo-1.shop~shop.svc.cluster.local', metadata: { NAMESPACE: 'shop', WORKLOAD_NAME: 'demo', CLUSTER_ID: 'Kubernetes', LABELS: { app: 'demo', version: 'v1' } } };
    proxy = await startMeltemi(boot);
    admin = `http://127.0.0.1:${proxy.server.adminPort!}`;
    consumer = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);

    // Known traffic: 10 successes, 2 business exceptions, 3 without a route, 1 timeout.
    for (let i = 0; i < 10; i++) assert.equal(await consumer.invoke('sayHello', [java.String(`n${i}`)]), `hello n${i} from p1`);
    for (let i = 0; i < 2; i++) await assert.rejects(consumer.invoke('boom', []));
    const raw = await RawDubboClient.connect(proxy.listenerPort('main'));
    const peer = encodePeerMetadata(PEER);
    for (let i = 0; i < 3; i++) raw.write(dubboRequest({ id: 100 + i, interface: 'com.example.Nope', attachments: { 'x-envoy-peer-metadata': peer } }));
    raw.write(dubboRequest({ id: 200, method: 'slow', desc: 'I', args: [1000], attachments: { 'x-envoy-peer-metadata': peer } }));
    await raw.until(() => raw.frames.length === 4, 3000, 'four error replies');
    raw.close();
  });

  after(async () => {
    await consumer.close();
    await proxy.close();
    await provider.close();
  });

  async function get(path: string): Promise<{ status: number; body: string; type: string }> {
    const r = await request(admin + path);
    return { status: r.statusCode, body: await r.body.text(), type: String(r.headers['content-type']) };
  }

  function statValue(text: string, name: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${name}: `));
    assert.ok(line !== undefined, `no stat ${name} in:\n${text}`);
    return Number(line.slice(name.length + 2));
  }

  test('/stats: exact counters per listener, route and cluster', async () => {
    const { status, body } = await get('/stats');
    assert.equal(status, 200);
    const p = 'meta_protocol.dubbo.main.';
    // sofa's consumer may send heartbeats; requests are counted apart from them.
    assert.equal(statValue(body, `${p}request`), 16);
    assert.equal(statValue(body, `${p}request_twoway`), 16);
    assert.equal(statValue(body, `${p}response`), 12);
    assert.equal(statValue(body, `${p}response_success`), 10);
    assert.equal(statValue(body, `${p}response_business_exception`), 2);
    assert.equal(statValue(body, `${p}local_response_business_exception`), 4);
    assert.equal(statValue(body, `${p}request_timeout`), 1);
    assert.equal(statValue(body, `${p}route_not_found`), 3);
    assert.equal(statValue(body, `${p}no_healthy_upstream`), 0);
    assert.equal(statValue(body, `${p}upstream_reset`), 0);
    assert.equal(statValue(body, `${p}request_active`), 0);
    assert.equal(statValue(body, `${p}request_decoding_error`), 0);
    assert.ok(statValue(body, `${p}downstream_cx_rx_bytes_total`) > 0);
    assert.equal(statValue(body, `${p}route.demo.requests`), 12);
    assert.equal(statValue(body, `${p}route.slow.requests`), 1);
    assert.equal(statValue(body, 'cluster.demo.upstream_rq_total'), 13);
    assert.equal(statValue(body, 'cluster.demo.upstream_rq_completed'), 12);
    assert.equal(statValue(body, 'cluster.demo.upstream_rq_timeout'), 1);
    assert.equal(statValue(body, 'cluster.demo.upstream_rq_active'), 0);
    // Envoy's histogram line: quantiles P0 .. P100, p50/p90/p99/p99.9 among them.
    const hist = body.split('\n').find((l) => l.startsWith(`${p}request_time_ms: `));
    assert.ok(hist !== undefined);
    assert.match(hist, /P50\(nan,[\d.]+\) P75\(nan,[\d.]+\) P90\(nan,[\d.]+\) P95\(nan,[\d.]+\) P99\(nan,[\d.]+\) P99\.5\(nan,[\d.]+\) P99\.9\(nan,[\d.]+\) P100\(nan,[\d.]+\)/);
    const p100 = Number(/P100\(nan,([\d.]+)\)/.exec(hist)![1]);
    assert.ok(p100 >= 190 && p100 < 1000, `the slowest request is the 200 ms timeout, got ${p100}`);
  });

  test('/stats?format=json and ?filter=', async () => {
    const j = JSON.parse((await get('/stats?format=json&filter=^cluster%5C.demo%5C.')).body) as { stats: ({ name: string; value: number } | { histograms: { computed_quantiles: { name: string; count: number }[] } })[] };
    const names = j.stats.flatMap((s) => ('name' in s ? [s.name] : []));
    assert.ok(names.length > 0 && names.every((n) => n.startsWith('cluster.demo.')));
    const h = j.stats.find((s) => 'histograms' in s) as { histograms: { computed_quantiles: { name: string; count: number }[] } };
    assert.deepEqual(h.histograms.computed_quantiles.map((q) => [q.name, q.count]), [['cluster.demo.upstream_rq_time', 12]]);
  });

  test('/stats/prometheus parses, with counts and histogram buckets that add up', async () => {
    const { status, body, type } = await get('/stats/prometheus');
    assert.equal(status, 200);
    assert.match(type, /text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(body);
    const fam = (name: string): PromFamily => {
      const f = families.find((x) => x.name === name);
      assert.ok(f !== undefined, `no family ${name}`);
      return f;
    };
    assert.equal(fam('envoy_meta_protocol_dubbo_main_request').type, 'COUNTER');
    assert.equal(fam('envoy_meta_protocol_dubbo_main_request').metrics[0]!.value, '16');
    assert.equal(fam('envoy_meta_protocol_dubbo_main_request_active').type, 'GAUGE');
    const rq = fam('envoy_cluster_upstream_rq_total').metrics.find((m) => m.labels?.['envoy_cluster_name'] === 'demo');
    assert.equal(rq?.value, '13');
    const t = fam('envoy_meta_protocol_dubbo_main_request_time_ms');
    assert.equal(t.type, 'HISTOGRAM');
    assert.equal(t.metrics[0]!.count, '16');
    const buckets = t.metrics[0]!.buckets!;
    assert.equal(buckets['+Inf'], '16');
    // Cumulative buckets; the 200 ms timeout is above le=100 whatever the machine's load.
    const counts = Object.entries(buckets)
      .sort(([a], [b]) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)))
      .map(([, n]) => Number(n));
    assert.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]!), JSON.stringify(buckets));
    assert.ok(Number(buckets['100']) <= 15, JSON.stringify(buckets));

    // Istio's names and labels: the peer from x-envoy-peer-metadata is the source.
    const total = fam('istio_requests_total');
    const fromPeer = total.metrics.filter((m) => m.labels?.['source_workload'] === 'client');
    assert.equal(fromPeer.reduce((n, m) => n + Number(m.value), 0), 4);
    const l = fromPeer[0]!.labels!;
    assert.equal(l['reporter'], 'destination');
    assert.equal(l['source_workload_namespace'], 'shop');
    assert.equal(l['source_app'], 'client-app');
    assert.equal(l['source_version'], 'v3');
    assert.equal(l['source_canonical_service'], 'client-svc');
    assert.equal(l['source_canonical_revision'], 'v3');
    assert.equal(l['destination_workload'], 'demo');
    assert.equal(l['destination_app'], 'demo');
    assert.equal(l['destination_service'], 'demo.shop.svc.cluster.local');
    assert.equal(l['destination_service_name'], 'demo');
    assert.equal(l['response_code'], '1');
    const unknownPeer = total.metrics.filter((m) => m.labels?.['source_workload'] === 'unknown');
    assert.deepEqual(
      unknownPeer.map((m) => [m.labels!['response_code'], m.value]).sort(),
      [
        ['0', '10'],
        ['1', '2'],
      ],
      'sofa successes are code 0; its business exceptions are code 1',
    );
    // The parser folds labeled histograms into one bucket map (a limit of that library), so
    // the per-series counts are read from the text lines it accepted.
    for (const h of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      assert.equal(fam(h).type, 'HISTOGRAM');
      const counts = body.split('\n').filter((line) => line.startsWith(`${h}_count{`));
      assert.equal(counts.length, 3, `three label sets of ${h}`);
      assert.equal(counts.reduce((n, line) => n + Number(line.slice(line.lastIndexOf(' ') + 1)), 0), 16);
    }
  });

  test('/clusters: hosts with health and per-host request counters', async () => {
    const text = (await get('/clusters')).body;
    const host = `demo::127.0.0.1:${provider.port}::`;
    assert.match(text, new RegExp(`${host}rq_total::13`));
    assert.match(text, new RegExp(`${host}rq_success::12`));
    assert.match(text, new RegExp(`${host}rq_timeout::1`));
    assert.match(text, new RegExp(`${host}rq_active::0`));
    assert.match(text, new RegExp(`${host}health_flags::healthy`));
    const j = JSON.parse((await get('/clusters?format=json')).body) as {
      cluster_statuses: { name: string; host_statuses: { address: { socket_address: { port_value: number } }; stats: { name: string; value: number }[]; health_status: { eds_health_status: string } }[] }[];
    };
    const hs = j.cluster_statuses.find((c) => c.name === 'demo')!.host_statuses[0]!;
    assert.equal(hs.address.socket_address.port_value, provider.port);
    assert.equal(hs.health_status.eds_health_status, 'HEALTHY');
    assert.equal(hs.stats.find((s) => s.name === 'rq_total')?.value, 13);
  });
});

describe('stats_config.stats_matcher.reject_all turns metrics off', () => {
  for (const rejectAll of [true, false]) {
    test(`reject_all: ${rejectAll}`, async () => {
      const boot = bootstrapOf([metaProtocolListener({ routes: [{ name: 'none', match: { interface: 'com.example.Nowhere' }, cluster: 'c' }] })], [staticCluster('c', [1])], undefined, ADMIN) as Record<string, unknown>;
      boot['stats_config'] = { stats_matcher: { reject_all: rejectAll } };
      const proxy = await startMeltemi(boot);
      try {
        const raw = await RawDubboClient.connect(proxy.listenerPort('main'));
        raw.write(dubboRequest({ id: 1 }));
        await raw.until(() => raw.frames.length === 1, 3000, 'a no-route reply');
        raw.close();
        assert.equal(proxy.server.listenerStats('main').request_time_ms.count, rejectAll ? 0 : 1);
        const text = await (await request(`http://127.0.0.1:${proxy.server.adminPort!}/stats`)).body.text();
        if (rejectAll) assert.equal(text.trim(), '');
        else assert.match(text, /^meta_protocol\.dubbo\.main\.route_not_found: 1$/m);
      } finally {
        await proxy.close();
      }
    });
  }
});
