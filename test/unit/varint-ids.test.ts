import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VarintIdAllocator } from '../../proxy/upstream/varint-ids.js';

const varintLength = (n: number): number => {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
};

test('upstream ids keep the varint length of the client id', () => {
  const ids = new VarintIdAllocator();
  const none = (): boolean => false;
  for (const client of [1, 100, 200, 20_000, 3_000_000, 300_000_000, 2 ** 40, 4294967298n, -1n]) {
    const id = ids.next(client, none);
    const want = typeof client === 'bigint' || client >= 2 ** 28 ? 5 : varintLength(client);
    assert.equal(varintLength(id), want, `client ${client} -> ${id}`);
    assert.ok(id >= 1 && id <= 0x7fffffff);
  }
});

test('ids in flight are skipped; a full band moves on to a longer one', () => {
  const ids = new VarintIdAllocator();
  const used = new Set<number>();
  for (let i = 0; i < 127; i++) used.add(ids.next(5, (id) => used.has(id)));
  assert.equal(used.size, 127, 'all 1-byte ids, no repeats');
  const next = ids.next(5, (id) => used.has(id));
  assert.ok(!used.has(next) && next >= 128, `the band is full: ${next} comes from the next band`);
});
