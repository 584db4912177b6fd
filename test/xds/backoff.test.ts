import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../xds-client/backoff.js';

test('reconnect backoff: exponential, jittered within [delay/2, delay], capped, reset after success', () => {
  const low = new Backoff(500, 30_000, () => 0);
  const high = new Backoff(500, 30_000, () => 0.999999);
  const lows = Array.from({ length: 10 }, () => low.next());
  const highs = Array.from({ length: 10 }, () => high.next());
  assert.deepEqual(lows, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]);
  assert.deepEqual(highs, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  low.reset();
  assert.equal(low.next(), 250);
  // Real randomness stays inside the band and varies.
  const real = new Backoff(1000, 1000);
  const samples = Array.from({ length: 50 }, () => real.next());
  assert.ok(samples.every((d) => d >= 500 && d <= 1000));
  assert.ok(new Set(samples).size > 5, 'jitter spreads reconnects');
});
