/**
 * The cluster's circuit breakers (Envoy's DEFAULT-priority thresholds) and its host choice,
 * on proxy/upstream directly. Connections go to a listener on 127.0.0.1 that the test owns.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EMPTY_METADATA, MessageType } from '../../codecs/api/index.js';
import type { Message } from '../../codecs/api/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import type { PickContext } from '../../filters/api/index.js';
import { Cluster } from '../../proxy/upstream/cluster.js';
import type { Host, HostConfig } from '../../proxy/upstream/cluster.js';
import { clusterPolicyOf, DEFAULT_THRESHOLDS } from '../../proxy/upstream/cluster-policy.js';
import type { ClusterPolicy } from '../../proxy/upstream/cluster-policy.js';
import type { UpstreamRequest } from '../../proxy/upstream/upstream-connection.js';
import { metadataOf } from './router-fakes.js';

let server: net.Server;
let port = 0;
const sockets = new Set<net.Socket>();
before(async () => {
  server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const SETTINGS = { connectionsPerHost: 4, highWatermark: 1 << 20 };

function hostsAt(n: number, labels: (i: number) => Record<string, string> = () => ({})): HostConfig[] {
  return Array.from({ length: n }, (_, i) => ({ address: '127.0.0.1', port: port + i, healthy: true, weight: 1, labels: labels(i) }));
}

function policy(thresholds: Record<string, unknown>): ClusterPolicy {
  return clusterPolicyOf({ circuit_breakers: { thresholds: [thresholds] } });
}

function ctx(over: Partial<PickContext<Host>> = {}): PickContext<Host> {
  return { metadata: EMPTY_METADATA, hashKeys: [], subset: undefined, avoid: undefined, ...over };
}

const dubbo = dubboCodecFactory;
const codecCtx = { maxFrameSize: 1 << 20, options: {}, wantedKeys: new Set<string>() };

describe('circuit breakers', () => {
  test('thresholds are read from the DEFAULT priority, with Envoy’s defaults for the rest', () => {
    assert.deepEqual(policy({ max_requests: 2 }).circuitBreakers, { ...DEFAULT_THRESHOLDS, maxRequests: 2 });
    const problems: string[] = [];
    assert.equal(clusterPolicyOf({ circuit_breakers: { thresholds: [{ priority: 'HIGH', max_requests: 1 }] } }, problems).circuitBreakers, DEFAULT_THRESHOLDS);
    assert.equal(problems.length, 1);
  });

  test('max_requests: admission stops at the number of requests in flight', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(1), undefined, policy({ max_requests: 2 }));
    assert.equal(c.admitRequest(), true);
    c.stats.upstream_rq_active = 2;
    assert.equal(c.admitRequest(), false);
    c.stats.upstream_rq_active = 1;
    assert.equal(c.admitRequest(), true);
    c.close();
  });

  test('max_retries: retries in flight are capped; a retry budget replaces the cap', () => {
    const capped = new Cluster('c', 1000, SETTINGS, hostsAt(1), undefined, policy({ max_retries: 1 }));
    assert.equal(capped.admitRetry(), true);
    capped.retriesActive = 1;
    assert.equal(capped.admitRetry(), false);
    const budget = new Cluster('b', 1000, SETTINGS, hostsAt(1), undefined, policy({ retry_budget: { budget_percent: { value: 50 }, min_retry_concurrency: 2 } }));
    budget.retriesActive = 2;
    assert.equal(budget.admitRetry(), false, 'the floor: min_retry_concurrency');
    budget.stats.upstream_rq_active = 10;
    assert.equal(budget.admitRetry(), true, '50% of 10 active requests');
    budget.retriesActive = 5;
    assert.equal(budget.admitRetry(), false);
    capped.close();
    budget.close();
  });

  test('max_connections: a pool opens no connection past the cluster’s limit, and the overflow is counted', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(1), undefined, policy({ max_connections: 2 }));
    const pool = c.hosts[0]!.pool(dubbo, codecCtx, '');
    for (let i = 0; i < 4; i++) pool.pick();
    assert.equal(c.hosts[0]!.connectionCount(), 2);
    assert.ok(c.stats.upstream_cx_overflow >= 1);
    c.close();
  });

  test('max_pending_requests: requests queued on connecting connections count as pending', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(1), undefined, policy({ max_pending_requests: 2 }));
    assert.equal(c.maxPendingRequests, 2);
    const conn = c.hosts[0]!.pool(dubbo, codecCtx, '').pick();
    const request = (id: number): UpstreamRequest => ({
      request: dubboRequestMessage(id),
      requestMutation: null,
      onUpstreamResponse: () => undefined,
      onUpstreamFailure: () => undefined,
      pauseSource: () => undefined,
      resumeSource: () => undefined,
    });
    // The connection is not up before this turn ends: what is sent now waits in its queue.
    conn.send(request(1));
    conn.send(request(2));
    assert.equal(c.pendingRequests(), 2);
    assert.ok(c.pendingRequests() >= c.maxPendingRequests, 'the next request would overflow');
    c.close();
  });
});

describe('host choice', () => {
  test('round robin spreads; another host than the one to avoid is picked when there is one', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(2));
    const first = c.pick(ctx());
    assert.equal(first.kind, 'host');
    const avoid = first.kind === 'host' ? first.host : undefined;
    for (let i = 0; i < 6; i++) {
      const p = c.pick(ctx({ avoid }));
      assert.ok(p.kind === 'host' && p.host !== avoid);
    }
    c.close();
  });

  test('a hashing balancer sends equal hash values to one host, also when asked to avoid it', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(4), { policy: 'RING_HASH' });
    const pickFor = (user: string, avoid?: Host): string => {
      const p = c.pick(ctx({ metadata: metadataOf({ user }), hashKeys: ['user'], avoid }));
      assert.equal(p.kind, 'host');
      return p.kind === 'host' ? p.host.id : '';
    };
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    const first = users.map((u) => pickFor(u));
    assert.deepEqual(users.map((u) => pickFor(u)), first, 'stable per key');
    assert.ok(new Set(first).size > 1, 'keys spread over hosts');
    const h = c.hosts.find((x) => x.id === first[0])!;
    assert.equal(pickFor(users[0]!, h), first[0], 'the hash wins over the host to avoid');
    c.close();
  });

  test('a subset keeps to the hosts with every label; an empty subset has no host', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(4, (i) => ({ version: i < 2 ? 'v1' : 'v2' })));
    const v2 = { key: 'v2', entries: [['version', 'v2']] as const };
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const p = c.pick(ctx({ subset: v2 }));
      assert.equal(p.kind, 'host');
      if (p.kind === 'host') seen.add(p.host.labels['version']!);
    }
    assert.deepEqual([...seen], ['v2']);
    assert.equal(c.pick(ctx({ subset: { key: 'v9', entries: [['version', 'v9']] } })).kind, 'no-host');
    c.close();
  });

  test('a pick allocates no result: each host hands out its own', () => {
    const c = new Cluster('c', 1000, SETTINGS, hostsAt(1));
    assert.equal(c.pick(ctx()), c.pick(ctx()));
    c.close();
  });
});

function dubboRequestMessage(id: number): Message {
  const frame = Buffer.alloc(16);
  frame.writeUInt16BE(0xdabb, 0);
  frame[2] = 0xc2;
  frame.writeBigUInt64BE(BigInt(id), 4);
  frame.writeUInt32BE(0, 12);
  return {
    type: MessageType.Request,
    requestId: id,
    streamId: 0,
    frame,
    headerSize: 16,
    bodySize: 0,
    status: 0,
    operationName: '',
    metadata: EMPTY_METADATA,
    upstreamKey: '',
  };
}
