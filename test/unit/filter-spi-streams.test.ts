/**
 * onComplete for tRPC streams: once per stream when it ends, in reverse filter order, with
 * the stream's outcome (closed normally, refused for want of a route, the client gone, idle).
 * The peers are the protobufjs tRPC client and echo server of test/peers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { ExchangeCompletion, FilterFactory } from '../../filters/api/index.js';
import { findCodec, registerCodec } from '../../proxy/codec-registry.js';
import { findFilter, registerFilter } from '../../proxy/filter-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { TrpcClient, startTrpcServer } from '../peers/trpc-peer.js';
import type { TrpcServer } from '../peers/trpc-peer.js';

/** `filter:outcome:func` per completed stream, in call order. */
const completed: string[] = [];

const recorder = (name: string): FilterFactory => ({
  name: `test.spi-stream.${name}`,
  create: () => () => ({
    onRequest: () => FilterStatus.Continue,
    onComplete: (c: ExchangeCompletion) => void completed.push(`${name}:${c.outcome}:${c.metadata.get('func') ?? ''}:${c.upstreamCluster ?? '-'}`),
  }),
});

async function eventually(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pred(), what);
}

describe('onComplete for tRPC streams', () => {
  let echo: TrpcServer;
  let proxy: RunningMeltemi;
  const GOOD = '/trpc.test.helloworld.Greeter/SayHello';

  before(async () => {
    if (findCodec(trpcCodecFactory.name) === undefined) registerCodec(trpcCodecFactory);
    for (const n of ['a', 'b']) if (findFilter(`test.spi-stream.${n}`) === undefined) registerFilter(recorder(n));
    echo = await startTrpcServer({ name: 'echo' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            codec: trpcCodecFactory.name,
            protocol: 'trpc',
            routes: [{ name: 'greeter', match: { func: GOOD }, cluster: 'echo' }],
            extra: {
              stream_idle_timeout: '0.3s',
              meta_protocol_filters: [{ name: 'test.spi-stream.a' }, { name: 'test.spi-stream.b' }, { name: 'aeraki.meta_protocol.filters.router' }],
            },
          }),
        ],
        [staticCluster('echo', [echo.port])],
      ),
    );
  });
  after(async () => {
    await proxy?.close();
    await echo?.close();
  });

  test('a stream closed both ways: once, b then a, success', async () => {
    const c = await TrpcClient.connect(proxy.listenerPort('main'));
    try {
      completed.length = 0;
      const [msgs] = await c.runStreams(1, 2);
      assert.equal(msgs?.length, 2, 'both DATA frames echoed');
      await eventually(() => completed.length >= 2, 'onComplete after the CLOSEs');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(completed, [`b:success:${GOOD}:echo`, `a:success:${GOOD}:echo`]);
    } finally {
      c.close();
    }
  });

  test('an unroutable INIT, an idle stream and a client that goes away', async () => {
    const c = await TrpcClient.connect(proxy.listenerPort('main'));
    completed.length = 0;
    const lost = c.openStream({ func: '/trpc.test.Nowhere/Call' });
    assert.notEqual(await lost.ready, 0, 'refused');
    await eventually(() => completed.length === 2, 'onComplete for the refused INIT');
    assert.deepEqual(completed.splice(0), ['b:local-reply:/trpc.test.Nowhere/Call:-', 'a:local-reply:/trpc.test.Nowhere/Call:-']);
    const idle = c.openStream();
    assert.equal(await idle.ready, 0);
    await eventually(() => completed.length === 2, 'onComplete after stream_idle_timeout');
    assert.deepEqual(completed.splice(0), [`b:timeout:${GOOD}:echo`, `a:timeout:${GOOD}:echo`]);
    const open = c.openStream();
    assert.equal(await open.ready, 0);
    c.close();
    await eventually(() => completed.length === 2, 'onComplete after the client left');
    assert.deepEqual(completed.splice(0), [`b:downstream-disconnect:${GOOD}:echo`, `a:downstream-disconnect:${GOOD}:echo`]);
  });
});
