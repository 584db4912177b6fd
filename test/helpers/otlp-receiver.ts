/**
 * An in-process OTLP/gRPC trace receiver: a grpc-js server on the collector's service
 * path, decoding ExportTraceServiceRequest with protobufjs from OTLP's field numbers.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;

const Request = protobuf.parse(OTLP_PROTO, { keepCase: true }).root.lookupType('otlp.ExportTraceServiceRequest');

/** OTLP's SpanKind numbers. */
export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  statusCode: number;
  serviceName: string;
}

interface PbKeyValue {
  key: string;
  value?: { string_value?: string; bool_value?: boolean; int_value?: number | { toNumber(): number }; double_value?: number };
}

function attrs(list: PbKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    const iv = v.int_value;
    out[kv.key] = v.string_value ?? v.bool_value ?? (iv === undefined ? undefined : typeof iv === 'number' ? iv : iv.toNumber()) ?? v.double_value ?? '';
  }
  return out;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server = new grpc.Server();
  const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: Buffer) => v,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (v: Buffer) => v,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const req = Request.toObject(Request.decode(call.request), { longs: Number, defaults: false }) as {
          resource_spans?: { resource?: { attributes?: PbKeyValue[] }; scope_spans?: { spans?: (Record<string, unknown> & { attributes?: PbKeyValue[]; status?: { code?: number } })[] }[] }[];
        };
        for (const rs of req.resource_spans ?? []) {
          const serviceName = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scope_spans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: hex(s['trace_id'] as Uint8Array),
                spanId: hex(s['span_id'] as Uint8Array),
                parentSpanId: hex(s['parent_span_id'] as Uint8Array | undefined),
                name: String(s['name']),
                kind: Number(s['kind'] ?? 0),
                attributes: attrs(s.attributes),
                statusCode: s.status?.code ?? 0,
                serviceName,
              });
            }
          }
        }
        cb(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
