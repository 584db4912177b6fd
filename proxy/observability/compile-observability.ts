import type { AccessLogSpec } from './access-log/access-logger.js';
import { compileAccessLogs } from './access-log/compile.js';
import { percentValue } from './config-schema.js';
import type { AccessLogConfig, TracingConfig } from './config-schema.js';
import type { TracingSettings } from './tracing/tracer.js';

/** A listener's observability config, compiled (nothing opened or started yet). */
export interface ListenerObservability {
  readonly accessLogs: readonly AccessLogSpec[];
  readonly tracing: TracingSettings | undefined;
}

const DEFAULT_MAX_TAG_LENGTH = 256;

function compileTracing(t: TracingConfig, path: string, errors: string[], serviceName: string): TracingSettings {
  const otel = t.provider?.typed_config?.grpc_service;
  const target = otel?.google_grpc?.target_uri;
  if (t.provider !== undefined && t.provider.name !== 'envoy.tracers.opentelemetry') {
    errors.push(`${path}.provider.name: only envoy.tracers.opentelemetry (OTLP over gRPC) is supported, got '${t.provider.name}'`);
  }
  return {
    sampling: {
      client: percentValue(t.client_sampling, 100),
      random: percentValue(t.random_sampling, 100),
      overall: percentValue(t.overall_sampling, 100),
    },
    verbose: t.verbose ?? false,
    maxTagLength: t.max_tag_length ?? DEFAULT_MAX_TAG_LENGTH,
    collectorUrl: target === undefined ? undefined : /^[a-z]+:\/\//.test(target) ? target : `http://${target}`,
    collectorCluster: otel?.envoy_grpc?.cluster_name,
    serviceName: t.provider?.typed_config?.service_name ?? serviceName,
  };
}

/**
 * Compiles `access_log` and `tracing` of one MetaProtocolProxy. Errors are reported with
 * their field paths. (istio_stats and metadata_exchange are filters: they read their own config and the
 * listener's direction through FilterContext.)
 */
export function compileObservability(
  cfg: { access_log?: AccessLogConfig[]; tracing?: TracingConfig },
  statPrefix: string,
  path: string,
  errors: string[],
): ListenerObservability {
  return {
    accessLogs: cfg.access_log === undefined ? [] : compileAccessLogs(cfg.access_log, `${path}.access_log`, errors),
    tracing: cfg.tracing === undefined ? undefined : compileTracing(cfg.tracing, `${path}.tracing`, errors, statPrefix),
  };
}
