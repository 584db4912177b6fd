/**
 * Schemas of the observability parts of Aeraki's MetaProtocolProxy config:
 * `access_log` (Envoy's AccessLog with the file / stdout / stderr loggers) and `tracing`
 * (Aeraki's Tracing message, spec/metaprotocol.md §5.2).
 */
import { bool, object, oneOfValues, optional, record, str, unknownValue, wrappedInt } from '../../config/schema.js';
import type { Infer } from '../../config/schema.js';

export const FILE_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
export const STDOUT_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
export const STDERR_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

const dataSource = object({ inline_string: optional(str()), filename: optional(str()) }, { oneOf: [['inline_string', 'filename']] });

/** Envoy's SubstitutionFormatString. */
const substitutionFormat = object(
  {
    text_format: optional(str()),
    text_format_source: optional(dataSource),
    json_format: optional(record(unknownValue())),
    omit_empty_values: optional(bool()),
    content_type: optional(str()),
  },
  { oneOf: [['text_format', 'text_format_source', 'json_format']], ignored: { formatters: 'no formatter extensions' } },
);
export type SubstitutionFormatConfig = Infer<typeof substitutionFormat>;

const accessLoggerConfig = object(
  {
    '@type': oneOfValues([FILE_ACCESS_LOG_TYPE, STDOUT_ACCESS_LOG_TYPE, STDERR_ACCESS_LOG_TYPE]),
    /** FileAccessLog only. */
    path: optional(str({ minLength: 1 })),
    log_format: optional(substitutionFormat),
    /** FileAccessLog's deprecated plain format string. */
    format: optional(str()),
    json_format: optional(record(unknownValue())),
  },
  { oneOf: [['log_format', 'format', 'json_format']] },
);

export const accessLog = object(
  {
    name: optional(oneOfValues(['envoy.access_loggers.file', 'envoy.access_loggers.stdout', 'envoy.access_loggers.stderr', 'envoy.file_access_log'])),
    typed_config: accessLoggerConfig,
  },
  { ignored: { filter: 'access log filters are not supported yet: every request is logged' } },
);
export type AccessLogConfig = Infer<typeof accessLog>;

const percent = object({ value: unknownValue() });

/** Envoy's tracing provider (`envoy.config.trace.v3.Tracing.Http`). */
const tracingProvider = object({
  name: str({ minLength: 1 }),
  typed_config: optional(
    object(
      {
        '@type': optional(str()),
        /** OpenTelemetryConfig: the OTLP/gRPC collector. */
        grpc_service: optional(
          object({
            envoy_grpc: optional(object({ cluster_name: str({ minLength: 1 }), authority: optional(str()) })),
            google_grpc: optional(object({ target_uri: str({ minLength: 1 }), stat_prefix: optional(str()) })),
            timeout: optional(unknownValue()),
          }),
        ),
        service_name: optional(str()),
      },
      { ignored: { http_service: 'only OTLP over gRPC is supported', resource_detectors: 'not supported', sampler: 'use the Tracing sampling fields' } },
    ),
  ),
});

/** Aeraki's Tracing message (fields 3..9; 1 and 2 are reserved). */
export const tracing = object({
  client_sampling: optional(percent),
  random_sampling: optional(percent),
  overall_sampling: optional(percent),
  verbose: optional(bool()),
  max_tag_length: optional(wrappedInt({ min: 1 })),
  provider: optional(tracingProvider),
});
export type TracingConfig = Infer<typeof tracing>;

/** Envoy's bootstrap `stats_config`: only `stats_matcher.reject_all` is read. */
export const statsConfig = object(
  { stats_matcher: optional(object({ reject_all: optional(bool()) }, { ignored: { exclusion_list: 'not supported', inclusion_list: 'not supported' } })) },
  { ignored: { stats_tags: 'tags are fixed', use_all_default_tags: 'tags are fixed', histogram_bucket_settings: 'Envoy default buckets are used' } },
);

/** Percent values are a number in [0, 100]. */
export function percentValue(p: { value: unknown } | undefined, dflt: number): number {
  if (p === undefined) return dflt;
  const v = Number(p.value);
  return Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : dflt;
}

