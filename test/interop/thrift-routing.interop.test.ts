/**
 * Routing, local errors and sharing of upstream connections with real Thrift peers:
 * by method, by multiplexed service, weighted split, no route (a TApplicationException the
 * client raises at once), THeader request mutation, and many concurrent seqid-0 callers
 * (Debian python3-thrift) multiplexed onto few upstream connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi, type RunningMeltemi } from '../helpers/meltemi.js';
import {
  ensurePeersBuilt,
  runCppClient,
  runNodeClient,
  runPyClient,
  runPyClients,
  startServer,
  type CallResult,
  type RunningPeer,
} from './peers/thrift/peers.js';
import { thriftListener } from './thrift-peers-setup.js';

function ok(r: CallResult | undefined): unknown {
  assert.ok(r !== undefined && 'ok' in r, JSON.stringify(r));
  return r.ok;
}

function appError(r: CallResult | undefined): { type?: number; message: string } {
  assert.ok(r !== undefined && 'error' in r && r.error.name === 'TApplicationException', JSON.stringify(r));
  return r.error;
}

describe('thrift routing through the proxy', () => {
  const s: Record<string, RunningPeer> = {};
  let proxy: RunningMeltemi;

  before(async () => {
    ensurePeersBuilt();
    s['echo'] = await startServer({ kind: 'py', transport: 'framed', protocol: 'binary', name: 'echo-srv' });
    s['add'] = await startServer({ kind: 'node', transport: 'framed', protocol: 'binary', name: 'add-srv' });
    s['svcA'] = await startServer({ kind: 'py', transport: 'buffered', protocol: 'compact', name: 'svcA', services: ['A', 'B'] });
    s['svcB'] = await startServer({ kind: 'node', transport: 'buffered', protocol: 'compact', name: 'svcB', services: ['A', 'B'] });
    s['w1'] = await startServer({ kind: 'py', transport: 'framed', protocol: 'compact', name: 'w1' });
    s['w2'] = await startServer({ kind: 'py', transport: 'framed', protocol: 'compact', name: 'w2' });
    s['hdr'] = await startServer({ kind: 'py', transport: 'header', protocol: 'binary', name: 'hdr' });
    s['many'] = await startServer({ kind: 'py', transport: 'framed', protocol: 'binary', name: 'many' });
    s['manyh'] = await startServer({ kind: 'py', transport: 'header', protocol: 'compact', name: 'manyh' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          thriftListener('by-method', [
            { name: 'echo', match: { method: 'echo' }, cluster: 'echo' },
            { name: 'add', match: { method: 'add' }, cluster: 'add' },
          ]),
          thriftListener('by-service', [
            { name: 'a', match: { service: 'A' }, cluster: 'svcA' },
            { name: 'b', match: { service: 'B' }, cluster: 'svcB' },
          ]),
          thriftListener('weighted', [{ name: 'split', weighted: { w1: 50, w2: 50 } }]),
          thriftListener('mutation', [{ name: 'all', cluster: 'hdr', requestMutation: { 'x-added': 'by-meltemi' } }]),
          thriftListener('nothing', [{ name: 'only', match: { method: 'nope' }, cluster: 'echo' }]),
          thriftListener('many', [{ name: 'all', cluster: 'many' }]),
          thriftListener('manyh', [{ name: 'all', cluster: 'manyh' }]),
        ],
        Object.entries(s).map(([name, peer]) => staticCluster(name, [peer.port])),
      ),
    );
  });
  after(async () => {
    await proxy?.close();
    await Promise.all(Object.values(s).map((p) => p.close()));
  });

  test('routes by method; a method with no route fails at once with UNKNOWN_METHOD', async () => {
    const port = proxy.listenerPort('by-method');
    const started = Date.now();
    const node = await runNodeClient({ port, transport: 'framed', protocol: 'binary', calls: [['echo', 'm'], ['add', 1, 2], ['getPair', 'abc'], ['echo', 'again']] });
    assert.equal(ok(node[0]), 'm@echo-srv');
    assert.equal(ok(node[1]), 3);
    const e = appError(node[2]);
    assert.equal(e.type, 1);
    assert.equal(ok(node[3]), 'again@echo-srv', 'the connection survives the local error');
    const py = await runPyClient({ port, transport: 'framed', protocol: 'binary', calls: [['getPair', 'abc'], ['echo', 'p']] });
    assert.equal(appError(py[0]).type, 1);
    assert.equal(ok(py[1]), 'p@echo-srv');
    assert.ok(Date.now() - started < 4000, 'errors came back at once, not after a timeout');
  });

  test('routes by multiplexed service (python and npm thrift multiplexed clients)', async () => {
    const port = proxy.listenerPort('by-service');
    const a = await runPyClient({ port, transport: 'buffered', protocol: 'compact', calls: [['echo', 'x'], ['add', 2, 3]], service: 'A' });
    assert.deepEqual(a.map(ok), ['x@svcA', 5]);
    const b = await runPyClient({ port, transport: 'buffered', protocol: 'compact', calls: [['echo', 'y']], service: 'B' });
    assert.deepEqual(b.map(ok), ['y@svcB']);
    const nb = await runNodeClient({ port, transport: 'buffered', protocol: 'compact', calls: [['echo', 'z'], ['getPair', 'bad']], service: 'B' });
    assert.equal(ok(nb[0]), 'z@svcB');
    assert.deepEqual(nb[1], { error: { name: 'EchoError', message: 'no such key', code: 42 } });
    // No route for service C: the multiplexed npm client gets the error for the bare method.
    const nc = await runNodeClient({ port, transport: 'buffered', protocol: 'compact', calls: [['echo', 'q'], ['add', 1, 1]], service: 'C' });
    assert.equal(appError(nc[0]).type, 1);
    assert.equal(appError(nc[1]).type, 1);
    const pc = await runPyClient({ port, transport: 'buffered', protocol: 'compact', calls: [['echo', 'q']], service: 'C' });
    assert.equal(appError(pc[0]).type, 1);
  });

  test('weighted split between two clusters', async () => {
    const port = proxy.listenerPort('weighted');
    const calls: Array<[string, string]> = Array.from({ length: 10 }, (_, i) => ['echo', `t{t}-${i}`]);
    const results = await runPyClients({ port, transport: 'framed', protocol: 'compact', calls }, 8);
    const by = { w1: 0, w2: 0 };
    results.forEach((thread, t) =>
      thread.forEach((r, i) => {
        const v = String(ok(r));
        const [msg, srv] = v.split('@');
        assert.equal(msg, `t${t}-${i}`);
        by[srv as 'w1' | 'w2']++;
      }),
    );
    assert.equal(by.w1 + by.w2, 80);
    assert.ok(by.w1 >= 15 && by.w2 >= 15, `both clusters get traffic: ${JSON.stringify(by)}`);
  });

  test('no route: C++ THeader clients (binary and compact) get TApplicationExceptions at once', async () => {
    for (const p of ['binary', 'compact'] as const) {
      const r = await runCppClient(proxy.listenerPort('nothing'), p);
      assert.equal(r.length, 7, JSON.stringify(r));
      for (const i of [0, 1, 2, 3, 5, 6]) assert.equal(appError(r[i]).type, 1, `call ${i}`);
      assert.deepEqual(r[4], { ok: null }, 'one-way: no reply expected, none sent');
    }
    const py = await runPyClient({ port: proxy.listenerPort('nothing'), transport: 'header', protocol: 'compact', calls: [['echo', 'x'], ['add', 1, 2]] });
    assert.equal(appError(py[0]).type, 1);
    assert.equal(appError(py[1]).type, 1);
  });

  test('THeader request mutation reaches the server as an info header', async () => {
    const r = await runPyClient({
      port: proxy.listenerPort('mutation'),
      transport: 'header',
      protocol: 'binary',
      calls: [['echo', '!header:x-added'], ['echo', '!header:x-trace']],
      headers: { 'x-trace': 'keep-me' },
    });
    assert.deepEqual(r.map(ok), ['by-meltemi', 'keep-me']);
  });

  for (const [listener, transport, protocol] of [
    ['many', 'framed', 'binary'],
    ['manyh', 'header', 'compact'],
  ] as const) {
    test(`32 concurrent python callers (all seqid 0) share few upstream connections (${transport}/${protocol})`, async () => {
      const port = proxy.listenerPort(listener);
      const calls: Array<[string, ...Array<string | number>]> = [['echo', 'c{t}-a'], ['add', 20, 22], ['echo', 'c{t}-b'], ['getPair', 'k{t}']];
      const results = await runPyClients({ port, transport, protocol, calls }, 32);
      assert.equal(results.length, 32);
      results.forEach((r, t) => {
        assert.deepEqual(r.map(ok), [`c${t}-a@${listener}`, 42, `c${t}-b@${listener}`, { key: `k${t}`, value: `k${t}`.length }]);
      });
      const conns = Number(ok((await runPyClient({ port, transport, protocol, calls: [['echo', '!conns']] }))[0]));
      assert.ok(conns >= 1 && conns < 32, `upstream connections: ${conns}`);
    });
  }
});
