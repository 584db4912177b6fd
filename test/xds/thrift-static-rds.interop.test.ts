/**
 * A static bootstrap listener whose routes come from MetaRDS only (no ADS): the Aeraki
 * inbound/outbound shape without LDS. Real Thrift clients (Debian python3-thrift, one
 * connection each, many calls) keep calling while the route table changes many times:
 * no failed call, one connection per client, and the answers follow the tables.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { staticCluster } from '../helpers/bootstrap.js';
import { ensurePeersBuilt, runPyClients, startServer } from '../interop/peers/thrift/peers.js';
import type { CallResult, RunningPeer } from '../interop/peers/thrift/peers.js';
import { thriftListener } from '../interop/thrift-peers-setup.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import type { XdsMeltemi } from './harness.js';
import { metaRds } from '../../tools/testing/xds-resources.js';

/** The thrift listener of the interop tests, with `rds` to the aeraki-xds cluster instead of inline routes. */
function rdsThriftListener(name: string, routeConfigName: string): object {
  const l = JSON.parse(JSON.stringify(thriftListener(name, [{ name: 'unused', cluster: 'unused' }]))) as {
    filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[];
  };
  const tc = l.filter_chains[0]!.filters[0]!.typed_config;
  delete tc['route_config'];
  tc['rds'] = {
    route_config_name: routeConfigName,
    config_source: { resource_api_version: 'V3', api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'aeraki-xds' } }] } },
  };
  return l;
}

describe('static listener + MetaRDS, Thrift under route changes', () => {
  let a: RunningPeer;
  let b: RunningPeer;
  let cp: TestControlPlane;
  let m: XdsMeltemi;

  before(async () => {
    ensurePeersBuilt();
    a = await startServer({ kind: 'py', transport: 'framed', protocol: 'binary', name: 'a' });
    b = await startServer({ kind: 'node', transport: 'framed', protocol: 'binary', name: 'b' });
    cp = new TestControlPlane('go-control-plane');
    await cp.start();
    cp.set(ROUTE_TYPE, 'r0', [metaRds('echo_9090', [{ name: 'all', cluster: 'a' }])]);
    m = await startXdsMeltemi({
      static_resources: {
        listeners: [rdsThriftListener('thrift', 'echo_9090')],
        clusters: [
          staticCluster('a', [a.port]),
          staticCluster('b', [b.port]),
          { ...staticCluster('aeraki-xds', [cp.port]), http2_protocol_options: {} },
        ],
      },
    });
    await waitFor('routes', () => m.server.routeStats('thrift').length === 1);
  });
  after(async () => {
    await m.close();
    cp.stop();
    await Promise.all([a.close(), b.close()]);
  });

  test('many route changes during the calls: no failure, no reconnect, answers follow the tables', async () => {
    const stats = m.server.listenerStats('thrift');
    const cxBefore = stats.cx_total;
    const CLIENTS = 4;
    const CALLS = 400;
    const calls = Array.from({ length: CALLS }, (_, i) => ['echo', `m${i}`] as ['echo', string]);
    const running = runPyClients({ port: m.server.listenerPort('thrift'), transport: 'framed', protocol: 'binary', calls }, CLIENTS);
    let version = 0;
    let done = false;
    void running.finally(() => (done = true));
    const tables = [{ name: 'all', cluster: 'b' }, { name: 'split', weighted: { a: 50, b: 50 } }, { name: 'all', cluster: 'a' }];
    while (!done && version < 60) {
      const v = `r${++version}`;
      cp.set(ROUTE_TYPE, v, [metaRds('echo_9090', [tables[version % tables.length]!])]);
      await waitFor(`${v} ACK`, () => cp.requestsOf(ROUTE_TYPE).some((r) => (r.request as DiscoveryRequest).version_info === v));
      await new Promise((r) => setTimeout(r, 20));
    }
    const results: CallResult[][] = await running;
    assert.ok(version >= 5, `routes changed during the calls (${version} times)`);
    const flat = results.flat();
    assert.equal(flat.length, CLIENTS * CALLS);
    const failed = flat.filter((r) => !('ok' in r));
    assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 3))}`);
    const from = new Set(flat.map((r) => String((r as { ok: unknown }).ok).split('@')[1]));
    assert.deepEqual([...from].sort(), ['a', 'b'], 'both targets answered as the tables changed');
    assert.equal(stats.cx_total - cxBefore, CLIENTS, 'one connection per client, none reopened');
    // After the last change, everything follows the last table.
    const last = tables[version % tables.length]!;
    const after = await runPyClients({ port: m.server.listenerPort('thrift'), transport: 'framed', protocol: 'binary', calls: calls.slice(0, 20) }, 1);
    const targets = new Set(after.flat().map((r) => String((r as { ok: unknown }).ok).split('@')[1]));
    if ('cluster' in last) assert.deepEqual([...targets], [last.cluster]);
    else assert.equal(targets.size, 2);
  });
});
