/**
 * Issue 19's route test through a real MetaRDS push: a static listener with the global
 * rate-limit filter takes its routes from the test control plane (go-control-plane mode);
 * a pushed route table that sets a metadata key changes the descriptors the filter sends
 * to the rate-limit service (tools/testing/ratelimit/rls-service.ts, counting in a real
 * redis-server), with no reconnect of the client, no listener restart and one connection
 * to the service throughout. In the `redis` suite: it needs the Debian package redis-server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeRlsChannels } from '../../filters/ratelimit/index.js';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { startRedisServer } from '../../tools/testing/ratelimit/redis-server.js';
import type { RedisServer } from '../../tools/testing/ratelimit/redis-server.js';
import { startRlsService } from '../../tools/testing/ratelimit/rls-service.js';
import type { RlsService } from '../../tools/testing/ratelimit/rls-service.js';
import { countingForwarder, rateLimitBootstrap } from '../peers/ratelimit/setup.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { metaRds } from '../../tools/testing/xds-resources.js';

const OK = 20;
const OVER_LIMIT = 100;
const RL = 'meta_protocol.dubbo.rds.ratelimit.';
const ROUTES = 'dubbo_rl_20880';

type Doc = { static_resources: { listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[]; clusters: object[] } };

/** The rate-limit bootstrap of the interop tests, with its routes from MetaRDS (the aeraki-xds cluster) instead of inline. */
function rdsRateLimitBootstrap(upstreamPort: number, rlsPort: number, cpPort: number): object {
  const doc = rateLimitBootstrap(upstreamPort, rlsPort, {
    statPrefix: 'rds',
    timeout: '1s',
    descriptors: [
      { property: 'interface', descriptorKey: 'service' },
      { property: 'method', descriptorKey: 'method' },
      { property: 'tenant', descriptorKey: 'tenant' },
    ],
  }) as Doc;
  const tc = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
  delete tc['route_config'];
  tc['rds'] = {
    route_config_name: ROUTES,
    config_source: { resource_api_version: 'V3', api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'aeraki-xds' } }] } },
  };
  doc.static_resources.clusters.push({ ...staticCluster('aeraki-xds', [cpPort]), http2_protocol_options: {} });
  return doc;
}

describe('global rate limit: descriptors follow a MetaRDS route push', () => {
  let redis: RedisServer;
  let provider: Provider;
  let rls: RlsService;
  let cp: TestControlPlane;
  let m: XdsMeltemi;
  let fwd: Awaited<ReturnType<typeof countingForwarder>>;

  before(async () => {
    redis = await startRedisServer();
    provider = await startSofaProvider({ name: 'rl-rds' });
    rls = await startRlsService(redis.port, 'production', [{ key: 'tenant', value: 'gold', requestsPerUnit: 2, unit: 'minute' }]);
    // The proxy reaches the service through a forwarder that counts its TCP connections.
    fwd = await countingForwarder(rls.port);
    cp = new TestControlPlane('go-control-plane');
    await cp.start();
    cp.set(ROUTE_TYPE, 'r1', [metaRds(ROUTES, [{ name: 'all', cluster: 'demo' }])]);
    m = await startXdsMeltemi(rdsRateLimitBootstrap(provider.port, fwd.port, cp.port));
    await waitFor('first route table', () => m.server.routeStats('main').length === 1);
  });
  after(async () => {
    await m?.close();
    closeRlsChannels();
    cp?.stop();
    await fwd?.close();
    await rls?.close();
    await provider?.close();
    await redis?.kill();
  });

  test('a pushed route that sets tenant=gold changes the descriptors; no reconnect anywhere', async () => {
    const acked = (v: string): boolean => cp.requestsOf(ROUTE_TYPE).some((r) => (r.request as DiscoveryRequest).version_info === v && (r.request as DiscoveryRequest).error_detail == null);
    const raw = await RawDubboClient.connect(m.server.listenerPort('main'));
    try {
      const call = async (id: number): Promise<number> => {
        raw.write(dubboRequest({ id, attachments: { tenant: 'silver' } }));
        await raw.until(() => raw.frames.length >= id, 3000, `answer ${id}`);
        return raw.frames[id - 1]!.status;
      };
      for (let i = 1; i <= 3; i++) assert.equal(await call(i), OK, 'silver has no limit');
      assert.deepEqual(rls.seen[0]!.descriptors, [
        [{ key: 'service', value: 'com.example.DemoService' }],
        [{ key: 'method', value: 'sayHello' }],
        [{ key: 'tenant', value: 'silver' }],
      ]);
      const cxBefore = m.server.listenerStats('main').cx_total;
      const listenerUpdates = m.dynamic.applier.listenerUpdates;
      // The control plane pushes a table whose route sets tenant=gold (Aeraki: request_headers_to_add).
      cp.set(ROUTE_TYPE, 'r2', [metaRds(ROUTES, [{ name: 'gold', cluster: 'demo', requestMutation: { tenant: 'gold' } }])]);
      await waitFor('r2 ACK', () => acked('r2'));
      await waitFor('r2 applied', () => m.server.routeStats('main').some((r) => r.name === 'gold'));
      assert.deepEqual([await call(4), await call(5), await call(6)], [OK, OK, OVER_LIMIT], 'gold is limited to 2 a minute');
      assert.deepEqual(rls.seen[3]!.descriptors[2], [{ key: 'tenant', value: 'gold' }]);
      assert.deepEqual(rls.seen[5]!.descriptors[2], [{ key: 'tenant', value: 'gold' }]);
      // And back: the next push drops the mutation, the client's own tenant is sent again.
      cp.set(ROUTE_TYPE, 'r3', [metaRds(ROUTES, [{ name: 'all', cluster: 'demo' }])]);
      await waitFor('r3 ACK', () => acked('r3'));
      await waitFor('r3 applied', () => m.server.routeStats('main').some((r) => r.name === 'all'));
      assert.equal(await call(7), OK);
      assert.deepEqual(rls.seen[6]!.descriptors[2], [{ key: 'tenant', value: 'silver' }]);
      assert.equal(raw.closed, false, 'the client connection stayed open');
      assert.equal(m.server.listenerStats('main').cx_total, cxBefore, 'no new client connection');
      assert.equal(m.dynamic.applier.listenerUpdates, listenerUpdates, 'the listener was never restarted');
      assert.equal(fwd.accepted(), 1, 'one connection to the rate-limit service for all seven calls');
      const c = m.server.statsSnapshot().counters;
      assert.equal(c[`${RL}total`], 7);
      assert.equal(c[`${RL}rls_calls`], 7);
      assert.equal(c[`${RL}over_limit`], 1);
    } finally {
      raw.close();
    }
  });
});
