/**
 * envoy.filters.network.tcp_proxy on 127.0.0.1: bytes copied untouched both ways, a FIN
 * passed on while the other direction keeps flowing, backpressure on a slow reader, weighted
 * clusters, the idle timeout, upstream_bind_config, the BlackHole cluster, Envoy's stat
 * names, and the access log. Several filter chains on one listener are told apart by
 * source_prefix_ranges (the client binds 127.0.0.x).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { bootstrapOf, staticCluster } from '../helpers/bootstrap.js';

const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-tcp-proxy-'));
const accessLogPath = path.join(dir, 'tcp.log');

function tcpChain(name: string, proxy: Record<string, unknown>, match?: object): object {
  return {
    name,
    ...(match !== undefined ? { filter_chain_match: match } : {}),
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, ...proxy } }],
  };
}

const from = (ip: string): object => ({ source_prefix_ranges: [{ address_prefix: ip, prefix_len: 32 }] });

/** A tcp_proxy chain to cluster `a` behind a network RBAC that allows only 127.0.0.10. */
function guardedChain(name: string, match: object): object {
  const rbac = {
    name: 'envoy.filters.network.rbac',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
      stat_prefix: 'tcp.guard.',
      rules: { action: 'ALLOW', policies: { 'only-10': { permissions: [{ any: true }], principals: [{ direct_remote_ip: { address_prefix: '127.0.0.10', prefix_len: 32 } }] } } },
    },
  };
  const chain = tcpChain(name, { stat_prefix: name, cluster: 'a' }, match) as { filters: object[] };
  return { ...chain, filters: [rbac, ...chain.filters] };
}

/** An upstream that answers with its name, then echoes until the client's FIN, then ends. */
async function echoServer(name: string, seen: string[]): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    seen.push(s.remoteAddress ?? '');
    s.write(`${name}:`);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Connects from `local`, sends `data`, half-closes, and collects everything until the proxy's FIN. */
async function exchange(port: number, local: string, data: Buffer | string): Promise<{ text: string; bytes: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ port, host: '127.0.0.1', localAddress: local, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    c.on('data', (b: Buffer) => chunks.push(b));
    c.on('end', () => {
      ended = true;
      c.end();
    });
    c.on('close', () => {
      const bytes = Buffer.concat(chunks);
      resolve({ text: bytes.toString('latin1'), bytes, ended });
    });
    c.on('error', reject);
    c.on('connect', () => c.end(data));
  });
}

