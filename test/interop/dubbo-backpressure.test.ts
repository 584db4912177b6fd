/**
 * A slow upstream pauses the clients feeding it (counted), memory stays bounded, and
 * everything completes once the upstream reads again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';

let upstream: FaultUpstream;
let proxy: RunningMeltemi;

before(async () => {
  upstream = await startFaultUpstream('pause-then-echo');
  proxy = await startMeltemi(
    bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'slow' }], extra: { request_timeout: '30s' } })], [staticCluster('slow', [upstream.port])], {
      upstream_connections_per_host: 1,
      write_buffer_high_watermark: 65536,
    }),
  );
});
after(async () => {
  await proxy.close();
  await upstream.close();
});

test('a stalled upstream pauses the client; all requests complete after it resumes', async () => {
  const c = await RawDubboClient.connect(proxy.listenerPort('main'));
  try {
    const n = 300;
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < n; i++) c.write(dubboRequest({ id: i + 1, args: [big] }));
    // 18 MB offered; the kernel buffers and the 64 KiB watermark hold far less, so the proxy
    // must stop reading the client.
    const stats = proxy.server.listenerStats('main');
    const deadline = Date.now() + 5000;
    while (stats.downstream_pause === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(stats.downstream_pause >= 1, 'the client connection was paused');
    await new Promise((r) => setTimeout(r, 300));
    // Memory bound: what the proxy accepted is at most what the client could not keep.
    assert.ok(c.socket.writableLength > 1_000_000, `the client could not push everything (${c.socket.writableLength} bytes still queued)`);
    upstream.resume();
    await c.until(() => c.frames.length === n, 20_000, `${n} replies`);
    assert.ok(stats.downstream_resume >= 1, 'the client connection was resumed');
    assert.deepEqual(
      c.frames.map((f) => Number(f.id)).sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.ok(c.frames.every((f) => f.status === 20));
  } finally {
    c.close();
  }
});
