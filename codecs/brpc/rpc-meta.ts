/**
 * Reads the parts of a bRPC RpcMeta / StreamFrameMeta the proxy needs, straight from the
 * protobuf wire format: one pass over the top-level fields records where the request and
 * response sub-messages are and the scalars, and the strings are decoded only when asked.
 */
import { ProtoReader, ProtobufWireError, WireType, decodeMapEntry, decodeName, newWireField, validateMessage, varint32At } from '../api/index.js';
import type { RequestId } from '../api/index.js';
import { RequestMetaField, ResponseMetaField, RpcMetaField, StreamFrameMetaField } from './constants.js';

/** What one pass over the top-level fields of RpcMeta found. Offsets are absolute. */
export interface RpcMetaScan {
  /** Value range of `request` (RpcRequestMeta), or -1 when absent. */
  requestStart: number;
  requestEnd: number;
  /** Value range of `response` (RpcResponseMeta), or -1 when absent. */
  responseStart: number;
  responseEnd: number;
  correlationId: RequestId;
  /** Byte range of correlation_id's varint when the field occurs exactly once, else -1. */
  correlationIdStart: number;
  correlationIdEnd: number;
  attachmentSize: number;
  hasStreamSettings: boolean;
}

function expectWireType(fieldNumber: number, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new ProtobufWireError(`RpcMeta field ${fieldNumber} has wire type ${actual}, expected ${expected}`);
  }
}

/** An RpcMetaScan to fill, one per codec, so that a decode allocates none. */
export function newRpcMetaScan(): RpcMetaScan {
  return {
    requestStart: -1,
    requestEnd: -1,
    responseStart: -1,
    responseEnd: -1,
    correlationId: 0,
    correlationIdStart: -1,
    correlationIdEnd: -1,
    attachmentSize: 0,
    hasStreamSettings: false,
  };
}

/** The field cursor of scanRpcMeta, which does not nest. */
const metaField = newWireField();

/**
 * Scans the RpcMeta held in `buf[start, end)` into `scan` (reset first) and returns it.
 * Throws ProtobufWireError when malformed.
 */
export function scanRpcMeta(buf: Buffer, start: number, end: number, scan: RpcMetaScan = newRpcMetaScan()): RpcMetaScan {
  scan.requestStart = scan.requestEnd = scan.responseStart = scan.responseEnd = -1;
  scan.correlationId = 0;
  scan.correlationIdStart = scan.correlationIdEnd = -1;
  scan.attachmentSize = 0;
  scan.hasStreamSettings = false;
  const r = new ProtoReader(buf, start, end);
  const f = metaField;
  let correlationIds = 0;
  while (r.nextField(f)) {
    switch (f.fieldNumber) {
      case RpcMetaField.Request:
        expectWireType(f.fieldNumber, f.wireType, WireType.LengthDelimited);
        scan.requestStart = f.valueStart;
        scan.requestEnd = f.end;
        // Checked now so that the lazy metadata and the edits never meet a malformed one.
        validateMessage(buf, f.valueStart, f.end);
        break;
      case RpcMetaField.Response:
        expectWireType(f.fieldNumber, f.wireType, WireType.LengthDelimited);
        scan.responseStart = f.valueStart;
        scan.responseEnd = f.end;
        break;
      case RpcMetaField.CorrelationId:
        expectWireType(f.fieldNumber, f.wireType, WireType.Varint);
        scan.correlationId = new ProtoReader(buf, f.valueStart, f.end).uint64();
        scan.correlationIdStart = f.valueStart;
        scan.correlationIdEnd = f.end;
        correlationIds++;
        break;
      case RpcMetaField.AttachmentSize:
        expectWireType(f.fieldNumber, f.wireType, WireType.Varint);
        scan.attachmentSize = varint32At(buf, f.valueStart, f.end) | 0;
        break;
      case RpcMetaField.StreamSettings:
        scan.hasStreamSettings = true;
        break;
      default:
        // Every other field (user_fields included) is read lazily or forwarded untouched.
        break;
    }
  }
  if (correlationIds !== 1) scan.correlationIdStart = scan.correlationIdEnd = -1;
  return scan;
}

/** service_name and method_name of an RpcRequestMeta. */
export interface RequestMetaNames {
  service: string;
  method: string;
}

/** Reads service_name and method_name from the RpcRequestMeta in `buf[start, end)`. */
export function readRequestNames(buf: Buffer, start: number, end: number): RequestMetaNames {
  const names: RequestMetaNames = { service: '', method: '' };
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.wireType !== WireType.LengthDelimited) continue;
    if (f.fieldNumber === RequestMetaField.ServiceName) names.service = decodeName(buf, f.valueStart, f.end);
    else if (f.fieldNumber === RequestMetaField.MethodName) names.method = decodeName(buf, f.valueStart, f.end);
  }
  return names;
}

/** error_code (0 when absent) and error_text of an RpcResponseMeta. */
export interface ResponseMetaFields {
  errorCode: number;
  errorText: string;
}

/** Reads the RpcResponseMeta in `buf[start, end)`. */
export function readResponseMeta(buf: Buffer, start: number, end: number): ResponseMetaFields {
  const out: ResponseMetaFields = { errorCode: 0, errorText: '' };
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.fieldNumber === ResponseMetaField.ErrorCode && f.wireType === WireType.Varint) {
      out.errorCode = varint32At(buf, f.valueStart, f.end) | 0;
    } else if (f.fieldNumber === ResponseMetaField.ErrorText && f.wireType === WireType.LengthDelimited) {
      out.errorText = buf.toString('utf8', f.valueStart, f.end);
    }
  }
  return out;
}

/**
 * Adds every `user_fields` entry of the RpcMeta in `buf[start, end)` to `into`, keys
 * lower-cased (metadata keys are case-insensitive); later entries win, as in a proto map.
 */
export function readUserFields(buf: Buffer, start: number, end: number, into: Map<string, string>): void {
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.fieldNumber !== RpcMetaField.UserFields || f.wireType !== WireType.LengthDelimited) continue;
    try {
      const entry = decodeMapEntry(buf, f.valueStart, f.end);
      into.set(entry.key.toLowerCase(), entry.value.toString('utf8'));
    } catch (err) {
      // Entries are parsed lazily, after decode accepted the frame: skip a malformed one
      // rather than fail a route lookup; the bytes are still forwarded untouched.
      if (!(err instanceof ProtobufWireError)) throw err;
    }
  }
}

/** stream_id and frame_type of a StreamFrameMeta. */
export interface StreamFrameMetaFields {
  streamId: RequestId;
  frameType: number;
}

/** Reads the StreamFrameMeta in `buf[start, end)`. */
export function readStreamFrameMeta(buf: Buffer, start: number, end: number): StreamFrameMetaFields {
  const out: StreamFrameMetaFields = { streamId: 0, frameType: 0 };
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.wireType !== WireType.Varint) continue;
    if (f.fieldNumber === StreamFrameMetaField.StreamId) out.streamId = new ProtoReader(buf, f.valueStart, f.end).uint64();
    else if (f.fieldNumber === StreamFrameMetaField.FrameType) out.frameType = varint32At(buf, f.valueStart, f.end) | 0;
  }
  return out;
}
