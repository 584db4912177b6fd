/**
 * The use_original_dst hand-off's choice of listener (spec/istio-sidecar.md §3.3): exact
 * `ip:port` first, then the wildcard of the address family, never the accepting listener.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListenerAddressIndex } from '../../proxy/downstream/listener-hand-off.js';

const index = new ListenerAddressIndex<string>();
index.rebuild([
  { host: '0.0.0.0', port: 15001, listener: 'virtualOutbound' },
  { host: '240.240.0.5', port: 20880, listener: '240.240.0.5_20880' },
  { host: '0.0.0.0', port: 20880, listener: '0.0.0.0_20880' },
  { host: '::', port: 9090, listener: '[::]_9090' },
  { host: '0.0.0.0', port: 9090, listener: '0.0.0.0_9090' },
  { host: '0.0.0.0', port: 20880, listener: 'second on the same address' },
]);

test('exact ip:port wins over the wildcard', () => {
  assert.equal(index.find({ address: '240.240.0.5', port: 20880 }, 'virtualOutbound'), '240.240.0.5_20880');
});

test('else the wildcard of the same family', () => {
  assert.equal(index.find({ address: '10.1.2.3', port: 20880 }, 'virtualOutbound'), '0.0.0.0_20880', 'the first listener on an address keeps it');
  assert.equal(index.find({ address: 'fd00::1', port: 9090 }, 'virtualOutbound'), '[::]_9090');
  assert.equal(index.find({ address: '10.1.2.3', port: 9090 }, 'virtualOutbound'), '0.0.0.0_9090');
});

test('no listener, or only the accepting one: the connection stays where it is', () => {
  assert.equal(index.find({ address: '10.1.2.3', port: 8080 }, 'virtualOutbound'), undefined);
  assert.equal(index.find({ address: '10.1.2.3', port: 15001 }, 'virtualOutbound'), undefined, 'a connection whose original destination is 15001 itself is not handed to itself');
});
