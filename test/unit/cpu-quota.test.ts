/** The default worker count from the container's cgroup CPU quota (proxy/cpu-quota.ts). */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConcurrency, readCpuQuota } from '../../proxy/cpu-quota.js';

// dist/test/unit → the repository's test/fixtures/cgroup (tsc copies no fixture files).
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/cgroup', import.meta.url));
const at = (name: string): string => path.join(FIXTURES, name);

test('cgroup v2 cpu.max: quota and period', () => {
  assert.deepEqual(readCpuQuota(at('v2-two')), { quotaUs: 200_000, periodUs: 100_000 });
  assert.equal(defaultConcurrency(readCpuQuota(at('v2-two')), 64), 2);
});

test('a fractional quota rounds up (1.5 CPUs: 2 workers)', () => {
  assert.equal(defaultConcurrency(readCpuQuota(at('v2-fraction')), 64), 2);
});

test('cgroup v2 "max" is no quota: one worker per core', () => {
  assert.equal(readCpuQuota(at('v2-max')), undefined);
  assert.equal(defaultConcurrency(readCpuQuota(at('v2-max')), 8), 8);
});

test('cgroup v1 cfs quota/period; half a CPU still gets one worker', () => {
  assert.deepEqual(readCpuQuota(at('v1')), { quotaUs: 50_000, periodUs: 100_000 });
  assert.equal(defaultConcurrency(readCpuQuota(at('v1')), 64), 1);
});

test('cgroup v1 under cpu,cpuacct; quota -1 is no quota', () => {
  assert.equal(defaultConcurrency(readCpuQuota(at('v1-cpuacct')), 64), 4);
  assert.equal(readCpuQuota(at('v1-unlimited')), undefined);
});

test('missing files: no quota, the core count', () => {
  assert.equal(readCpuQuota(at('none')), undefined);
  assert.equal(readCpuQuota(at('does-not-exist')), undefined);
  assert.equal(defaultConcurrency(undefined, 3), 3);
});

test('the quota never gives more workers than cores', () => {
  assert.equal(defaultConcurrency({ quotaUs: 1_600_000, periodUs: 100_000 }, 2), 2);
});
