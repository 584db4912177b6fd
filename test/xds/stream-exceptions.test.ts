/**
 * An exception while applying an xDS update (a decoder bug, input nobody foresaw) neither
 * escapes to the process nor leaves the response unanswered: it is NACKed, and the stream
 * keeps working (issue 13: nothing may take the process down; defect 7: answer every
 * response). A SotW stream with a stub watcher, against the test control plane.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { SILENT_LOGGER } from '../../xds-client/logger.js';
import { SotwStream } from '../../xds-client/sotw-stream.js';
import { ADS_SOTW_METHOD, CLUSTER_TYPE } from '../../xds-client/type-urls.js';
import type { ResourceUpdate } from '../../xds-client/type-watcher.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { waitFor } from './harness.js';
import { staticXdsCluster } from '../../tools/testing/xds-resources.js';

test('an exception from a watcher becomes a NACK; the next update is accepted', async () => {
  const cp = new TestControlPlane('go-control-plane');
  await cp.start();
  cp.set(CLUSTER_TYPE, 'boom', [staticXdsCluster('a', [1])]);
  const client = new grpc.Client(`127.0.0.1:${cp.port}`, grpc.credentials.createInsecure());
  const stream = new SotwStream({ channel: { clusterName: 'test', target: `127.0.0.1:${cp.port}`, client, metadata: () => new grpc.Metadata() }, node: { id: 'n' }, logger: SILENT_LOGGER }, ADS_SOTW_METHOD);
  const seen: string[] = [];
  stream.watch({
    typeUrl: CLUSTER_TYPE,
    shortName: 'cds',
    wildcard: true,
    onUpdate: (u: ResourceUpdate) => {
      const names = [...u.resources.keys()].join();
      if (names === 'a') throw new TypeError('decoder bug');
      seen.push(names);
      return [];
    },
    onDoesNotExist: () => undefined,
    onResponse: () => undefined,
  });
  stream.start();
  try {
    const reqs = (): DiscoveryRequest[] => cp.requestsOf(CLUSTER_TYPE).map((r) => r.request as DiscoveryRequest);
    await waitFor('NACK', () => reqs().some((r) => r.error_detail != null));
    assert.match(reqs().find((r) => r.error_detail != null)!.error_detail!.message, /exception while applying the update: decoder bug/);
    cp.set(CLUSTER_TYPE, 'fine', [staticXdsCluster('b', [2])]);
    await waitFor('ACK of the next version', () => reqs().some((r) => r.version_info === 'fine' && r.error_detail == null));
    assert.deepEqual(seen, ['b']);
  } finally {
    stream.close();
    cp.stop();
  }
});
