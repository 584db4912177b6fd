/**
 * Drain of a protocol without a go-away frame (bRPC, issue 13 defect 6): reading stops at
 * once, every request the proxy read is answered, each connection closes as soon as it has
 * nothing in flight, and the drain ends long before its timeout.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { registerCodec } from '../../proxy/codec-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import { BrpcClient, startBrpcServer } from '../peers/brpc-peer.js';
import type { BrpcServer } from '../peers/brpc-peer.js';

let server: BrpcServer;
before(async () => {
  registerCodec(brpcCodecFactory);
  server = await startBrpcServer({ name: 'echo' });
});
after(async () => {
  await server.close();
});

test('bRPC under load: drain answers every request it read and closes each connection once idle', async () => {
  const proxy = await startMeltemi(
    bootstrapOf(
      [metaProtocolListener({ codec: brpcCodecFactory.name, protocol: 'brpc', routes: [{ name: 'echo', cluster: 'echo' }] })],
      [staticCluster('echo', [server.port])],
      { drain_timeout: '5s' },
    ),
  );
  const port = proxy.listenerPort('main');
  let running = true;
  let answered = 0;
  let sent = 0;
  const clients = await Promise.all(Array.from({ length: 6 }, () => BrpcClient.connect(port)));
  const loops = clients.map(async (c) => {
    let closed = false;
    void c.closed.then(() => (closed = true));
    // Each reply counts when it comes: a drain can stop reading between the two requests
    // of a pair, and then only the first is answered (the second was never taken).
    const one = (m: string): Promise<void> =>
      c.call(m).then((x) => {
        if (x.errorCode === 0) answered++;
      });
    while (running && !closed) {
      sent += 2;
      const more = await Promise.race([Promise.all([one('a'), one('b')]).then(() => true), c.closed.then(() => false)]);
      if (!more) break;
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(answered > 50, `load is running (${answered})`);
  const t0 = performance.now();
  await proxy.server.drain();
  const drainMs = performance.now() - t0;
  running = false;
  await Promise.all(loops);
  assert.equal(server.received.length, answered, `every request the proxy forwarded was answered (sent ${sent})`);
  assert.ok(drainMs < 2000, `drained in ${drainMs.toFixed(0)} ms with a 5 s timeout`);
  const stats = proxy.server.listenerStats('main');
  assert.equal(stats.cx_destroy_with_active_rq, 0);
  assert.equal(stats.downstream_cx_drain_close, 6, 'the proxy closed each connection once idle');
});
