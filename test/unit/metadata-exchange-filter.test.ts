/**
 * metadata_exchange as a filter of its own (no hook in the runtime's observability): it reads
 * the node and direction from its FilterContext and stamps the request (outbound) or the
 * response (inbound) with what a peer's istio_stats decodes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FilterStatus } from '../../filters/api/index.js';
import type { FilterExchange } from '../../filters/api/index.js';
import { decodePeerMetadata, encodePeerMetadata } from '../../filters/istio-stats/index.js';
import { metadataExchangeFilterFactory, PEER_METADATA_ID_KEY, PEER_METADATA_KEY } from '../../filters/metadata-exchange/index.js';
import { ListenerFilterContext } from '../../proxy/observability/filter-context.js';
import { StatsRegistry } from '../../proxy/observability/stats-registry.js';

const node = {
  id: 'sidecar~10.0.0.7~client-1.shop~shop.svc.cluster.local',
  metadata: { NAME: 'client-1', NAMESPACE: 'shop', WORKLOAD_NAME: 'client', LABELS: { app: 'client-app', version: 'v3' }, NOT_FLAT: 'dropped', INSTANCE_IPS: '10.0.0.7' },
};

function stamped(direction: 'inbound' | 'outbound' | 'unspecified'): { request: Map<string, string>; response: Map<string, string> } {
  const ctx = new ListenerFilterContext('meta_protocol.dubbo.x.', direction);
  const make = metadataExchangeFilterFactory.create(undefined, ctx);
  ctx.bind({ stats: new StatsRegistry(), statsEnabled: true, node });
  const request = new Map<string, string>();
  const response = new Map<string, string>();
  const ex = { setRequestHeader: (k: string, v: string) => request.set(k, v), setResponseHeader: (k: string, v: string) => response.set(k, v) } as unknown as FilterExchange;
  assert.equal(make().onRequest(ex), FilterStatus.Continue);
  return { request, response };
}

test('outbound: the request carries this node; inbound and unspecified: the response does', () => {
  const out = stamped('outbound');
  assert.equal(out.response.size, 0);
  assert.equal(out.request.get(PEER_METADATA_ID_KEY), node.id);
  assert.deepEqual(decodePeerMetadata(out.request.get(PEER_METADATA_KEY)), {
    NAME: 'client-1',
    NAMESPACE: 'shop',
    WORKLOAD_NAME: 'client',
    LABELS: { app: 'client-app', version: 'v3' },
    INSTANCE_IPS: '10.0.0.7',
  });
  for (const d of ['inbound', 'unspecified'] as const) {
    const r = stamped(d);
    assert.equal(r.request.size, 0, d);
    assert.equal(r.response.get(PEER_METADATA_ID_KEY), node.id, d);
  }
});

test("the header is byte for byte what istio_stats' encoder writes for the same fields", () => {
  const { NOT_FLAT: _dropped, ...flat } = node.metadata;
  assert.equal(stamped('outbound').request.get(PEER_METADATA_KEY), encodePeerMetadata(flat));
});

test('a config with settings is refused', () => {
  assert.throws(() => metadataExchangeFilterFactory.create({ mode: 'x' }, new ListenerFilterContext('p.', 'inbound')), /takes no settings \(got mode\)/);
});
