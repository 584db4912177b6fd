/**
 * The filter SPI, version 2, through a real listener: onComplete is called once per
 * exchange on every way an exchange ends, in reverse filter order, with the outcome and
 * what the exchange did; response filters run in reverse order; filters keep stats through
 * FilterContext and the proxy shows them. Upstreams are the fault double (resets, silence,
 * error replies) and a port nobody listens on.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { ExchangeCompletion, Filter, FilterContext, FilterExchange, FilterFactory } from '../../filters/api/index.js';
import { findFilter, registerFilter } from '../../proxy/filter-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';

/** What the recording filters saw, in order, per request id. */
const events = new Map<bigint, string[]>();
/** The completions, per request id (copied: a hook must not keep `info`). */
const completions = new Map<bigint, { filter: string; outcome: string; errorType: ErrorType | undefined; info: Record<string, unknown> }[]>();

function note(ex: FilterExchange, what: string): void {
  const id = BigInt(ex.downstreamRequestId);
  let list = events.get(id);
  if (list === undefined) events.set(id, (list = []));
  list.push(what);
}

/** A filter that records every hook under its name; `deny` answers locally, `throw` throws in onComplete. */
function recorder(name: string, context: FilterContext): Filter {
  const seen = context.stats.scope(`spi_${name}`).counter('completed');
  const byOutcome = (outcome: string): void => context.stats.scope(`spi_${name}`).counter('outcome', [['outcome', outcome]]).inc();
  return {
    onRequest(ex) {
      note(ex, `${name}.request`);
      if (name === 'a' && ex.metadata.get('method') === 'deny') {
        ex.sendLocalReply(ErrorType.Unauthorized, 'denied by the test filter');
        return FilterStatus.Stop;
      }
      return FilterStatus.Continue;
    },
    onResponse(ex) {
      note(ex, `${name}.response`);
    },
    onComplete(c: ExchangeCompletion) {
      const id = BigInt(c.metadata.get('x-id') ?? '-1');
      let list = completions.get(id);
      if (list === undefined) completions.set(id, (list = []));
      list.push({
        filter: name,
        outcome: c.outcome,
        errorType: c.errorType,
        info: {
          durationMs: c.durationMs,
          upstreamLatencyMs: c.upstreamLatencyMs,
          upstreamCluster: c.upstreamCluster,
          upstreamHost: c.upstreamHost,
          routeName: c.routeName,
          requestBytes: c.requestBytes,
          responseBytes: c.responseBytes,
          responseStatus: c.responseStatus,
          operationName: c.operationName,
          downstreamRemoteAddress: c.downstreamRemoteAddress,
        },
      });
      seen.inc();
      byOutcome(c.outcome);
      if (name === 'b' && c.metadata.get('method') === 'throwOnComplete') throw new Error('test filter: onComplete threw');
    },
  };
}

