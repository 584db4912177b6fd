/**
 * The protobufjs tRPC peers against each other, directly and through a codec-only
 * multiplexing relay (test/peers/mux-relay.ts): unary with id rewriting (v1 and v0
 * clients, trpc-go- and trpc-cpp-style servers), one-way, and many concurrent streams.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { startMuxRelay } from '../peers/mux-relay.js';
import type { MuxRelay } from '../peers/mux-relay.js';
import { TrpcClient, startTrpcServer } from '../peers/trpc-peer.js';
import type { TrpcServer } from '../peers/trpc-peer.js';

describe('trpc peers', () => {
  let goServer: TrpcServer;
  let cppServer: TrpcServer;
  let goRelay: MuxRelay;
  let cppRelay: MuxRelay;
  // Relay ids jump between 1-byte and 5-byte varints to force header resizing.
  let n = 0;
  const nextId = (): number => (++n % 2 === 0 ? n : 0xf000_0000 + n);

  before(async () => {
    goServer = await startTrpcServer({ name: 'go', batch: 3 });
    cppServer = await startTrpcServer({ name: 'cpp', cppStyle: true });
    goRelay = await startMuxRelay(trpcCodecFactory, goServer.port, nextId);
    cppRelay = await startMuxRelay(trpcCodecFactory, cppServer.port, nextId);
  });
  after(async () => {
    await Promise.all([goRelay.close(), cppRelay.close()]);
    await Promise.all([goServer.close(), cppServer.close()]);
  });

  it('client and server talk directly: unary out of order, one-way, unknown func', async () => {
    const c = await TrpcClient.connect(goServer.port);
    const rs = await c.pipeline(6, { transInfo: { 'trpc-dyeing-key': 'k' } });
    assert.deepEqual(rs.map((r) => r.msg), Array.from({ length: 6 }, (_, i) => `go:m${i}`));
    assert.ok(rs.every((r) => r.transInfo['trpc-dyeing-key'] === 'k' && r.frame.streamId === r.requestId && r.frame.version === 1));
    c.oneway('fire');
    const [nofunc] = await Promise.all([c.call('x', { func: '/a.B/Nope' }), c.call('y'), c.call('z')]);
    assert.equal(nofunc.ret, 12);
    assert.ok(goServer.received.some((r) => r.header['call_type'] === 1));
    c.close();
  });

  it('v1 and v0 clients multiplexed onto one upstream, trpc-go and trpc-cpp style servers', async () => {
    for (const [relay, name] of [[goRelay, 'go'], [cppRelay, 'cpp']] as const) {
      const v1 = await TrpcClient.connect(relay.port);
      const v0 = await TrpcClient.connect(relay.port);
      const [r1, r0] = await Promise.all([v1.pipeline(6, { version: 1 }), v0.pipeline(6, { version: 0 })]);
      assert.deepEqual(r1.map((r) => r.msg), Array.from({ length: 6 }, (_, i) => `${name}:m${i}`));
      assert.deepEqual(r0.map((r) => r.msg), r1.map((r) => r.msg));
      // Each client gets its own fixed-header convention back, whatever the server wrote.
      assert.ok(r1.every((r) => r.frame.version === 1 && r.frame.streamId === r.requestId), `${name} v1`);
      assert.ok(r0.every((r) => r.frame.version === 0 && r.frame.streamId === 0), `${name} v0`);
      assert.ok(r1.every((r) => name === 'cpp' || r.transInfo['x-relayed'] === 'yes'));
      assert.deepEqual([v1.unexpected, v0.unexpected, relay.errors], [[], [], []]);
      v1.close();
      v0.close();
    }
  });

  it('many concurrent streams on one connection: INIT, DATA echo, CLOSE', async () => {
    for (const port of [goServer.port, goRelay.port]) {
      const c = await TrpcClient.connect(port);
      const echoed = await c.runStreams(20, 5);
      assert.equal(echoed.length, 20);
      echoed.forEach((msgs, i) => assert.deepEqual(msgs, Array.from({ length: 5 }, (_, m) => `go:s${100 + i}-m${m}`)));
      assert.deepEqual(c.unexpected, []);
      c.close();
    }
    assert.deepEqual(goRelay.errors, []);
    assert.ok(goServer.closedStreams.length >= 40);
  });
});
