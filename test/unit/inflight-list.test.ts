/**
 * The connection's list of exchanges in flight: adds, removes from any position, ignores
 * items that are not on it, and survives items removing themselves during a walk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { InflightList } from '../../proxy/downstream/inflight-list.js';
import type { InflightLinks } from '../../proxy/downstream/inflight-list.js';

class Item implements InflightLinks {
  inflightPrev: InflightLinks | null = null;
  inflightNext: InflightLinks | null = null;
  inflightList: object | null = null;
  constructor(readonly id: number) {}
}

test('any sequence of adds and deletes matches a Set', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(15)), { maxLength: 200 }), (ops) => {
      const items = Array.from({ length: 16 }, (_, i) => new Item(i));
      const list = new InflightList<Item>();
      const model = new Set<Item>();
      for (const [add, i] of ops) {
        const item = items[i]!;
        if (add) {
          list.add(item);
          model.add(item);
        } else {
          assert.equal(list.delete(item), model.delete(item));
        }
        assert.equal(list.size, model.size);
        assert.deepEqual(new Set(list.toArray()), model);
      }
    }),
  );
});

test('an item on another list is neither deleted nor added twice', () => {
  const a = new InflightList<Item>();
  const b = new InflightList<Item>();
  const x = new Item(1);
  a.add(x);
  assert.equal(b.delete(x), false);
  b.add(x);
  assert.equal(b.size, 0, 'still on a');
  assert.equal(a.size, 1);
  for (const item of a.toArray()) a.delete(item);
  assert.equal(a.size, 0);
  assert.deepEqual(a.toArray(), []);
});
