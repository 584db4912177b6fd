/**
 * The global rate-limit filter without Redis: its wire encoding checked by protobufjs with
 * Envoy's rls.proto, its config as Aeraki generates it, and its batching, deadline and
 * answers against an in-process RLS double.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import { ErrorType } from '../../codecs/api/index.js';
import type { Metadata } from '../../codecs/api/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { ClusterHost, FilterExchange, RouteView } from '../../filters/api/index.js';
import { closeRlsChannels, rateLimitFilterFactory } from '../../filters/ratelimit/index.js';
import { GlobalRateLimiter, LEASE_MIN, LEASE_SHARE, LEASE_TTL_MS, REPORT_MS } from '../../filters/ratelimit/global-rate-limiter.js';
import { DEFAULT_BREAKER, RateLimitShared } from '../../filters/ratelimit/service-breaker.js';
import { parseRateLimitConfig } from '../../filters/ratelimit/config.js';
import { decodeResponse, encodeDomain, encodeRequest } from '../../filters/ratelimit/rls-wire.js';
import { ListenerFilterContext } from '../../proxy/observability/filter-context.js';
import { StatsRegistry } from '../../proxy/observability/stats-registry.js';
import { emptySnapshot } from '../../proxy/observability/stats-snapshot.js';
import { rlsServiceDefinition, rlsTypes } from '../../tools/testing/ratelimit/rls-service.js';

const types = rlsTypes();

describe('RLS wire encoding', () => {
  test('a request decodes with Envoy rls.proto: domain, one single-entry descriptor per key, hits_addend', () => {
    const bytes = encodeRequest(encodeDomain('production'), ['method', 'tenant'], ['sayHello', 'gölD'], 7);
    const req = types.request.toObject(types.request.decode(bytes), { longs: Number });
    assert.deepEqual(req, {
      domain: 'production',
      descriptors: [{ entries: [{ key: 'method', value: 'sayHello' }] }, { entries: [{ key: 'tenant', value: 'gölD' }] }],
      hits_addend: 7,
    });
    const one = types.request.toObject(types.request.decode(encodeRequest(encodeDomain('d'), ['k'], ['v'.repeat(300)], 1)), { longs: Number });
    assert.equal(one['hits_addend'], undefined, 'one hit leaves hits_addend unset (0 means 1)');
    assert.equal((one['descriptors'] as { entries: { value: string }[] }[])[0]!.entries[0]!.value.length, 300);
  });

  test('a response: overall code, the smallest limit_remaining and requests_per_unit; unknown fields skipped', () => {
    const msg = types.response.fromObject({
      overall_code: 2,
      statuses: [
        { code: 1, current_limit: { requests_per_unit: 100, unit: 1, name: 'x' }, limit_remaining: 40 },
        { code: 2, current_limit: { requests_per_unit: 10, unit: 2 }, limit_remaining: 0, duration_until_reset: { seconds: 3 } },
      ],
      response_headers_to_add: [{ key: 'a', value: 'b' }],
      raw_body: Buffer.from('zz'),
    });
    const answer = decodeResponse(types.response.encode(msg).finish());
    assert.deepEqual(answer, { code: 2, remaining: 0, limit: 10 });
    assert.deepEqual(decodeResponse(new Uint8Array(0)), { code: 0, remaining: undefined, limit: undefined });
  });

  test('a truncated response is an error, not a wrong answer', () => {
    const full = types.response.encode(types.response.fromObject({ overall_code: 1, statuses: [{ code: 1, limit_remaining: 5 }] })).finish();
    for (let n = 1; n < full.length; n++) {
      if (n === 2) continue; // overall_code alone is a complete message
      assert.throws(() => decodeResponse(full.subarray(0, n)), /RateLimitResponse/, `cut at ${n}`);
    }
  });
});

const aerakiConfig = {
  '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit',
  match: { metadata: [{ name: 'method', exactMatch: 'sayHello' }] },
  domain: 'production',
  timeout: '0s',
  failureModeDeny: true,
  rateLimitService: { grpcService: { envoyGrpc: { clusterName: 'outbound|8081||rate-limit-server.meta-dubbo.svc.cluster.local' } } },
  descriptors: [{ property: 'method', descriptorKey: 'method' }],
};

describe('ratelimit filter config', () => {
  test("Aeraki's generated config is accepted; timeout 0s means Envoy's 20 ms", () => {
    const cfg = parseRateLimitConfig(aerakiConfig);
    assert.equal(cfg.timeoutMs, 20);
    assert.equal(cfg.failureModeDeny, true);
    assert.equal(cfg.clusterName, 'outbound|8081||rate-limit-server.meta-dubbo.svc.cluster.local');
    assert.deepEqual(cfg.descriptors, [{ key: 'method', property: 'method' }]);
    assert.equal(parseRateLimitConfig({ ...aerakiConfig, timeout: '0.100s' }).timeoutMs, 100);
  });

  test('what cannot be honoured is refused, naming the field', () => {
    const bad = (patch: Record<string, unknown>, re: RegExp): void => assert.throws(() => parseRateLimitConfig({ ...aerakiConfig, ...patch }), re);
    bad({ rateLimitService: { grpcService: { googleGrpc: { targetUri: 'x:1' } } } }, /config.rate_limit_service.grpc_service.google_grpc: unknown field/);
    bad({ descriptors: [] }, /config.descriptors: needs at least 1/);
    bad({ domain: '' }, /config.domain/);
    bad({ '@type': 'type.googleapis.com/x.Y' }, /config.@type: expected type.googleapis.com\/aeraki/);
    bad({ rateLimitService: { grpcService: { envoyGrpc: { clusterName: 'c' } }, transportApiVersion: 'V2' } }, /transport_api_version/);
  });
});

/** An in-process RLS double (no Redis): answers by a function, counts calls and hits. */
interface DecodedRequest {
  hits_addend?: number;
  descriptors?: { entries: { key: string; value: string }[] }[];
}

