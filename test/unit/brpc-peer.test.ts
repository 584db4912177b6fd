/**
 * The protobufjs bRPC peers against each other, directly and through a codec-only
 * multiplexing relay (test/peers/mux-relay.ts) that rewrites 64-bit ids the way the proxy
 * will: real sockets, pipelining, out-of-order replies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { BrpcClient, startBrpcServer } from '../peers/brpc-peer.js';
import type { BrpcServer } from '../peers/brpc-peer.js';
import { startMuxRelay } from '../peers/mux-relay.js';
import type { MuxRelay } from '../peers/mux-relay.js';

describe('brpc peers', () => {
  let server: BrpcServer;
  let relay: MuxRelay;
  // Upstream ids alternate between 1-byte and 10-byte varints to force meta resizing.
  let n = 0n;
  const nextId = (): bigint => (n++ % 2n === 0n ? n : (1n << 63n) + n);

  before(async () => {
    server = await startBrpcServer({ name: 'alpha', batch: 4 });
    relay = await startMuxRelay(brpcCodecFactory, server.port, nextId);
  });
  after(async () => {
    await relay.close();
    await server.close();
  });

  it('client and server talk directly; replies come back out of order', async () => {
    const c = await BrpcClient.connect(server.port);
    const results = await c.pipeline(8, { userFields: { 'x-tenant': 't1' }, attachment: Buffer.from('ATT') });
    assert.deepEqual(results.map((r) => r.message), Array.from({ length: 8 }, (_, i) => `alpha:m${i}`));
    assert.ok(results.every((r) => r.correlationId > 0xffff_ffffn && r.userFields['x-tenant'] === 't1' && r.attachment.toString() === 'ATT'));
    assert.deepEqual(c.unexpected, []);
    c.close();
  });

  it('two clients multiplexed on one upstream connection with rewritten 64-bit ids', async () => {
    const a = await BrpcClient.connect(relay.port);
    const b = await BrpcClient.connect(relay.port);
    const [ra, rb] = await Promise.all([a.pipeline(6, { userFields: { who: 'a' } }), b.pipeline(6, { userFields: { who: 'b' } })]);
    for (const [rs, who] of [[ra, 'a'], [rb, 'b']] as const) {
      assert.deepEqual(rs.map((r) => r.message), Array.from({ length: 6 }, (_, i) => `alpha:m${i}`));
      assert.ok(rs.every((r) => r.userFields['who'] === who && r.userFields['x-relayed'] === 'yes'));
    }
    // The server answers in batches of 4: send the unknown method with three more calls.
    const [unknown] = await Promise.all([a.call('x', { method: 'Nope', correlationId: (1n << 62n) + 1n }), a.call('1'), b.call('2'), b.call('3')]);
    assert.equal(unknown.errorCode, 1002);
    assert.equal(unknown.correlationId, (1n << 62n) + 1n);
    assert.deepEqual([a.unexpected, b.unexpected, relay.errors], [[], [], []]);
    // The server saw relay ids, never the clients'.
    const seen = new Set(server.received.slice(-16).map((f) => f.meta.correlation_id));
    assert.ok(!seen.has(((1n << 62n) + 1n).toString()));
    a.close();
    b.close();
  });
});
