/**
 * Slow and idle clients (issue 13, defect 5): a frame that does not complete within
 * `meltemi.frame_read_timeout` closes its connection, however slowly its bytes keep coming;
 * `idle_timeout` closes a connection that sent nothing for that long (Aeraki: every read
 * re-arms it). Both run on one sweep per listener, and a good client is served throughout.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let provider: Provider;
before(async () => {
  provider = await startSofaProvider({ name: 'slow-clients' });
});
after(async () => {
  await provider.close();
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

test('200 clients trickling a frame that never completes are closed by frame_read_timeout; a good client is served', async () => {
  const proxy = await startMeltemi(
    bootstrapOf(
      [metaProtocolListener({ routes: [{ name: 'all', cluster: 'p' }], extra: { idle_timeout: '2s' } })],
      [staticCluster('p', [provider.port])],
      { frame_read_timeout: '1s' },
    ),
  );
  try {
    const port = proxy.listenerPort('main');
    // A real request, of which only the first 40 bytes will ever be sent, one every 200 ms.
    const frame = dubboRequest({ id: 7, args: ['y'.repeat(500)] });
    const sockets = await Promise.all(Array.from({ length: 200 }, () => connect(port)));
    let closed = 0;
    for (const s of sockets) {
      s.on('error', () => undefined);
      s.on('close', () => closed++);
    }
    const good = await RawDubboClient.connect(port);
    const t0 = performance.now();
    for (let i = 0; i < 40 && closed < sockets.length; i++) {
      for (const s of sockets) if (!s.destroyed) s.write(frame.subarray(i, i + 1));
      good.write(dubboRequest({ id: i + 1 }));
      await good.until(() => good.frames.length === i + 1, 3000, `good reply ${i + 1}`);
      await sleep(200);
    }
    const closedAfter = performance.now() - t0;
    assert.equal(closed, 200, 'every slow client was closed');
    // Never before the timeout, and not much after (the sweep is coarse).
    assert.ok(closedAfter >= 1000 && closedAfter < 3500, `closed after ${closedAfter.toFixed(0)} ms`);
    assert.equal(good.frames.every((f) => f.status === 20), true, 'the good client got every reply');
    assert.equal(good.closed, false, 'the good client, reading and sending, stays open');
    const stats = proxy.server.listenerStats('main');
    assert.equal(stats.downstream_cx_read_timeout, 200);
    assert.equal(stats.idle_timeout, 0, 'the trickle kept them from being idle (Aeraki re-arms on every read)');
    good.close();
  } finally {
    await proxy.close();
  }
});

test('idle_timeout closes a connection that sends nothing, not one that keeps calling', async () => {
  const proxy = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'p' }], extra: { idle_timeout: '0.6s' } })], [staticCluster('p', [provider.port])]),
  );
  try {
    const port = proxy.listenerPort('main');
    const idle = await RawDubboClient.connect(port);
    const busy = await RawDubboClient.connect(port);
    const t0 = performance.now();
    for (let i = 1; i <= 8; i++) {
      busy.write(dubboRequest({ id: i }));
      await busy.until(() => busy.frames.length === i, 3000);
      await sleep(200);
    }
    await idle.until(() => idle.closed, 3000, 'the idle connection closed');
    assert.ok(performance.now() - t0 >= 600, 'not before the timeout');
    assert.equal(busy.closed, false);
    assert.equal(proxy.server.listenerStats('main').idle_timeout, 1);
    busy.close();
  } finally {
    await proxy.close();
  }
});

test('frame_read_timeout 0 turns the frame timer off', async () => {
  const proxy = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'p' }] })], [staticCluster('p', [provider.port])], { frame_read_timeout: '0s' }),
  );
  try {
    const c = await RawDubboClient.connect(proxy.listenerPort('main'));
    c.write(dubboRequest({ id: 1 }).subarray(0, 20));
    await sleep(700);
    assert.equal(c.closed, false);
    assert.equal(proxy.server.listenerStats('main').downstream_cx_read_timeout, 0);
    c.close();
  } finally {
    await proxy.close();
  }
});

test('a listener updated in place keeps its timers for the connections that come after the drain', async () => {
  const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'p' }] })], [staticCluster('p', [provider.port])], {
    frame_read_timeout: '0.5s',
    drain_goaway_grace: '0.1s',
  });
  const proxy = await startMeltemi(doc);
  try {
    const port = proxy.listenerPort('main');
    const before = await RawDubboClient.connect(port);
    // Same name, same address: the connections of the old config drain, the socket stays.
    await proxy.server.upsertListener(compileBootstrap(doc).listeners[0]!);
    await before.until(() => before.closed, 3000, 'the old connection drained');
    const after = await RawDubboClient.connect(port);
    after.write(dubboRequest({ id: 1 }).subarray(0, 20));
    await after.until(() => after.closed, 3000, 'the frame read timeout closed the new connection');
    assert.equal(proxy.server.listenerStats('main').downstream_cx_read_timeout, 1);
  } finally {
    await proxy.close();
  }
});
