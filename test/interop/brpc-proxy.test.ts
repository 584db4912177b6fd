/**
 * bRPC through Meltemi: protobufjs peers (test/peers/brpc-peer.ts) on both sides, routing on
 * service/method and user_fields, 64-bit correlation ids rewritten and restored, replies out
 * of order, and the proxy's own error reply for an unrouted request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { registerCodec } from '../../proxy/codec-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { BrpcClient, startBrpcServer } from '../peers/brpc-peer.js';
import type { BrpcServer } from '../peers/brpc-peer.js';

describe('bRPC through the proxy', () => {
  let echo: BrpcServer;
  let canary: BrpcServer;
  let other: BrpcServer;
  let proxy: RunningMeltemi;
  let port: number;

  before(async () => {
    // Registered here until the proxy's codec registry lists bRPC as a built-in.
    registerCodec(brpcCodecFactory);
    echo = await startBrpcServer({ name: 'echo', batch: 4 });
    canary = await startBrpcServer({ name: 'canary' });
    other = await startBrpcServer({ name: 'other', methods: ['Echo', 'Other'] });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            codec: brpcCodecFactory.name,
            protocol: 'brpc',
            routes: [
              { name: 'canary', match: { 'x-lane': 'canary' }, cluster: 'canary' },
              { name: 'other', match: { service: 'example.OtherService' }, cluster: 'other' },
              { name: 'echo', match: { service: 'example.EchoService', method: 'Echo' }, cluster: 'echo' },
            ],
          }),
        ],
        [staticCluster('echo', [echo.port]), staticCluster('canary', [canary.port]), staticCluster('other', [other.port])],
      ),
    );
    port = proxy.listenerPort('main');
  });
  after(async () => {
    await proxy.close();
    await Promise.all([echo.close(), canary.close(), other.close()]);
  });

  test('routes on service/method and on user_fields', async () => {
    const c = await BrpcClient.connect(port);
    try {
      const [lane, svc] = await Promise.all([
        c.call('a', { userFields: { 'X-Lane': 'canary' } }),
        c.call('b', { service: 'example.OtherService', method: 'Other' }),
      ]);
      assert.equal(lane.message, 'canary:a');
      assert.equal(svc.message, 'other:b');
    } finally {
      c.close();
    }
  });

  test('pipelined 64-bit ids from two clients, answered out of order, come back to their callers', async () => {
    const a = await BrpcClient.connect(port);
    const b = await BrpcClient.connect(port);
    try {
      const [ra, rb] = await Promise.all([a.pipeline(8, { userFields: { who: 'a' } }), b.pipeline(8, { userFields: { who: 'b' } })]);
      for (const [rs, who] of [[ra, 'a'], [rb, 'b']] as const) {
        assert.deepEqual(rs.map((r) => r.message), Array.from({ length: 8 }, (_, i) => `echo:m${i}`));
        assert.ok(rs.every((r) => r.userFields['who'] === who && r.correlationId > 0xffff_ffffn));
      }
      assert.deepEqual([a.unexpected, b.unexpected], [[], []]);
      // The upstream saw the proxy's ids, not the clients' 64-bit ones.
      const ids = echo.received.map((f) => BigInt(f.meta.correlation_id ?? '0'));
      assert.ok(ids.every((id) => id < 0xffff_ffffn));
    } finally {
      a.close();
      b.close();
    }
  });

  test('no route: the client gets ENOMETHOD with its own correlation id', async () => {
    const c = await BrpcClient.connect(port);
    try {
      const r = await c.call('x', { service: 'example.NoSuchService', correlationId: (1n << 63n) + 7n });
      assert.equal(r.errorCode, 1002);
      assert.equal(r.correlationId, (1n << 63n) + 7n);
      assert.equal(r.message, '');
    } finally {
      c.close();
    }
  });
});
