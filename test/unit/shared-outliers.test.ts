/**
 * Sidecar-wide outlier detection without processes: two workers' links report to one
 * primary detector, whose broadcasts are applied to both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierDetectionConfig } from '../../proxy/upstream/cluster-policy.js';
import type { OutlierHost } from '../../proxy/upstream/outlier-detector.js';
import type { HostResult } from '../../proxy/shared-policy/messages.js';
import { PrimaryOutliers } from '../../proxy/shared-policy/primary-outliers.js';
import { WorkerOutliers } from '../../proxy/shared-policy/worker-outliers.js';

const config: OutlierDetectionConfig = { consecutiveErrors: 3, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 300_000, maxEjectionPercent: 50, enforcingPercent: 100 };

function hostsOf(): OutlierHost[] {
  return ['a:1', 'b:1'].map((id) => ({ id, consecutiveErrors: 0, ejected: false, ejections: 0 }));
}

function rig(): { sent: HostResult[]; workers: { hosts: OutlierHost[]; changes: number; link: ReturnType<WorkerOutliers['link']> }[]; primary: PrimaryOutliers } {
  const sent: HostResult[] = [];
  const sides: WorkerOutliers[] = [];
  const primary = new PrimaryOutliers((msg) => {
    for (const s of sides) s.onEjections(msg);
  });
  const workers = [0, 1].map(() => {
    const side = new WorkerOutliers((msg) => {
      sent.push(msg);
      primary.report(msg);
    });
    sides.push(side);
    const w = { hosts: hostsOf(), changes: 0, link: undefined as unknown as ReturnType<WorkerOutliers['link']> };
    w.link = side.link('up', config, () => w.hosts, () => w.changes++);
    return w;
  });
  return { sent, workers, primary };
}

test('failures reported by two workers add up in the primary; the ejection reaches both', () => {
  const { workers, primary } = rig();
  const [w0, w1] = workers;
  w0!.link.failure(w0!.hosts[0]!);
  w1!.link.failure(w1!.hosts[0]!);
  assert.equal(w0!.hosts[0]!.ejected, false);
  w0!.link.failure(w0!.hosts[0]!);
  // Three failures in the sidecar (two on one worker, one on the other): ejected everywhere.
  assert.equal(w0!.hosts[0]!.ejected, true);
  assert.equal(w1!.hosts[0]!.ejected, true);
  assert.equal(w1!.changes, 1);
  assert.equal(primary.isEjected('up', 'a:1'), true);
  assert.equal(primary.isEjected('up', 'b:1'), false);
  primary.close();
});

test('successes in a row cost no message; the first success after a failure is sent and resets the count', () => {
  const { sent, workers, primary } = rig();
  const w0 = workers[0]!;
  const h = w0.hosts[1]!;
  for (let i = 0; i < 100; i++) w0.link.success(h);
  assert.equal(sent.length, 0);
  w0.link.failure(h);
  w0.link.failure(h);
  w0.link.success(h);
  w0.link.success(h);
  assert.deepEqual(sent.map((m) => m.ok), [false, false, true]);
  // The success reset the primary's count: two more failures do not eject.
  w0.link.failure(h);
  w0.link.failure(h);
  assert.equal(primary.isEjected('up', 'b:1'), false);
  primary.close();
});

test('a worker that links a cluster later starts with the current ejections', () => {
  const { workers, primary } = rig();
  const w0 = workers[0]!;
  for (let i = 0; i < 3; i++) w0.link.failure(w0.hosts[0]!);
  const late = new WorkerOutliers(() => undefined);
  for (const e of primary.states()) late.onEjections(e);
  const hosts = hostsOf();
  late.link('up', config, () => hosts, () => undefined);
  assert.deepEqual(hosts.map((h) => h.ejected), [true, false]);
  primary.close();
});