describe('tcp_proxy', () => {
  let m: RunningMeltemi;
  const seenA: string[] = [];
  const seenB: string[] = [];
  let a: net.Server;
  let b: net.Server;
  let slowSink: net.Server;
  let slowGot = createHash('sha256');
  let slowBytes = 0;
  let slowDone: () => void = () => undefined;

  before(async () => {
    a = await echoServer('A', seenA);
    b = await echoServer('B', seenB);
    // Reads 64 KiB every 5 ms: far slower than the client writes.
    slowSink = net.createServer((s) => {
      s.pause();
      const t = setInterval(() => {
        let chunk: Buffer | null;
        let read = 0;
        while (read < 65536 && (chunk = s.read() as Buffer | null) !== null) {
          slowGot.update(chunk);
          slowBytes += chunk.length;
          read += chunk.length;
        }
      }, 5);
      s.on('end', () => {
        clearInterval(t);
        slowDone();
      });
      s.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => slowSink.listen(0, '127.0.0.1', r));
    const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;
    const listener = {
      name: 'tcp',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [
        tcpChain('weighted', { stat_prefix: 'weighted', weighted_clusters: { clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }] } }, from('127.0.0.2')),
        tcpChain('blackhole', { stat_prefix: 'BlackHoleCluster', cluster: 'BlackHoleCluster' }, from('127.0.0.3')),
        tcpChain('idle', { stat_prefix: 'idle', cluster: 'a', idle_timeout: '0.2s' }, from('127.0.0.4')),
        tcpChain('bound', { stat_prefix: 'bound', cluster: 'a_from_127_0_0_6' }, from('127.0.0.5')),
        tcpChain('slow', { stat_prefix: 'slow', cluster: 'slow' }, from('127.0.0.7')),
        tcpChain('missing', { stat_prefix: 'missing', cluster: 'nowhere' }, from('127.0.0.8')),
        // istiod's shape for an AuthorizationPolicy on a pass-through chain: network RBAC, then tcp_proxy.
        guardedChain('guard-9', from('127.0.0.9')),
        guardedChain('guard-10', from('127.0.0.10')),
      ],
      default_filter_chain: tcpChain('default', {
        stat_prefix: 'echo_a',
        cluster: 'a',
        access_log: [{ name: 'envoy.access_loggers.file', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: accessLogPath, log_format: { text_format_source: { inline_string: '%UPSTREAM_CLUSTER% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_FLAGS% %UPSTREAM_HOST%\n' } } } }],
      }),
    };
    m = await startMeltemi(
      bootstrapOf(
        [listener],
        [
          staticCluster('a', [port(a)]),
          staticCluster('b', [port(b)]),
          staticCluster('slow', [port(slowSink)]),
          { ...staticCluster('a_from_127_0_0_6', [port(a)]), upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } },
          { name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '1s' },
        ],
      ),
    );
  });

  after(async () => {
    await m.close();
    for (const s of [a, b, slowSink]) s.close();
  });

  test('bytes pass untouched; the client FIN reaches the upstream and its answer still comes back', async () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
    const r = await exchange(m.listenerPort('tcp'), '127.0.0.1', payload);
    assert.equal(r.ended, true);
    assert.equal(r.bytes.subarray(0, 2).toString(), 'A:');
    assert.deepEqual(r.bytes.subarray(2), payload, 'every byte, in order, after the client half-closed');
  });

  test('weighted clusters spread connections over both', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 30 && names.size < 2; i++) names.add((await exchange(m.listenerPort('tcp'), '127.0.0.2', 'x')).text.slice(0, 1));
    assert.deepEqual([...names].sort(), ['A', 'B']);
  });

  test('BlackHoleCluster (STATIC, no endpoints) closes the connection; a missing cluster too', async () => {
    const r = await exchange(m.listenerPort('tcp'), '127.0.0.3', 'hello');
    assert.equal(r.bytes.length, 0);
    const r2 = await exchange(m.listenerPort('tcp'), '127.0.0.8', 'hello');
    assert.equal(r2.bytes.length, 0);
    const snap = m.server.statsSnapshot();
    assert.equal(snap.counters['tcp.BlackHoleCluster.downstream_cx_no_route'], 1);
    assert.equal(snap.counters['cluster.BlackHoleCluster.upstream_cx_none_healthy'], 1);
    assert.equal(snap.counters['tcp.missing.downstream_cx_no_route'], 1);
  });

  test('upstream_bind_config: the upstream sees 127.0.0.6', async () => {
    const before = seenA.length;
    const r = await exchange(m.listenerPort('tcp'), '127.0.0.5', 'bound');
    assert.equal(r.text, 'A:bound');
    assert.equal(seenA[before], '127.0.0.6');
  });

  test('idle_timeout closes a silent connection and counts it', async () => {
    const c = net.connect({ port: m.listenerPort('tcp'), host: '127.0.0.1', localAddress: '127.0.0.4' });
    c.on('data', () => undefined);
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      c.on('close', () => resolve());
      c.on('error', reject);
      setTimeout(() => reject(new Error('not closed after 5 s')), 5000).unref();
    });
    assert.ok(Date.now() - t0 >= 150, `closed after ${Date.now() - t0} ms`);
    assert.equal(m.server.statsSnapshot().counters['tcp.idle.idle_timeout'], 1);
  });

  test('backpressure: 16 MiB to a slow reader arrive whole, and downstream reading was paused', async () => {
    slowGot = createHash('sha256');
    slowBytes = 0;
    const done = new Promise<void>((r) => (slowDone = r));
    const sent = createHash('sha256');
    const c = net.connect({ port: m.listenerPort('tcp'), host: '127.0.0.1', localAddress: '127.0.0.7' });
    await new Promise<void>((r) => c.on('connect', () => r()));
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 64; i++) {
      chunk.fill(i);
      sent.update(chunk);
      if (!c.write(chunk)) await new Promise<void>((r) => c.once('drain', () => r()));
    }
    c.end();
    await done;
    c.destroy();
    assert.equal(slowBytes, 64 * 256 * 1024);
    assert.equal(slowGot.digest('hex'), sent.digest('hex'));
    const snap = m.server.statsSnapshot();
    assert.ok((snap.counters['tcp.slow.downstream_flow_control_paused_reading_total'] ?? 0) > 0, 'reading was paused');
    assert.equal(snap.counters['tcp.slow.downstream_flow_control_resumed_reading_total'], snap.counters['tcp.slow.downstream_flow_control_paused_reading_total']);
  });

  test('network RBAC in front of tcp_proxy: an allowed client is passed through, a denied one closed before any byte goes upstream', async () => {
    const before = seenA.length;
    const allowed = await exchange(m.listenerPort('tcp'), '127.0.0.10', 'hi');
    assert.equal(allowed.text, 'A:hi');
    const denied = await exchange(m.listenerPort('tcp'), '127.0.0.9', 'hi');
    assert.equal(denied.text, '', 'a denied connection gets nothing back');
    assert.equal(seenA.length, before + 1, 'only the allowed connection reached the upstream');
    const snap = m.server.statsSnapshot();
    assert.equal(snap.counters['tcp.guard.rbac.allowed'], 1);
    assert.equal(snap.counters['tcp.guard.rbac.denied'], 1);
    assert.equal(snap.counters['tcp.guard-9.downstream_cx_total'] ?? 0, 0, 'no tcp_proxy session for the denied client');
  });

  test("Envoy's stat names and the access log line", async () => {
    await exchange(m.listenerPort('tcp'), '127.0.0.1', 'abc');
    // The client saw its close; the proxy's side of it may end a moment later (then it logs).
    for (let i = 0; i < 200 && (m.server.statsSnapshot().gauges['tcp.echo_a.downstream_cx_active'] ?? 0) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await m.server.flushObservability();
    const snap = m.server.statsSnapshot();
    assert.ok((snap.counters['tcp.echo_a.downstream_cx_total'] ?? 0) >= 2);
    assert.ok((snap.counters['tcp.echo_a.downstream_cx_rx_bytes_total'] ?? 0) >= 5003);
    assert.ok((snap.counters['tcp.echo_a.downstream_cx_tx_bytes_total'] ?? 0) >= 5005);
    assert.equal(snap.gauges['tcp.echo_a.downstream_cx_active'], 0);
    // The sink writes asynchronously (sonic-boom): a line may reach the file just after a flush.
    let lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      lines = readFileSync(accessLogPath, 'utf8').trim().split('\n');
      if (lines.length >= 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(lines[0]!, /^a 5000 5002 - 127\.0\.0\.1:\d+$/);
    assert.match(lines[lines.length - 1]!, /^a 3 5 - 127\.0\.0\.1:\d+$/);
  });
});