const factory = (name: string): FilterFactory => ({ name: `test.spi.${name}`, create: (_config, context) => () => recorder(name, context) });

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('filter SPI v2 through a listener', () => {
  let echo: FaultUpstream;
  let errors: FaultUpstream;
  let resets: FaultUpstream;
  let blackhole: FaultUpstream;
  let proxy: RunningMeltemi;
  let client: RawDubboClient;

  before(async () => {
    for (const n of ['a', 'b']) if (findFilter(`test.spi.${n}`) === undefined) registerFilter(factory(n));
    [echo, errors, resets, blackhole] = await Promise.all([startFaultUpstream('echo'), startFaultUpstream('error-reply'), startFaultUpstream('reset'), startFaultUpstream('blackhole')]);
    const closed = await freePort();
    const listener = metaProtocolListener({
      routes: [
        { name: 'ok', match: { method: 'ok' }, cluster: 'echo' },
        { name: 'throwOnComplete', match: { method: 'throwOnComplete' }, cluster: 'echo' },
        { name: 'deny', match: { method: 'deny' }, cluster: 'echo' },
        { name: 'err', match: { method: 'err' }, cluster: 'errors' },
        { name: 'reset', match: { method: 'reset' }, cluster: 'resets' },
        { name: 'slow', match: { method: 'slow' }, cluster: 'blackhole', timeout: '0.1s' },
        { name: 'hang', match: { method: 'hang' }, cluster: 'blackhole', timeout: '0s' },
        { name: 'refused', match: { method: 'refused' }, cluster: 'closed' },
        { name: 'nocluster', match: { method: 'nocluster' }, cluster: 'missing' },
      ],
      extra: { meta_protocol_filters: [{ name: 'test.spi.a' }, { name: 'test.spi.b' }, { name: 'aeraki.meta_protocol.filters.router' }] },
    });
    proxy = await startMeltemi(
      bootstrapOf(
        [listener],
        [staticCluster('echo', [echo.port]), staticCluster('errors', [errors.port]), staticCluster('resets', [resets.port]), staticCluster('blackhole', [blackhole.port]), staticCluster('closed', [closed])],
      ),
    );
    client = await RawDubboClient.connect(proxy.listenerPort('main'));
  });
  after(async () => {
    client?.close();
    await proxy?.close();
    await Promise.all([echo, errors, resets, blackhole].map((u) => u?.close()));
  });

  /** Sends one request and waits until both filters' onComplete ran for it. */
  async function exchange(id: number, method: string, twoWay = true): Promise<void> {
    client.write(dubboRequest({ id, method, twoWay, attachments: { 'x-id': String(id) } }));
    await client.until(() => (completions.get(BigInt(id))?.length ?? 0) >= 2, 5000, `onComplete for ${method}`);
  }

  const outcomes: [number, string, string, ErrorType | undefined][] = [
    [1, 'ok', 'success', undefined],
    [2, 'err', 'error', undefined],
    [3, 'deny', 'local-reply', ErrorType.Unauthorized],
    [4, 'nowhere', 'local-reply', ErrorType.RouteNotFound],
    [5, 'nocluster', 'local-reply', ErrorType.ClusterNotFound],
    [6, 'slow', 'timeout', ErrorType.Timeout],
    [7, 'reset', 'reset', ErrorType.UpstreamReset],
    [8, 'refused', 'upstream-failure', ErrorType.NoHealthyUpstream],
  ];

  test('onComplete: once per exchange, on every outcome, in reverse filter order', async () => {
    for (const [id, method] of outcomes) await exchange(id, method);
    // A late second call would land here: give it a turn of the event loop to show.
    await new Promise((r) => setTimeout(r, 50));
    for (const [id, method, outcome, errorType] of outcomes) {
      const got = completions.get(BigInt(id))!;
      assert.deepEqual(
        got.map((c) => [c.filter, c.outcome, c.errorType]),
        [
          ['b', outcome, errorType],
          ['a', outcome, errorType],
        ],
        `${method}: b then a, once each`,
      );
    }
  });

  test('a one-way request and a client that goes away end in onComplete too', async () => {
    await exchange(20, 'ok', false);
    assert.deepEqual(completions.get(20n)!.map((c) => c.outcome), ['oneway', 'oneway']);
    const gone = await RawDubboClient.connect(proxy.listenerPort('main'));
    const upstreamBefore = blackhole.received.length;
    gone.write(dubboRequest({ id: 21, method: 'hang', attachments: { 'x-id': '21' } }));
    await gone.until(() => blackhole.received.length > upstreamBefore, 3000, 'the request upstream');
    gone.close();
    await client.until(() => (completions.get(21n)?.length ?? 0) >= 2, 5000, 'onComplete after the client left');
    assert.deepEqual(completions.get(21n)!.map((c) => c.outcome), ['downstream-disconnect', 'downstream-disconnect']);
  });

  test('the completion tells the route, upstream, sizes and timing', () => {
    const ok = completions.get(1n)![0]!.info;
    assert.equal(ok['routeName'], 'ok');
    assert.equal(ok['upstreamCluster'], 'echo');
    assert.equal(ok['upstreamHost'], `127.0.0.1:${echo.port}`);
    assert.equal(ok['requestBytes'], dubboRequest({ id: 1, method: 'ok', attachments: { 'x-id': '1' } }).length);
    assert.ok((ok['responseBytes'] as number) > 16, 'a response with a body');
    assert.equal(ok['responseStatus'], 0);
    assert.match(String(ok['operationName']), /ok/);
    assert.ok((ok['durationMs'] as number) >= (ok['upstreamLatencyMs'] as number) && (ok['upstreamLatencyMs'] as number) >= 0, JSON.stringify(ok));
    assert.match(String(ok['downstreamRemoteAddress']), /^127\.0\.0\.1:\d+$/);
    const noRoute = completions.get(4n)![0]!.info;
    assert.equal(noRoute['upstreamCluster'], undefined);
    assert.equal(noRoute['upstreamLatencyMs'], undefined, 'nothing went upstream');
    assert.ok((noRoute['responseBytes'] as number) > 0, 'the local reply was written');
  });

  test('response filters run in reverse order: the router, then b, then a', async () => {
    await exchange(30, 'ok');
    assert.deepEqual(events.get(30n), ['a.request', 'b.request', 'b.response', 'a.response']);
  });

  test('a throwing onComplete is counted and logged; the other hooks and the connection go on', async () => {
    const key = 'meta_protocol.dubbo.main.internal_error';
    const before = proxy.server.statsSnapshot().counters[key] ?? 0;
    await exchange(40, 'throwOnComplete');
    assert.deepEqual(completions.get(40n)!.map((c) => [c.filter, c.outcome]), [
      ['b', 'success'],
      ['a', 'success'],
    ]);
    assert.equal(proxy.server.statsSnapshot().counters[key], before + 1);
    assert.equal(client.frames.find((f) => f.id === 40n)?.status, 20, 'the client had its answer');
    await exchange(41, 'ok');
    assert.equal(client.frames.find((f) => f.id === 41n)?.status, 20);
  });

  test("filters' stats show under the listener's prefix, with tags", () => {
    const counters = proxy.server.statsSnapshot().counters;
    const total = completions.size;
    assert.equal(counters['meta_protocol.dubbo.main.spi_a.completed'], total);
    assert.equal(counters['meta_protocol.dubbo.main.spi_b.completed'], total);
    assert.equal(counters['meta_protocol.dubbo.main.spi_a.outcome{outcome="timeout"}'], 1);
    assert.equal(counters['meta_protocol.dubbo.main.spi_a.outcome{outcome="local-reply"}'], 3);
  });
});
