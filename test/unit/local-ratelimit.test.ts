import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorType } from '../../codecs/api/index.js';
import type { Metadata, Message } from '../../codecs/api/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { FilterExchange } from '../../filters/api/index.js';
import { FaultInjection } from '../../filters/fault/index.js';
import { LocalRateLimiter } from '../../filters/local-ratelimit/index.js';
import { TokenBucket } from '../../filters/local-ratelimit/token-bucket.js';
import { ConfigError } from '../../proxy/index.js';

/** A minimal exchange: metadata in, local replies recorded. */
function exchange(md: Record<string, string>): FilterExchange & { replies: ErrorType[] } {
  const replies: ErrorType[] = [];
  const metadata: Metadata = { get: (k) => md[k], entries: () => Object.entries(md) };
  return {
    replies,
    request: {} as Message,
    metadata,
    downstreamRequestId: 1,
    response: undefined,
    downstreamRemoteAddress: '127.0.0.1:1',
    route: () => undefined,
    setRequestHeader: () => {},
    setResponseHeader: () => {},
    sendLocalReply: (e) => {
      replies.push(e);
    },
    forward: () => {},
  };
}

describe('token bucket', () => {
  test('starts full, empties, refills per whole interval up to max', () => {
    const b = new TokenBucket(3, 2, 100, 0);
    assert.equal([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()].filter(Boolean).length, 3);
    b.refill(99);
    assert.equal(b.tokens, 0);
    b.refill(100);
    assert.equal(b.tokens, 2);
    b.refill(1000);
    assert.equal(b.tokens, 3, 'capped at max_tokens');
  });
});

describe('local rate limit filter', () => {
  test('the first matching condition consumes; others fall to the default bucket', () => {
    const rl = new LocalRateLimiter({
      stat_prefix: 'rl',
      token_bucket: { max_tokens: 2, fill_interval: '60s' },
      conditions: [{ match: { metadata: [{ name: 'method', exact_match: 'hot' }] }, token_bucket: { max_tokens: 1, fill_interval: '60s' } }],
    });
    try {
      const hot = [1, 2].map(() => {
        const ex = exchange({ method: 'hot' });
        return [rl.onRequest(ex), ex.replies] as const;
      });
      assert.equal(hot[0]![0], FilterStatus.Continue);
      assert.equal(hot[1]![0], FilterStatus.Stop);
      assert.deepEqual(hot[1]![1], [ErrorType.OverLimit]);
      const other = [1, 2, 3].map(() => rl.onRequest(exchange({ method: 'cold' })));
      assert.deepEqual(other, [FilterStatus.Continue, FilterStatus.Continue, FilterStatus.Stop]);
      assert.deepEqual(rl.stats, { ok: 3, rate_limited: 2 });
    } finally {
      rl.close();
    }
  });

  test('without a default bucket, requests matching no condition pass', () => {
    const rl = new LocalRateLimiter({ stat_prefix: 'rl', conditions: [{ match: { metadata: [{ name: 'method', exact_match: 'x' }] }, token_bucket: { max_tokens: 1, fill_interval: '1s' } }] });
    try {
      for (let i = 0; i < 5; i++) assert.equal(rl.onRequest(exchange({ method: 'y' })), FilterStatus.Continue);
    } finally {
      rl.close();
    }
  });

  test('tokens come back after the fill interval', async () => {
    const rl = new LocalRateLimiter({ stat_prefix: 'rl', token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: '0.1s' } });
    try {
      assert.equal(rl.onRequest(exchange({})), FilterStatus.Continue);
      assert.equal(rl.onRequest(exchange({})), FilterStatus.Stop);
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(rl.onRequest(exchange({})), FilterStatus.Continue);
    } finally {
      rl.close();
    }
  });

  test('config errors: fill interval under 50 ms, no bucket, unknown field', () => {
    assert.throws(() => new LocalRateLimiter({ stat_prefix: 'x', token_bucket: { max_tokens: 1, fill_interval: '0.01s' } }), /must be >= 50ms/);
    assert.throws(() => new LocalRateLimiter({ stat_prefix: 'x' }), /needs token_bucket/);
    assert.throws(() => new LocalRateLimiter({ stat_prefix: 'x', token_bucket: { max_tokens: 1, fill_interval: '1s', burst: 3 } }), (e: unknown) => e instanceof ConfigError && /token_bucket\.burst: unknown field/.test(e.message));
  });
});

describe('fault filter', () => {
  test('abort with a percentage follows the random draws', () => {
    const draws = [0.1, 0.9];
    let i = 0;
    const f = new FaultInjection({ abort: { error_type: 'OverLimit', percentage: { numerator: 50 } } }, () => draws[i++ % 2]!);
    const a = exchange({});
    assert.equal(f.onRequest(a), FilterStatus.Stop);
    assert.deepEqual(a.replies, [ErrorType.OverLimit]);
    const b = exchange({});
    assert.equal(f.onRequest(b), FilterStatus.Continue);
    assert.deepEqual(b.replies, []);
  });

  test('only requests matching headers are touched; delay resolves to Continue after the delay', async () => {
    const f = new FaultInjection({ headers: [{ name: 'method', exact_match: 'slow' }], delay: { fixed_delay: '0.1s' } }, () => 0);
    assert.equal(f.onRequest(exchange({ method: 'fast' })), FilterStatus.Continue);
    const t0 = performance.now();
    const r = f.onRequest(exchange({ method: 'slow' }));
    assert.ok(r instanceof Promise);
    assert.equal(await r, FilterStatus.Continue);
    assert.ok(performance.now() - t0 >= 95);
    assert.equal(f.stats.delays_injected, 1);
    assert.equal(f.stats.active_faults, 0);
  });
});

test('an empty bucket catches up on fills its timer has not run yet, and only on whole intervals', () => {
  const b = new TokenBucket(2, 2, 1000, 0);
  assert.equal(b.tryTake() && b.tryTake(), true);
  assert.equal(b.tryTake(), false, 'empty');
  assert.equal(b.tryTakeAfterRefill(999), false, 'no fill before the interval has passed');
  assert.equal(b.tryTakeAfterRefill(1001), true, 'the fill due at 1000 ms counts though no timer ran');
  assert.equal(b.tryTake(), true);
  assert.equal(b.tryTakeAfterRefill(1500), false, 'one fill per interval, not per call');
});
