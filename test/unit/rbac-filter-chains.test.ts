/**
 * Network RBAC on a listener with several filter chains: the `envoy.filters.network.rbac`
 * filters belong to the MetaProtocol chain they precede, and a connection is checked by the
 * filters of the chain selected for it (filter-chain-match.ts), not by another chain's. The
 * ConnectionInfo the RBAC reads names the original destination as the local address when
 * one was recovered (interception).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { connectionInfoOf } from '../../proxy/downstream/connection-info.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { freshPrefix } from '../helpers/rbac.js';
import { RawDubboClient } from '../helpers/raw-client.js';

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const ANY = [{ any: true }];

/** A listener with two MetaProtocol chains: connections from 127.0.0.2 take the guarded one (a DENY-all RBAC in front). */
function twoChainListener(denyPrefix: string): object {
  const l = metaProtocolListener({ name: 'chains', routes: [{ name: 'all', cluster: 'echo' }] }) as { filter_chains: { filters: object[] }[] };
  const open = l.filter_chains[0]!;
  const guarded = {
    name: 'guarded',
    filter_chain_match: { source_prefix_ranges: [{ address_prefix: '127.0.0.2', prefix_len: 32 }] },
    filters: [
      { name: 'envoy.filters.network.rbac', typed_config: { '@type': RBAC_TYPE, stat_prefix: denyPrefix, rules: { action: 'DENY', policies: { all: { permissions: ANY, principals: ANY } } } } },
      ...open.filters,
    ],
  };
  return { ...l, filter_chains: [guarded, { name: 'open', ...open }] };
}

async function oneCall(port: number, from: string): Promise<{ statuses: number[]; closed: boolean }> {
  const c = await RawDubboClient.connect(port, from);
  c.write(dubboRequest({ id: 7 }));
  await c.until(() => c.closed || c.frames.length > 0, 3000, 'a reply or a close');
  const out = { statuses: c.frames.map((f) => f.status), closed: c.closed };
  c.close();
  return out;
}

describe('network RBAC per filter chain', () => {
  test('each MetaProtocol chain has its own RBAC filters and filter context', () => {
    const cfg = compileBootstrap(bootstrapOf([twoChainListener(freshPrefix())], [staticCluster('echo', [1])]));
    const l = cfg.listeners[0]!;
    assert.deepEqual(
      l.chains.map((c) => `${c.name}:${c.kind}`),
      ['guarded:meta', 'open:meta'],
    );
    assert.equal(l.metaChains[0]!.networkRbac.length, 1);
    assert.equal(l.metaChains[1]!.networkRbac.length, 0);
    assert.notEqual(l.metaChains[0]!.filterContext, l.metaChains[1]!.filterContext);
  });

  describe('served', () => {
    let upstream: FaultUpstream;
    let proxy: RunningMeltemi;
    const denyPrefix = freshPrefix();

    before(async () => {
      upstream = await startFaultUpstream('echo');
      proxy = await startMeltemi(bootstrapOf([twoChainListener(denyPrefix)], [staticCluster('echo', [upstream.port])]));
    });
    after(async () => {
      await proxy.close();
      await upstream.close();
    });

    test('the chain selected for the connection decides: the guarded one closes, the open one serves', async () => {
      const port = proxy.listenerPort('chains');
      const denied = await oneCall(port, '127.0.0.2');
      assert.deepEqual([denied.statuses, denied.closed], [[], true]);
      const served = await oneCall(port, '127.0.0.1');
      assert.deepEqual(served.statuses, [20]);
      const counters = proxy.server.statsSnapshot().counters;
      assert.equal(counters[`${denyPrefix}rbac.denied`], 1);
      assert.equal(counters[`${denyPrefix}rbac.allowed`] ?? 0, 0, 'the open chain never ran the guarded chain\u2019s RBAC');
      assert.equal(upstream.received.length, 1, 'only the open chain forwarded');
    });
  });
});

test('ConnectionInfo: the recovered original destination is the local address', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const socket = await accepted;
  try {
    const plain = connectionInfoOf(socket);
    assert.equal(plain.localPort, (server.address() as net.AddressInfo).port);
    const intercepted = connectionInfoOf(socket, undefined, { address: '10.1.2.3', port: 20880 });
    assert.deepEqual([intercepted.localAddress, intercepted.localPort], ['10.1.2.3', 20880]);
    assert.equal(intercepted.remoteAddress, '127.0.0.1');
  } finally {
    client.destroy();
    socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
