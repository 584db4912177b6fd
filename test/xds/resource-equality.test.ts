/** Content equality of decoded resources (xds-client/resource-equality.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameContent } from '../../xds-client/resource-equality.js';

test('keys in any order, at any depth, are the same content', () => {
  const a = { name: 'l', typed_config: { value: { statPrefix: 'x', codec: { name: 'c', config: { a: 1, b: [1, 2] } } } } };
  const b = { typed_config: { value: { codec: { config: { b: [1, 2], a: 1 }, name: 'c' }, statPrefix: 'x' } }, name: 'l' };
  assert.equal(JSON.stringify(a) === JSON.stringify(b), false, 'the JSON text differs');
  assert.ok(sameContent(a, b));
  assert.ok(sameContent(b, a));
});

test('a field at its default equals the absent field; an empty message does not', () => {
  assert.ok(sameContent({ a: 1, s: '', n: 0, f: false, l: [], z: null }, { a: 1 }));
  assert.ok(sameContent({ a: 1 }, { a: 1, s: '', n: 0, f: false, l: [], z: null }));
  assert.equal(sameContent({ a: 1, ads: {} }, { a: 1 }), false, 'a set message field is content');
  assert.equal(sameContent({ a: 1 }, { a: 1, ads: {} }), false);
  // Defaults of different kinds are different values, not both "absent".
  assert.equal(sameContent({ a: '' }, { a: 0 }), false);
  assert.equal(sameContent({ a: false }, { a: 0 }), false);
});

test('real changes are seen', () => {
  assert.equal(sameContent({ a: 1 }, { a: 2 }), false);
  assert.equal(sameContent({ a: '1' }, { a: 1 }), false, 'scalars compare strictly');
  assert.equal(sameContent({ a: [1, 2] }, { a: [2, 1] }), false, 'list order is content');
  assert.equal(sameContent({ a: [1] }, { a: [1, 1] }), false);
  assert.equal(sameContent({ a: { b: { c: 'x' } } }, { a: { b: { c: 'y' } } }), false);
  assert.equal(sameContent({ a: { b: 1 } }, { a: [1] }), false);
  assert.equal(sameContent({ a: 1 }, { a: 1, b: 'x' }), false);
  assert.equal(sameContent({ a: 1, b: 'x' }, { a: 1 }), false);
  assert.equal(sameContent([{ a: 1 }], [{ a: 1, b: 2 }]), false);
  assert.equal(sameContent(null, {}), false);
});

test('scalars, NaN and lists of objects', () => {
  assert.ok(sameContent(Number.NaN, Number.NaN));
  assert.ok(sameContent('x', 'x'));
  assert.ok(sameContent([{ b: 1, a: 2 }], [{ a: 2, b: 1 }]));
  assert.ok(sameContent(undefined, undefined));
});