async function startDouble(answer: (hits: number) => object | ServiceError | 'never'): Promise<{ port: number; hits: number[]; requests: DecodedRequest[]; stop(): void }> {
  const hits: number[] = [];
  const requests: DecodedRequest[] = [];
  const server = new Server();
  server.addService(
    rlsServiceDefinition(),
    {
      ShouldRateLimit: (call: ServerUnaryCall<DecodedRequest, object>, cb: sendUnaryData<object>) => {
        requests.push(call.request);
        const n = call.request.hits_addend || 1;
        hits.push(n);
        const a = answer(n);
        if (a === 'never') return;
        // A brief delay, so requests arriving meanwhile queue behind the call.
        setTimeout(() => ('code' in a && 'details' in a ? cb(a as ServiceError) : cb(null, a)), 5);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, hits, requests, stop: () => server.forceShutdown() };
}

interface FakeExchange extends FilterExchange {
  replies: { error: ErrorType; text: string }[];
}

function fakeExchange(id: number, md: Record<string, string>, host: ClusterHost | undefined, mutation?: Map<string, string>): FakeExchange {
  const metadata: Metadata = { get: (k) => md[k], entries: () => Object.entries(md) };
  const replies: { error: ErrorType; text: string }[] = [];
  const route = { requestMutation: mutation ?? null } as unknown as RouteView;
  return {
    request: {} as FilterExchange['request'],
    metadata,
    downstreamRequestId: id,
    response: undefined,
    downstreamRemoteAddress: '127.0.0.1:1',
    route: () => route,
    setRequestHeader: () => {},
    setResponseHeader: () => {},
    sendLocalReply: (error, text) => replies.push({ error, text }),
    forward: () => {},
    clusterHost: () => host,
    replies,
  };
}

/** Where the filters' stats go, as a server's would (the proxy binds each listener's filter context to it). */
const registry = new StatsRegistry();

function contextFor(statPrefix: string): ListenerFilterContext {
  const ctx = new ListenerFilterContext(statPrefix, 'unspecified');
  ctx.bind({ stats: registry, statsEnabled: true, node: { id: '', metadata: {} } });
  return ctx;
}

function counters(prefix: string): Record<string, number> {
  const snap = emptySnapshot();
  registry.collect(snap);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...snap.counters, ...snap.gauges })) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

