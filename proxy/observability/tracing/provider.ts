import { createRequire } from 'node:module';
import type { Tracer } from '@opentelemetry/api';

/** A tracer and what stops it (flushes the spans still batched). */
export interface TracerHandle {
  readonly tracer: Tracer;
  /** Sends what is batched now (tests, drain). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

type SdkTraceBase = typeof import('@opentelemetry/sdk-trace-base');
type Resources = typeof import('@opentelemetry/resources');
type OtlpGrpc = typeof import('@opentelemetry/exporter-trace-otlp-grpc');

// The SDK is loaded on first use (synchronously: listeners are built synchronously), so a
// proxy without tracing never loads it.
const load = createRequire(import.meta.url);

/**
 * Creates a tracer that batches spans off the request path (BatchSpanProcessor) and
 * exports them with OTLP over gRPC to `collectorUrl` (default: the exporter's own,
 * localhost:4317, or OTEL_EXPORTER_OTLP_* from the environment).
 */
export function createTracer(opts: { serviceName: string; collectorUrl: string | undefined }): TracerHandle {
  const base = load('@opentelemetry/sdk-trace-base') as SdkTraceBase;
  const { resourceFromAttributes } = load('@opentelemetry/resources') as Resources;
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-grpc') as OtlpGrpc;
  const exporter = new OTLPTraceExporter(opts.collectorUrl === undefined ? {} : { url: opts.collectorUrl });
  const processor = new base.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000, maxExportBatchSize: 512, maxQueueSize: 8192 });
  const provider = new base.BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [processor],
  });
  return {
    tracer: provider.getTracer('meltemi'),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
