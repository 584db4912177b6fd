/**
 * Tracing through Meltemi with real Dubbo peers: spans exported over OTLP/gRPC to an
 * in-process receiver, server and client spans with their parent/child relation, the
 * client's W3C or B3 context continued, the proxy's context visible at the real provider
 * (in its attachments), and the sampling rules.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { startOtlpReceiver, SPAN_KIND_CLIENT, SPAN_KIND_SERVER } from '../helpers/otlp-receiver.js';
import type { OtlpReceiver, ReceivedSpan } from '../helpers/otlp-receiver.js';
import { RawDubboClient } from '../helpers/raw-client.js';

const require = createRequire(import.meta.url);
interface SofaRequest {
  data: { requestProps?: Record<string, string> };
}
interface SofaServer {
  addService(info: { interfaceName: string; version?: string }, impl: Record<string, (...args: unknown[]) => Promise<unknown>>): void;
  start(): Promise<void>;
  close(): Promise<void>;
  createContext(req: SofaRequest): unknown;
  _servers: { address(): AddressInfo }[];
}
const sofa = require('sofa-rpc-node') as { server: { RpcServer: new (opts: object) => SofaServer } };
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** A sofa-rpc-node provider that records the attachments each call arrived with. */
async function startRecordingProvider(): Promise<{ port: number; attachments: Record<string, string>[]; close(): Promise<void> }> {
  const server = new sofa.server.RpcServer({ logger: quiet, port: 0, protocol: require('dubbo-remoting') as unknown });
  // sofa-rpc-node calls service methods with the context as `this`: make it the request.
  server.createContext = (req: SofaRequest) => ({ req });
  const attachments: Record<string, string>[] = [];
  server.addService(
    { interfaceName: 'com.example.DemoService', version: '1.0.0' },
    {
      async sayHello(this: { req: SofaRequest }, ...args: unknown[]) {
        attachments.push({ ...this.req.data.requestProps });
        return `hello ${String(args[0])}`;
      },
    },
  );
  await server.start();
  return { port: server._servers[0]!.address().port, attachments, close: () => server.close() };
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('tracing', () => {
  let provider: Awaited<ReturnType<typeof startRecordingProvider>>;
  let receiver: OtlpReceiver;
  let proxy: RunningMeltemi;

  before(async () => {
    provider = await startRecordingProvider();
    receiver = await startOtlpReceiver();
    const otel = (random: number) => ({
      random_sampling: { value: random },
      provider: {
        name: 'envoy.tracers.opentelemetry',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
          grpc_service: { google_grpc: { target_uri: receiver.url.replace('http://', ''), stat_prefix: 'otel' } },
          service_name: 'meltemi-test',
        },
      },
    });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({ name: 'traced', routes: [{ name: 'demo', match: { interface: 'com.example.DemoService' }, cluster: 'demo' }], extra: { tracing: otel(100) } }),
          metaProtocolListener({ name: 'unsampled', routes: [{ name: 'demo', match: { interface: 'com.example.DemoService' }, cluster: 'demo' }], extra: { tracing: otel(0) } }),
        ],
        [staticCluster('demo', [provider.port])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await receiver.close();
    await provider.close();
  });

  async function call(listener: string, attachments: Record<string, string>): Promise<void> {
    const c = await RawDubboClient.connect(proxy.listenerPort(listener));
    try {
      c.write(dubboRequest({ id: 1, args: ['t'], attachments }));
      await c.until(() => c.frames.length === 1, 3000, 'a reply');
      assert.equal(c.frames[0]!.status, 20);
    } finally {
      c.close();
    }
  }

  async function spansOf(traceId: string, n: number): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      await proxy.server.flushObservability();
      const got = receiver.spans.filter((s) => s.traceId === traceId);
      if (got.length >= n || Date.now() > deadline) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('a W3C context is continued: server span under the client, client span under it, context at the provider', async () => {
    await call('traced', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` });
    const spans = await spansOf(TRACE_ID, 2);
    assert.equal(spans.length, 2);
    const server = spans.find((s) => s.kind === SPAN_KIND_SERVER)!;
    const client = spans.find((s) => s.kind === SPAN_KIND_CLIENT)!;
    assert.equal(server.parentSpanId, PARENT_ID);
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(server.name, 'com.example.DemoService/sayHello');
    assert.equal(server.serviceName, 'meltemi-test');
    assert.equal(server.attributes['upstream_cluster'], 'demo');
    assert.equal(server.attributes['component'], 'proxy');
    assert.equal(server.statusCode, 0);
    const seen = provider.attachments.at(-1)!;
    assert.equal(seen['traceparent'], `00-${TRACE_ID}-${client.spanId}-01`);
    assert.equal(seen['x-b3-traceid'], TRACE_ID);
    assert.equal(seen['x-b3-spanid'], client.spanId);
    assert.equal(seen['x-b3-parentspanid'], server.spanId);
    assert.equal(seen['x-b3-sampled'], '1');
    assert.match(seen['x-request-id'] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('a B3 context (64-bit trace id) is continued', async () => {
    const b3Trace = 'a3ce929d0e0e4736';
    await call('traced', { 'x-b3-traceid': b3Trace, 'x-b3-spanid': PARENT_ID, 'x-b3-sampled': '1' });
    const spans = await spansOf(`0000000000000000${b3Trace}`, 2);
    assert.equal(spans.length, 2);
    assert.equal(spans.find((s) => s.kind === SPAN_KIND_SERVER)!.parentSpanId, PARENT_ID);
  });

  test('a new trace starts without a context; a client that said "not sampled" is followed', async () => {
    const before = receiver.spans.length;
    await call('traced', {});
    await call('traced', { traceparent: `00-${'1'.repeat(32)}-${PARENT_ID}-00` });
    await spansOf('none', 0);
    const fresh = receiver.spans.slice(before);
    assert.equal(fresh.length, 2, 'one traced request: a server and a client span');
    assert.equal(fresh[0]!.traceId, fresh[1]!.traceId);
    assert.ok(!fresh.some((s) => s.traceId === '1'.repeat(32)));
    assert.equal(fresh.find((s) => s.kind === SPAN_KIND_SERVER)!.parentSpanId, '');
  });

  test('random_sampling 0: nothing is traced unless x-envoy-force-trace or x-client-trace-id asks', async () => {
    const before = receiver.spans.length;
    await call('unsampled', {});
    await call('unsampled', { 'x-envoy-force-trace': 'true' });
    await call('unsampled', { 'x-client-trace-id': 'abc' });
    await spansOf('none', 0);
    const fresh = receiver.spans.slice(before);
    assert.equal(fresh.filter((s) => s.kind === SPAN_KIND_SERVER).length, 2);
    assert.ok(fresh.some((s) => s.attributes['guid:x-client-trace-id'] === 'abc'));
    // The unsampled request still names itself for the logs and the next hop.
    assert.match(provider.attachments.at(-3)!['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(provider.attachments.at(-3)!['traceparent'], undefined);
  });
});