describe('global rate limiter against an RLS double', () => {
  after(() => closeRlsChannels());
  const make = (prefix: string, extra: Record<string, unknown> = {}): ReturnType<ReturnType<typeof rateLimitFilterFactory.create>> => rateLimitFilterFactory.create({ ...aerakiConfig, timeout: '0.5s', failureModeDeny: false, ...extra }, contextFor(prefix))();

  test('requests it does not limit get a synchronous Continue, no promise and no call', async () => {
    const rls = await startDouble(() => ({ overall_code: 1 }));
    try {
      const f = make('unit.nomatch.');
      const host = { address: '127.0.0.1', port: rls.port };
      assert.equal(f.onRequest(fakeExchange(1, { method: 'other' }, host)), FilterStatus.Continue, 'no match');
      const noValue = make('unit.novalue.', { match: { metadata: [] }, descriptors: [{ property: 'tenant', descriptorKey: 'tenant' }] });
      assert.equal(noValue.onRequest(fakeExchange(2, { method: 'sayHello' }, host)), FilterStatus.Continue, 'no descriptor value');
      assert.deepEqual(rls.hits, []);
    } finally {
      rls.stop();
    }
  });

  test('requests arriving while a call is in flight share the next call as its hits_addend', async () => {
    // The double says 500 are left: enough to batch up to MAX_BATCH, too few for a lease
    // (LEASE_MIN * LEASE_SHARE), so every request waits for an answer.
    const rls = await startDouble((n) => ({ overall_code: 1, statuses: [{ code: 1, current_limit: { requests_per_unit: 10000, unit: 1 }, limit_remaining: 500 - n }] }));
    try {
      const f = make('unit.batch.');
      const host = { address: '127.0.0.1', port: rls.port };
      assert.equal(await f.onRequest(fakeExchange(1, { method: 'sayHello' }, host)), FilterStatus.Continue);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => f.onRequest(fakeExchange(i + 2, { method: 'sayHello' }, host))));
      assert.ok(results.every((r) => r === FilterStatus.Continue));
      assert.equal(rls.hits.reduce((a, b) => a + b, 0), 41, 'every request counted once');
      assert.ok(rls.hits.length <= 3, `41 requests in ${rls.hits.length} calls (${rls.hits.join(', ')})`);
      const c = counters('unit.batch.ratelimit.');
      assert.equal(c['total'], 41);
      assert.equal(c['ok'], 41);
      assert.equal(c['rls_calls'], rls.hits.length);
    } finally {
      rls.stop();
    }
  });

  test('plenty left: requests pass on a lease without waiting, and the service still counts every one', async () => {
    let left = 1_000_000;
    const rls = await startDouble((n) => {
      left -= n;
      return { overall_code: 1, statuses: [{ code: 1, current_limit: { requests_per_unit: 1_000_000, unit: 1 }, limit_remaining: left }] };
    });
    try {
      const f = make('unit.lease.');
      const host = { address: '127.0.0.1', port: rls.port };
      // The first request asks; the answer grants a lease (a hundredth of what is left, capped).
      assert.equal(await f.onRequest(fakeExchange(1, { method: 'sayHello' }, host)), FilterStatus.Continue);
      let sync = 0;
      for (let i = 2; i <= 200; i++) {
        const r = f.onRequest(fakeExchange(i, { method: 'sayHello' }, host));
        if (r === FilterStatus.Continue) sync++;
        else assert.equal(await r, FilterStatus.Continue);
      }
      assert.ok(sync >= 150, `${sync} of 199 requests passed at once on the lease`);
      // Their hits reach the service within REPORT_MS (plus the double's 5 ms answer).
      const deadline = Date.now() + 2000;
      while (rls.hits.reduce((a, b) => a + b, 0) < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, REPORT_MS));
      assert.equal(rls.hits.reduce((a, b) => a + b, 0), 200, 'every request counted once by the service');
      assert.ok(rls.hits.length < 20, `200 requests told in ${rls.hits.length} calls (${rls.hits.join(', ')})`);
      const c = counters('unit.lease.ratelimit.');
      assert.equal(c['total'], 200);
      assert.equal(c['ok'], 200);
      assert.equal(c['preadmitted'], sync);
      assert.equal(c['rls_calls'], rls.hits.length);
    } finally {
      rls.stop();
    }
  });

  test('no lease below LEASE_MIN * LEASE_SHARE left, nor after LEASE_TTL_MS', async () => {
    let left = LEASE_MIN * LEASE_SHARE - 1;
    const rls = await startDouble(() => ({ overall_code: 1, statuses: [{ code: 1, current_limit: { requests_per_unit: 1_000_000, unit: 1 }, limit_remaining: left }] }));
    try {
      const f = make('unit.nolease.');
      const host = { address: '127.0.0.1', port: rls.port };
      const ask = (id: number): FilterStatus | Promise<FilterStatus> => f.onRequest(fakeExchange(id, { method: 'sayHello' }, host));
      await ask(1);
      const small = ask(2);
      assert.ok(small instanceof Promise, 'too little left for a lease: the request waits for the service');
      await small;
      left = 1_000_000;
      await ask(3);
      // Leased (unless this machine stalled past the TTL since the answer: then it asks).
      const leased = ask(4);
      if (leased instanceof Promise) await leased;
      // Idle past the TTL (the leased hit's report, answered meanwhile, renewed it once).
      await new Promise((r) => setTimeout(r, LEASE_TTL_MS + REPORT_MS + 300));
      const lapsed = ask(5);
      assert.ok(lapsed instanceof Promise, 'the lease lapsed: the request asks again');
      await lapsed;
    } finally {
      rls.stop();
    }
  });

  test('a failed call ends the lease at once', async () => {
    let fail = false;
    const rls = await startDouble(() =>
      fail ? ({ code: status.UNAVAILABLE, details: 'down' } as ServiceError) : { overall_code: 1, statuses: [{ code: 1, current_limit: { requests_per_unit: 1_000_000, unit: 1 }, limit_remaining: 900_000 }] },
    );
    try {
      const cfg = parseRateLimitConfig({ ...aerakiConfig, timeout: '0.5s', failureModeDeny: false });
      // A lease that would hold for a minute: only the failure can end it here.
      const f = new GlobalRateLimiter(cfg, new RateLimitShared(contextFor('unit.leasefail.').stats.scope('ratelimit'), DEFAULT_BREAKER), 60_000);
      const host = { address: '127.0.0.1', port: rls.port };
      const ask = (id: number): FilterStatus | Promise<FilterStatus> => f.onRequest(fakeExchange(id, { method: 'sayHello' }, host));
      await ask(1);
      assert.equal(ask(2), FilterStatus.Continue, 'leased');
      fail = true;
      // The leased hit's report fails (REPORT_MS later); the next request must ask again.
      const deadline = Date.now() + 3000;
      while (rls.hits.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      const after = ask(3);
      assert.ok(after instanceof Promise, 'the failed report ended the lease');
      assert.equal(await after, FilterStatus.Continue, 'fail open');
    } finally {
      rls.stop();
    }
  });

  test('OVER_LIMIT answers every request of the call with the over-limit reply', async () => {
    const rls = await startDouble(() => ({ overall_code: 2, statuses: [{ code: 2, current_limit: { requests_per_unit: 1, unit: 1 }, limit_remaining: 0 }] }));
    try {
      const f = make('unit.over.');
      const ex = fakeExchange(9, { method: 'sayHello' }, { address: '127.0.0.1', port: rls.port });
      assert.equal(await f.onRequest(ex), FilterStatus.Stop);
      assert.deepEqual(ex.replies, [{ error: ErrorType.OverLimit, text: "meta protocol global ratelimit: request '9' has been rate limited" }]);
      assert.equal(counters('unit.over.ratelimit.')['over_limit'], 1);
    } finally {
      rls.stop();
    }
  });

  test('no answer within the timeout: fail open, or the over-limit reply with failure_mode_deny', async () => {
    const rls = await startDouble(() => 'never');
    try {
      const host = { address: '127.0.0.1', port: rls.port };
      const open = make('unit.deadline.', { timeout: '0.030s' });
      const t0 = performance.now();
      assert.equal(await open.onRequest(fakeExchange(1, { method: 'sayHello' }, host)), FilterStatus.Continue);
      const waited = performance.now() - t0;
      assert.ok(waited >= 29 && waited < 30 + 200, `waited ${waited.toFixed(1)} ms for a 30 ms timeout`);
      const deny = make('unit.deny.', { timeout: '0.030s', failureModeDeny: true });
      const ex = fakeExchange(2, { method: 'sayHello' }, host);
      assert.equal(await deny.onRequest(ex), FilterStatus.Stop);
      assert.equal(ex.replies[0]!.error, ErrorType.OverLimit);
      assert.match(ex.replies[0]!.text, /no answer within 30 ms; failure_mode_deny/);
      assert.deepEqual(
        [counters('unit.deadline.ratelimit.')['error'], counters('unit.deadline.ratelimit.')['failure_mode_allowed'], counters('unit.deny.ratelimit.')['failure_mode_allowed']],
        [1, 1, 0],
      );
    } finally {
      rls.stop();
    }
  });

  test('a service error fails open; a missing cluster or host is a ClusterNotFound reply', async () => {
    const rls = await startDouble(() => ({ code: status.UNAVAILABLE, details: 'redis down' }) as ServiceError);
    try {
      const f = make('unit.err.');
      assert.equal(await f.onRequest(fakeExchange(1, { method: 'sayHello' }, { address: '127.0.0.1', port: rls.port })), FilterStatus.Continue);
      assert.equal(counters('unit.err.ratelimit.')['error'], 1);
      const ex = fakeExchange(2, { method: 'sayHello' }, undefined);
      assert.equal(await f.onRequest(ex), FilterStatus.Stop);
      assert.equal(ex.replies[0]!.error, ErrorType.ClusterNotFound);
      assert.match(ex.replies[0]!.text, /rate limit service cluster 'outbound\|8081\|\|rate-limit-server/);
    } finally {
      rls.stop();
    }
  });

  test('descriptor values follow the route request mutation over the request metadata', async () => {
    const rls = await startDouble(() => ({ overall_code: 1 }));
    try {
      const f = make('unit.mut.', { match: { metadata: [] }, descriptors: [{ property: 'tenant', descriptorKey: 'tenant' }] });
      const host = { address: '127.0.0.1', port: rls.port };
      assert.equal(await f.onRequest(fakeExchange(1, { tenant: 'silver' }, host)), FilterStatus.Continue);
      assert.equal(await f.onRequest(fakeExchange(2, { tenant: 'silver' }, host, new Map([['tenant', 'gold']]))), FilterStatus.Continue);
      assert.deepEqual(
        rls.requests.map((r) => r.descriptors?.[0]?.entries[0]?.value),
        ['silver', 'gold'],
      );
    } finally {
      rls.stop();
    }
  });
});
