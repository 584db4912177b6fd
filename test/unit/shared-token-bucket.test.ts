/**
 * The sidecar-wide token bucket: the primary's buckets and a worker's lease, wired together
 * without processes (the channel's send hands the request straight to the primary).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeasedTokenBucket } from '../../proxy/shared-policy/leased-token-bucket.js';
import type { LeaseRequest } from '../../proxy/shared-policy/messages.js';
import { PrimaryBuckets } from '../../proxy/shared-policy/primary-buckets.js';
import { WorkerChannel } from '../../proxy/shared-policy/worker-channel.js';

const spec = { maxTokens: 5, tokensPerFill: 5, fillIntervalMs: 1000 };

/** Workers on a fake clock; `asks` counts the IPC round trips. */
function rig(workers: number, s = spec): { clock: { now: number }; buckets: LeasedTokenBucket[]; asks: () => number } {
  const clock = { now: 0 };
  const primary = new PrimaryBuckets(() => workers, () => clock.now);
  let asks = 0;
  const buckets = Array.from({ length: workers }, () => {
    const channel: WorkerChannel = new WorkerChannel((msg: LeaseRequest) => {
      asks++;
      // The reply arrives on a later turn, as over IPC.
      const grant = primary.lease(msg);
      queueMicrotask(() => channel.onMessage(grant));
      return true;
    });
    return new LeasedTokenBucket('l/0/default', s, channel, () => clock.now);
  });
  return { clock, buckets, asks: () => asks };
}

async function takeAll(b: LeasedTokenBucket, n: number): Promise<boolean[]> {
  return Promise.all(Array.from({ length: n }, () => b.take()));
}

test('two workers share one bucket: 5 tokens pass in all, whoever asks', async () => {
  const { buckets } = rig(2);
  const results = [...(await takeAll(buckets[0]!, 10)), ...(await takeAll(buckets[1]!, 10))];
  assert.equal(results.filter(Boolean).length, 5);
});

test('an empty bucket is remembered until its next fill: refusals are synchronous and cost no IPC', async () => {
  const { clock, buckets, asks } = rig(1);
  const b = buckets[0]!;
  assert.equal((await takeAll(b, 6)).filter(Boolean).length, 5);
  const before = asks();
  clock.now = 500;
  assert.equal(b.take(), false);
  assert.equal(asks(), before);
  // After the fill the bucket is asked again and has tokens.
  clock.now = 1000;
  assert.equal(await b.take(), true);
});

test('leased tokens lapse at the fill: a worker never carries them into the next period', async () => {
  const big = { maxTokens: 1000, tokensPerFill: 1000, fillIntervalMs: 1000 };
  const { clock, buckets } = rig(1, big);
  const b = buckets[0]!;
  assert.equal(await b.take(), true);
  // The lease holds more than one token now (the block grows with the rate)...
  for (let i = 0; i < 4; i++) assert.equal(await b.take(), true);
  clock.now = 1000;
  // ...but after the fill the next take asks the primary again (a promise, not a sync token).
  assert.ok(b.take() instanceof Promise);
});

test('the lease block grows with the rate: a busy worker asks once per block, not per request', async () => {
  const big = { maxTokens: 10_000, tokensPerFill: 10_000, fillIntervalMs: 1000 };
  const { buckets, asks } = rig(1, big);
  const b = buckets[0]!;
  let passed = 0;
  for (let i = 0; i < 1000; i++) {
    const r = b.take();
    if (r === true || (r !== false && (await r))) passed++;
  }
  assert.equal(passed, 1000);
  assert.ok(asks() < 50, `asks: ${asks()}`);
});

test('a primary that does not answer: the waiting request is refused, not left hanging', async () => {
  const channel = new WorkerChannel(() => false);
  const b = new LeasedTokenBucket('x', spec, channel);
  assert.equal(await b.take(), false);
});
