/**
 * Local rate limiting and fault injection through the proxy with real Dubbo clients and
 * providers: limits hit and lifted, abort and delay percentages within tolerance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

function withFilters(filters: object[]): Record<string, unknown> {
  return { meta_protocol_filters: [...filters, { name: 'aeraki.meta_protocol.filters.router' }] };
}

describe('local rate limit', () => {
  let provider: Provider;
  let proxy: RunningMeltemi;

  before(async () => {
    provider = await startSofaProvider({ name: 'rl' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [{ name: 'all', cluster: 'demo' }],
            extra: withFilters([
              {
                name: 'aeraki.meta_protocol.filters.local_ratelimit',
                config: {
                  '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimit',
                  stat_prefix: 'demo',
                  conditions: [{ match: { metadata: [{ name: 'method', exact_match: 'sayHello' }] }, token_bucket: { max_tokens: 5, tokens_per_fill: 5, fill_interval: '1s' } }],
                },
              },
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

  test('over the limit the sofa client gets an error at once; the limit lifts after the fill interval; other methods pass', async () => {
    const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
    try {
      const t0 = performance.now();
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => c.invoke('sayHello', [java.String(`r${i}`)])));
      assert.ok(performance.now() - t0 < 1000, 'limited calls are answered at once');
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(ok, 5);
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /rate limited/);
      assert.equal(await c.invoke('plus', [java.int(1), java.int(2)]), 3, 'plus matches no condition and has no default bucket');
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(await c.invoke('sayHello', [java.String('again')]), 'hello again from rl');
    } finally {
      await c.close();
    }
  });

  test('the over-limit reply is SERVER_THREADPOOL_EXHAUSTED (100)', async () => {
    const raw = await RawDubboClient.connect(proxy.listenerPort('main'));
    try {
      raw.write(Buffer.concat(Array.from({ length: 12 }, (_, i) => dubboRequest({ id: i + 1 }))));
      await raw.until(() => raw.frames.length === 12);
      assert.ok(raw.frames.some((f) => f.status === 100));
    } finally {
      raw.close();
    }
  });
});

describe('fault injection', () => {
  let provider: Provider;
  let proxy: RunningMeltemi;

  before(async () => {
    provider = await startSofaProvider({ name: 'fault' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [{ name: 'all', cluster: 'demo' }],
            extra: withFilters([
              { name: 'meltemi.filters.fault', config: { headers: [{ name: 'method', exact_match: 'sayHello' }], abort: { error_type: 'Unspecified', message: 'injected abort', percentage: { numerator: 30 } } } },
              { name: 'meltemi.filters.fault', config: { headers: [{ name: 'method', exact_match: 'plus' }], delay: { fixed_delay: '0.2s', percentage: { numerator: 50 } } } },
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

  test('abort 30% of sayHello: observed share within 6 points over 1000 calls', async () => {
    const raw = await RawDubboClient.connect(proxy.listenerPort('main'));
    try {
      const n = 1000;
      for (let i = 0; i < n; i += 100) {
        raw.write(Buffer.concat(Array.from({ length: 100 }, (_, k) => dubboRequest({ id: i + k + 1 }))));
        await raw.until(() => raw.frames.length === i + 100, 5000);
      }
      const aborted = raw.frames.filter((f) => f.status === 80).length;
      assert.equal(raw.frames.filter((f) => f.status === 20).length + aborted, n);
      // Binomial(1000, 0.3): sd 14.5 calls; 6 points = 60 calls is about 4 sd.
      assert.ok(Math.abs(aborted / n - 0.3) < 0.06, `aborted share ${aborted / n}`);
    } finally {
      raw.close();
    }
  });

  test('delay 50% of plus by 200 ms: the slow share is within tolerance', async () => {
    const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
    try {
      // 8 lanes of 25 calls one after another: with few calls in flight an undelayed call
      // stays far below 200 ms even on a loaded machine, while a delayed one can never be
      // faster than its 200 ms timer. (200 calls at once queued so long under load that every
      // call looked delayed.)
      const lanes = 8;
      const perLane = 25;
      const n = lanes * perLane;
      const times: number[] = [];
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let k = 0; k < perLane; k++) {
            const i = lane * perLane + k;
            const t0 = performance.now();
            assert.equal(await c.invoke('plus', [java.int(i + 1), java.int(1)], 5000), i + 2);
            times.push(performance.now() - t0);
          }
        }),
      );
      const slow = times.filter((t) => t >= 199).length;
      // Binomial(200, 0.5): sd ~7 calls; 15 points = 30 calls is over 4 sd.
      assert.ok(Math.abs(slow / n - 0.5) < 0.15, `slow share ${slow / n}`);
    } finally {
      await c.close();
    }
  });
});
