/**
 * `meltemi.filters.rbac`: RBAC per request on MetaProtocol metadata. A denied call gets its
 * protocol's own error reply at once (Dubbo SERVICE_ERROR with the text, Thrift
 * TApplicationException, bRPC ERPCAUTH, tRPC SERVER_AUTH_ERR) and is counted; the connection
 * stays open; shadow rules only count. Real Dubbo peers (sofa-rpc-node); the repository's raw
 * Thrift client and protobufjs bRPC/tRPC clients for the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest, hessianDecode } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { T_EXCEPTION, ThriftRawClient } from '../helpers/thrift-raw-client.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { BrpcClient } from '../peers/brpc-peer.js';
import { TrpcClient } from '../peers/trpc-peer.js';

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const ANY = [{ any: true }];

function rbac(config: object): object {
  return { name: 'meltemi.filters.rbac', config: { '@type': RBAC_TYPE, ...config } };
}

function withFilters(filters: object[]): Record<string, unknown> {
  return { meta_protocol_filters: [...filters, { name: 'aeraki.meta_protocol.filters.router' }] };
}

/** One ALLOW policy: requests whose metadata `key` is `value`, from anyone. */
function allowOnly(statPrefix: string, key: string, value: string): object {
  return rbac({ stat_prefix: statPrefix, rules: { policies: { [`${key}-${value}`]: { permissions: [{ metadata: { name: key, exact_match: value } }], principals: ANY } } } });
}

describe('meltemi.filters.rbac with Dubbo', () => {
  let provider: Provider;
  let proxy: RunningMeltemi;

  before(async () => {
    provider = await startSofaProvider({ name: 'rbac' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [{ name: 'all', cluster: 'demo' }],
            extra: withFilters([
              rbac({
                stat_prefix: 'dubbo_rbac',
                rules: {
                  policies: {
                    // Everyone may call plus; sayHello only from 127.0.0.5 (Envoy's `header` spelling works too).
                    'plus-for-all': { permissions: [{ metadata: { name: 'method', exact_match: 'plus' } }], principals: ANY },
                    'hello-from-5': { permissions: [{ header: { name: 'Method', exact_match: 'sayHello' } }], principals: [{ remote_ip: { address_prefix: '127.0.0.5' } }] },
                  },
                },
                shadow_rules_stat_prefix: 'dry_',
                shadow_rules: { action: 'DENY', policies: { 'no-plus': { permissions: [{ metadata: { name: 'method', exact_match: 'plus' } }], principals: ANY } } },
              }),
            ]),
          }),
        ],
        [staticCluster('demo', [provider.port])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await provider.close();
  });

  const counter = (name: string): number => proxy.server.statsSnapshot().counters[`meta_protocol.dubbo.main.dubbo_rbac.rbac.${name}`] ?? 0;

  test('a real consumer: the allowed method is served, the denied one fails at once with the RBAC text', async () => {
    const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
    try {
      assert.equal(await c.invoke('plus', [java.int(1), java.int(2)]), 3);
      const t0 = performance.now();
      await assert.rejects(c.invoke('sayHello', [java.String('x')]), /RBAC: access denied/);
      assert.ok(performance.now() - t0 < 1000, 'answered at once, not timed out');
      assert.equal(await c.invoke('plus', [java.int(2), java.int(2)]), 4, 'the connection still serves');
    } finally {
      await c.close();
    }
  });

  test('the denial is a SERVICE_ERROR (70) reply with the text; by source IP the same method passes', async () => {
    const calls = provider.calls.filter((c) => c.method === 'sayHello').length;
    const denied = counter('denied');
    const from1 = await RawDubboClient.connect(proxy.listenerPort('main'));
    const from5 = await RawDubboClient.connect(proxy.listenerPort('main'), '127.0.0.5');
    try {
      from1.write(dubboRequest({ id: 41, method: 'sayHello' }));
      from5.write(dubboRequest({ id: 42, method: 'sayHello' }));
      await from1.until(() => from1.frames.length === 1);
      await from5.until(() => from5.frames.length === 1);
      const [no] = from1.frames;
      assert.equal(no!.status, 70);
      assert.equal(no!.id, 41n);
      assert.equal(hessianDecode(no!.body), 'RBAC: access denied');
      assert.equal(from5.frames[0]!.status, 20);
      assert.equal(from1.closed, false, 'a denied call keeps the connection');
    } finally {
      from1.close();
      from5.close();
    }
    assert.equal(counter('denied'), denied + 1);
    assert.equal(provider.calls.filter((c) => c.method === 'sayHello').length, calls + 1, 'only the allowed call reached the provider');
  });

  test('the shadow DENY of plus counts every plus call and blocks none', async () => {
    const before = counter('dry_shadow_denied');
    const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
    try {
      for (let i = 0; i < 3; i++) assert.equal(await c.invoke('plus', [java.int(i), java.int(1)]), i + 1);
    } finally {
      await c.close();
    }
    assert.equal(counter('dry_shadow_denied'), before + 3);
    assert.ok(counter('dry_shadow_allowed') > 0, 'sayHello calls were judged allowed by the shadow DENY');
  });
});

