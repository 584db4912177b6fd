/**
 * tRPC through Meltemi: protobufjs peers (test/peers/trpc-peer.ts) on both sides, routing on
 * func/callee and trans_info, ids rewritten and restored for v1 (trpc-go) and v0 (trpc-cpp)
 * clients, replies out of order, and the proxy's own error reply for an unrouted request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { registerCodec } from '../../proxy/codec-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { TrpcClient, startTrpcServer } from '../peers/trpc-peer.js';
import type { TrpcServer } from '../peers/trpc-peer.js';

describe('tRPC through the proxy', () => {
  let greeter: TrpcServer;
  let dyed: TrpcServer;
  let cpp: TrpcServer;
  let proxy: RunningMeltemi;
  let port: number;

  before(async () => {
    // Registered here until the proxy's codec registry lists tRPC as a built-in.
    registerCodec(trpcCodecFactory);
    greeter = await startTrpcServer({ name: 'greeter', batch: 3 });
    dyed = await startTrpcServer({ name: 'dyed' });
    cpp = await startTrpcServer({ name: 'cpp', cppStyle: true });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            codec: trpcCodecFactory.name,
            protocol: 'trpc',
            routes: [
              { name: 'dyed', match: { 'trpc-dyeing-key': 'blue' }, cluster: 'dyed' },
              { name: 'cpp', match: { callee: 'trpc.test.cpp.Greeter' }, cluster: 'cpp' },
              { name: 'greeter', match: { func: '/trpc.test.helloworld.Greeter/SayHello' }, cluster: 'greeter' },
            ],
          }),
        ],
        [staticCluster('greeter', [greeter.port]), staticCluster('dyed', [dyed.port]), staticCluster('cpp', [cpp.port])],
      ),
    );
    port = proxy.listenerPort('main');
  });
  after(async () => {
    await proxy.close();
    await Promise.all([greeter.close(), dyed.close(), cpp.close()]);
  });

  test('routes on func, callee and trans_info', async () => {
    const c = await TrpcClient.connect(port);
    try {
      const [dye, viaCpp] = await Promise.all([
        c.call('a', { transInfo: { 'trpc-dyeing-key': 'blue' } }),
        c.call('b', { callee: 'trpc.test.cpp.Greeter', func: '/trpc.test.cpp.Greeter/SayHello' }),
      ]);
      assert.equal(dye.msg, 'dyed:a');
      assert.equal(viaCpp.msg, 'cpp:b');
      assert.deepEqual([viaCpp.frame.version, viaCpp.frame.streamId], [1, viaCpp.requestId], 'v1 header restored over a v0 server');
    } finally {
      c.close();
    }
  });

  test('v1 and v0 clients pipelining, answered out of order, get their own ids and header style back', async () => {
    const v1 = await TrpcClient.connect(port);
    const v0 = await TrpcClient.connect(port);
    try {
      const [r1, r0] = await Promise.all([v1.pipeline(6, { version: 1 }), v0.pipeline(6, { version: 0 })]);
      assert.deepEqual(r1.map((r) => r.msg), Array.from({ length: 6 }, (_, i) => `greeter:m${i}`));
      assert.deepEqual(r0.map((r) => r.msg), r1.map((r) => r.msg));
      assert.ok(r1.every((r) => r.frame.version === 1 && r.frame.streamId === r.requestId));
      assert.ok(r0.every((r) => r.frame.version === 0 && r.frame.streamId === 0));
      assert.deepEqual([v1.unexpected, v0.unexpected], [[], []]);
    } finally {
      v1.close();
      v0.close();
    }
  });

  test('no route: ret 11 with the client id', async () => {
    const c = await TrpcClient.connect(port);
    try {
      const r = await c.call('x', { func: '/trpc.test.nowhere.Svc/Nope', callee: 'trpc.test.nowhere.Svc', requestId: 4_000_000_000 });
      assert.equal(r.ret, 11);
      assert.equal(r.requestId, 4_000_000_000);
      assert.deepEqual([r.frame.version, r.frame.streamId], [1, 4_000_000_000]);
    } finally {
      c.close();
    }
  });
});
