/** The error replies the proxy sends to bRPC clients on its own (spec/wire-formats.md §3.5). */
import { ErrorType, encodeLengthDelimitedField, encodeVarintField } from '../api/index.js';
import type { RequestId } from '../api/index.js';
import { BrpcErrno, MAGIC_STREAM, ResponseMetaField, RpcMetaField, StreamFrameMetaField, StreamFrameType } from './constants.js';
import { buildFrame } from './frame.js';

/**
 * The errno.proto code for a proxy error. Route and cluster misses answer ENOMETHOD because
 * that is what brpc itself answers for an unknown service or method, so clients already
 * treat it as "no such method" rather than a transient failure worth retrying elsewhere.
 */
export function brpcErrorCode(error: ErrorType): number {
  switch (error) {
    case ErrorType.RouteNotFound:
    case ErrorType.ClusterNotFound:
      return BrpcErrno.ENOMETHOD;
    case ErrorType.Timeout:
      return BrpcErrno.ERPCTIMEDOUT;
    case ErrorType.OverLimit:
      return BrpcErrno.ELIMIT;
    case ErrorType.BadRequest:
      return BrpcErrno.EREQUEST;
    case ErrorType.Unauthorized:
      return BrpcErrno.ERPCAUTH;
    default:
      return BrpcErrno.EINTERNAL;
  }
}

/**
 * A response frame whose RpcMeta is `response{error_code, error_text}` + the request's
 * `correlation_id`, with no payload (body_size == meta_size), the shape brpc sends itself.
 */
export function buildErrorResponse(correlationId: RequestId, errorCode: number, text: string): Buffer {
  const response = Buffer.concat([
    encodeVarintField(ResponseMetaField.ErrorCode, errorCode),
    encodeLengthDelimitedField(ResponseMetaField.ErrorText, text),
  ]);
  const meta = Buffer.concat([
    encodeLengthDelimitedField(RpcMetaField.Response, response),
    encodeVarintField(RpcMetaField.CorrelationId, correlationId),
  ]);
  return buildFrame(meta, null);
}

/** A STRM frame that resets stream `streamId` (the answer to a failing stream frame). */
export function buildStreamReset(streamId: RequestId): Buffer {
  const meta = Buffer.concat([
    encodeVarintField(StreamFrameMetaField.StreamId, streamId),
    encodeVarintField(StreamFrameMetaField.FrameType, StreamFrameType.Rst),
  ]);
  return buildFrame(meta, null, MAGIC_STREAM);
}