describe('meltemi.filters.rbac: every built-in protocol answers a denial with its own error', () => {
  let proxy: RunningMeltemi;

  before(async () => {
    // No routes: an allowed call gets the protocol's no-route error, a denied one the
    // unauthorized error, so each pair shows the filter told them apart.
    const listener = (name: string, codec: string, protocol: string, key: string, value: string): object =>
      metaProtocolListener({ name, codec, protocol, routes: [], extra: withFilters([allowOnly(`${name}_rbac`, key, value)]) });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          listener('thrift', 'aeraki.meta_protocol.codec.thrift', 'thrift', 'method', 'allowed'),
          listener('brpc', 'aeraki.meta_protocol.codec.brpc', 'brpc', 'method', 'Allowed'),
          listener('trpc', 'aeraki.meta_protocol.codec.trpc', 'trpc', 'func', '/trpc.test.helloworld.Greeter/Allowed'),
        ],
        [staticCluster('unused', [1])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
  });

  const denied = (l: string, proto: string): number => proxy.server.statsSnapshot().counters[`meta_protocol.${proto}.${l}.${l}_rbac.rbac.denied`] ?? 0;

  test('Thrift: a TApplicationException with the RBAC text, on the request seqid', async () => {
    const c = await ThriftRawClient.connect(proxy.listenerPort('thrift'));
    try {
      const no = await c.call('forbidden', 'x');
      assert.deepEqual([no.type, no.name, no.text], [T_EXCEPTION, 'forbidden', 'RBAC: access denied']);
      const yes = await c.call('allowed', 'x');
      assert.equal(yes.type, T_EXCEPTION);
      assert.notEqual(yes.text, 'RBAC: access denied', 'the allowed call went on to routing');
    } finally {
      c.close();
    }
    assert.equal(denied('thrift', 'thrift'), 1);
  });

  test('bRPC: error_code ERPCAUTH (1004) with the client correlation id', async () => {
    const c = await BrpcClient.connect(proxy.listenerPort('brpc'));
    try {
      const no = await c.call('x', { service: 'example.EchoService', method: 'Echo', correlationId: (1n << 40n) + 3n });
      assert.deepEqual([no.errorCode, no.correlationId, no.errorText], [1004, (1n << 40n) + 3n, 'RBAC: access denied']);
      const yes = await c.call('x', { service: 'example.EchoService', method: 'Allowed' });
      assert.equal(yes.errorCode, 1002, 'allowed, then no route (ENOMETHOD)');
    } finally {
      c.close();
    }
    assert.equal(denied('brpc', 'brpc'), 1);
  });

  test('tRPC: ret SERVER_AUTH_ERR (41) for a call, and for a stream INIT', async () => {
    const c = await TrpcClient.connect(proxy.listenerPort('trpc'));
    try {
      const no = await c.call('x', { func: '/trpc.test.helloworld.Greeter/SayHello', requestId: 77 });
      assert.deepEqual([no.ret, no.requestId, no.errorMsg], [41, 77, 'RBAC: access denied']);
      const yes = await c.call('x', { func: '/trpc.test.helloworld.Greeter/Allowed' });
      assert.equal(yes.ret, 11, 'allowed, then no route (NOSERVICE)');
      const stream = c.openStream({ func: '/trpc.test.helloworld.Greeter/Chat' });
      assert.equal(await stream.ready, 41);
    } finally {
      c.close();
    }
    assert.equal(denied('trpc', 'trpc'), 2);
  });
});
