/**
 * Issue 13, defect 4: a client that sends requests and never reads the replies must not
 * make the proxy hold them all. The proxy stops reading a client while its unsent replies
 * plus the replies still owed to it are over the write watermark, and resumes below the low
 * mark; everything is delivered once the client reads again.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest, splitFrames } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const WATERMARK = 256 * 1024;
const REPLY = 32 * 1024;
const N = 2000;

let provider: Provider;
let proxy: RunningMeltemi;

before(async () => {
  provider = await startSofaProvider({ name: 'p' });
  proxy = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }], extra: { request_timeout: '30s' } })], [staticCluster('demo', [provider.port])], {
      write_buffer_high_watermark: WATERMARK,
    }),
  );
});
after(async () => {
  await proxy?.close();
  await provider?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a client that never reads is paused with its replies bounded, and resumed when it reads', async () => {
  const socket = net.connect(proxy.listenerPort('main'), '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', r));
  socket.on('error', () => {});
  socket.pause(); // never reads: the kernel buffers fill, then the proxy's
  try {
    // 2000 small requests in one write, each asking for a 32 KiB reply: 64 MiB owed.
    socket.write(Buffer.concat(Array.from({ length: N }, (_, i) => dubboRequest({ id: i + 1, method: 'repeat', desc: 'I', args: [REPLY] }))));
    const stats = proxy.server.listenerStats('main');
    const forwarded = (): number => provider.calls.filter((c) => c.method === 'repeat').length;
    // Let it settle: calls reach the provider, then their count stops growing once the
    // client is paused (bounded loops: 10 s at most each).
    for (let i = 0; i < 100 && forwarded() === 0; i++) await sleep(100);
    let last = -1;
    for (let i = 0; i < 20 && forwarded() !== last; i++) {
      last = forwarded();
      await sleep(500);
    }
    assert.ok(stats.downstream_pause >= 1, 'the client was paused');
    // What the kernel holds for an unread socket plus the watermark is a few MiB: about 140
    // replies here. Without the reply backlog the proxy forwarded 1024 (the cluster's
    // max_requests), holding 32 MiB of replies for a client that reads nothing.
    assert.ok(forwarded() < 500, `the proxy forwarded ${forwarded()} of ${N} requests for a client that reads nothing`);
    assert.equal(stats.request_active, 0, 'nothing is waiting upstream: what was forwarded was answered and is queued');

    // The client reads again: every reply arrives, and the pause was lifted.
    let rest: Buffer = Buffer.alloc(0);
    let replies = 0;
    let ok = true;
    socket.on('data', (chunk: Buffer) => {
      const r = splitFrames(Buffer.concat([rest, chunk]));
      rest = Buffer.from(r.rest);
      replies += r.frames.length;
      for (const f of r.frames) if (f.status !== 20) ok = false;
    });
    socket.resume();
    const deadline = Date.now() + 30_000;
    while (replies < N && Date.now() < deadline) await sleep(50);
    assert.equal(replies, N, 'every reply was delivered');
    assert.ok(ok, 'every reply is a success');
    assert.ok(stats.downstream_resume >= 1, 'the client was resumed');
    assert.equal(stats.downstream_resume, stats.downstream_pause, 'every pause was lifted');
  } finally {
    socket.destroy();
  }
});
