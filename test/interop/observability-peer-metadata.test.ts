/**
 * Two Meltemi sidecars, as Istio + Aeraki pair them: the client's (OUTBOUND) and the
 * server's (INBOUND) proxies exchange node metadata (metadata_exchange) and each reports
 * istio_requests_total with the other side's workload labels. Real sofa-rpc-node peers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';

function sidecar(direction: 'INBOUND' | 'OUTBOUND', cluster: string, upstreamPort: number, node: { id: string; workload: string; app: string }): object {
  const boot = bootstrapOf(
    [
      metaProtocolListener({
        routes: [{ name: 'all', cluster }],
        extra: {
          meta_protocol_filters: [
            { name: 'aeraki.meta_protocol.filters.metadata_exchange' },
            { name: 'aeraki.meta_protocol.filters.istio_stats', ...(direction === 'INBOUND' ? { config: { destination_service: 'demo.shop.svc.cluster.local' } } : {}) },
            { name: 'aeraki.meta_protocol.filters.router' },
          ],
        },
      }),
    ],
    [staticCluster(cluster, [upstreamPort])],
  ) as Record<string, unknown>;
  (boot['static_resources'] as { listeners: Record<string, unknown>[] }).listeners[0]!['traffic_direction'] = direction;
  boot['node'] = { id: node.id, metadata: { NAMESPACE: 'shop', WORKLOAD_NAME: node.workload, CLUSTER_ID: 'Kubernetes', LABELS: { app: node.app, version: 'v1' }, ISTIO_VERSION: '1.20.0' } };
  return boot;
}

describe('metadata exchange between two sidecars', () => {
  let provider: Provider;
  let server: RunningMeltemi;
  let client: RunningMeltemi;
  let consumer: Consumer;

  before(async () => {
    provider = await startSofaProvider({ name: 'p' });
    server = await startMeltemi(sidecar('INBOUND', 'inbound|20880||', provider.port, { id: 'sidecar~10.0.0.2~server-1.shop~shop.svc.cluster.local', workload: 'server', app: 'server-app' }));
    client = await startMeltemi(
      sidecar('OUTBOUND', 'outbound|20880||demo.shop.svc.cluster.local', server.listenerPort('main'), { id: 'sidecar~10.0.0.1~client-1.shop~shop.svc.cluster.local', workload: 'client', app: 'client-app' }),
    );
    consumer = await createSofaConsumer(`127.0.0.1:${client.listenerPort('main')}`);
    for (let i = 0; i < 3; i++) assert.equal(await consumer.invoke('sayHello', [java.String('m')]), 'hello m from p');
  });

  after(async () => {
    await consumer.close();
    await client.close();
    await server.close();
    await provider.close();
  });

  const series = (r: RunningMeltemi): [string, number][] => Object.entries(r.server.statsSnapshot().counters).filter(([k]) => k.startsWith('istio_requests_total{'));

  test("the server's proxy reports the client's workload as the source", () => {
    const s = series(server);
    assert.equal(s.length, 1, JSON.stringify(s));
    const [key, n] = s[0]!;
    assert.equal(n, 3);
    assert.match(key, /reporter="destination"/);
    assert.match(key, /source_workload="client"/);
    assert.match(key, /source_app="client-app"/);
    assert.match(key, /destination_workload="server"/);
    assert.match(key, /destination_service="demo\.shop\.svc\.cluster\.local"/);
    assert.match(key, /response_code="0"/);
  });

  // The server's side of the exchange (peer metadata in the response) needs a codec that
  // reads response attachments; the Dubbo codec exposes none yet, so the client's proxy
  // knows the destination by its cluster name only.
  test("the client's proxy reports itself as the source and the service from the cluster name", () => {
    const s = series(client);
    assert.equal(s.length, 1, JSON.stringify(s));
    const [key, n] = s[0]!;
    assert.equal(n, 3);
    assert.match(key, /reporter="source"/);
    assert.match(key, /source_workload="client"/);
    assert.match(key, /source_app="client-app"/);
    // OUTBOUND: the service is what follows the last '|' of the cluster name.
    assert.match(key, /destination_service="demo\.shop\.svc\.cluster\.local"/);
    assert.match(key, /destination_service_name="demo"/);
  });
});
