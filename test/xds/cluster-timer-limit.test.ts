/** A CDS cluster whose connect_timeout overflows a Node timer is refused (issue 13 defect 9). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCluster } from './decoders.js';
import { edsCluster } from '../../tools/testing/xds-resources.js';

test('connect_timeout above 2^31-1 ms is an error naming the cluster; a normal one is fine', () => {
  const errors: string[] = [];
  const bad = decodeCluster({ ...edsCluster('outbound|20880||big'), connect_timeout: { seconds: '3000000' } }, errors, []);
  assert.equal(bad, undefined);
  assert.deepEqual(errors, ['cluster outbound|20880||big: connect_timeout 3000000s is longer than the longest timer Node.js supports (2147483647 ms)']);
  const ok: string[] = [];
  const good = decodeCluster({ ...edsCluster('outbound|20880||ok'), connect_timeout: { seconds: '10' } }, ok, []);
  assert.deepEqual(ok, []);
  assert.equal(good?.cluster.connectTimeoutMs, 10_000);
});
