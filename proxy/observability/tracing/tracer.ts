import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { ExchangeTracer } from '../listener-observer.js';
import type { ExchangeTrace, ObservedExchange } from '../observed-exchange.js';
import { responseCodeDetails, responseFlags } from '../observed-exchange.js';
import { extractContext, injectContext } from './propagation.js';
import { decideSampling, SamplingReason } from './sampling.js';
import type { SamplingConfig } from './sampling.js';

/** A listener's tracing settings, compiled from Aeraki's Tracing message. */
export interface TracingSettings {
  readonly sampling: SamplingConfig;
  readonly verbose: boolean;
  readonly maxTagLength: number;
  /** OTLP/gRPC collector URL (google_grpc target_uri, as http://host:port). */
  readonly collectorUrl: string | undefined;
  /** Or the static cluster whose first host is the collector (envoy_grpc cluster_name). */
  readonly collectorCluster: string | undefined;
  readonly serviceName: string;
}

/** The spans of one traced exchange. */
class ExchangeSpans implements ExchangeTrace {
  readonly server: Span;
  client: Span | undefined = undefined;
  readonly #maxTag: number;

  constructor(server: Span, maxTag: number) {
    this.server = server;
    this.#maxTag = maxTag;
  }

  end(ex: ObservedExchange): void {
    const failed = ex.localError !== undefined || ex.abandoned || ex.response?.status === 1;
    const attrs: Attributes = {
      component: 'proxy',
      response_size: ex.responseBytes,
      response_flags: responseFlags(ex),
    };
    if (ex.upstreamCluster !== undefined) {
      attrs['upstream_cluster'] = ex.upstreamCluster;
      attrs['upstream_cluster.name'] = ex.upstreamCluster;
    }
    if (ex.upstreamHost !== undefined) attrs['peer.address'] = ex.upstreamHost;
    if (ex.routeName !== undefined) attrs['route_name'] = ex.routeName;
    if (failed) {
      attrs['error'] = true;
      const details = responseCodeDetails(ex);
      if (details !== '') attrs['response_code_details'] = details.slice(0, this.#maxTag);
    }
    const client = this.client;
    if (client !== undefined) {
      client.setAttributes(attrs);
      if (failed) client.setStatus({ code: SpanStatusCode.ERROR });
      client.end();
    }
    this.server.setAttributes(attrs);
    if (failed) this.server.setStatus({ code: SpanStatusCode.ERROR });
    this.server.end();
  }
}

/**
 * Starts a server span per request (continuing the client's W3C or B3 context), a client
 * span per upstream attempt, and writes the client span's context into the forwarded
 * request through the mutation path. Requests that are not sampled cost one decision.
 */
export class MetaTracer implements ExchangeTracer {
  readonly #tracer: Tracer;
  readonly #settings: TracingSettings;
  readonly #protocol: string;
  readonly #listener: string;

  constructor(tracer: Tracer, settings: TracingSettings, protocol: string, listener: string) {
    this.#tracer = tracer;
    this.#settings = settings;
    this.#protocol = protocol;
    this.#listener = listener;
  }

  onStart(ex: ObservedExchange): void {
    const md = ex.metadata;
    let requestId = md.get('x-request-id');
    if (requestId === undefined) {
      // The first hop names the request (Envoy's x-request-id), and the name travels on.
      requestId = randomUUID();
      ex.setRequestHeader('x-request-id', requestId);
    }
    const parent = extractContext(md);
    const reason = decideSampling(md, parent, this.#settings.sampling);
    if (reason === SamplingReason.NotTraceable) return;
    const ctx =
      parent === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    const max = this.#settings.maxTagLength;
    const attrs: Attributes = {
      'guid:x-request-id': requestId.slice(0, max),
      request_size: ex.request.frame.length,
      request_id: String(ex.request.requestId),
      'meta_protocol.application_protocol': this.#protocol,
      'meta_protocol.listener': this.#listener,
      'peer.address': ex.downstreamRemoteAddress,
    };
    const clientTraceId = md.get('x-client-trace-id');
    if (clientTraceId !== undefined) attrs['guid:x-client-trace-id'] = clientTraceId.slice(0, max);
    if (this.#settings.verbose) {
      for (const [k, v] of md.entries()) attrs[`request metadata: ${k}`] = v.slice(0, max);
    }
    const server = this.#tracer.startSpan(this.#spanName(ex), { kind: SpanKind.SERVER, attributes: attrs }, ctx);
    ex.trace = new ExchangeSpans(server, max);
  }

  onUpstream(ex: ObservedExchange): void {
    const spans = ex.trace as ExchangeSpans | undefined;
    if (spans === undefined) return;
    const attrs: Attributes = {};
    if (ex.upstreamCluster !== undefined) attrs['upstream_cluster.name'] = ex.upstreamCluster;
    if (ex.upstreamHost !== undefined) attrs['peer.address'] = ex.upstreamHost;
    const client = this.#tracer.startSpan(this.#spanName(ex), { kind: SpanKind.CLIENT, attributes: attrs }, trace.setSpan(ROOT_CONTEXT, spans.server));
    spans.client = client;
    const c = client.spanContext();
    injectContext((k, v) => ex.setRequestHeader(k, v), c.traceId, c.spanId, spans.server.spanContext().spanId, true);
  }

  #spanName(ex: ObservedExchange): string {
    const op = ex.request.operationName;
    return op === '' ? this.#protocol : op;
  }
}
