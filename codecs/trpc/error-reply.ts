/** Error replies the proxy sends to tRPC clients on its own (spec/wire-formats.md §4.4). */
import { ErrorType, encodeLengthDelimitedField, encodeVarintField } from '../api/index.js';
import {
  CloseMetaField,
  CloseType,
  DataFrameType,
  InitMetaField,
  InitResponseMetaField,
  ResponseField,
  StreamFrameType,
  TrpcRetCode,
} from './constants.js';
import { buildFrame } from './frame.js';

/**
 * The TrpcRetCode for a proxy error. A route or cluster miss answers NOSERVICE (11), as
 * Aeraki's codec does: the proxy cannot tell a missing service from a missing func.
 */
export function trpcRetCode(error: ErrorType): number {
  switch (error) {
    case ErrorType.RouteNotFound:
    case ErrorType.ClusterNotFound:
      return TrpcRetCode.SERVER_NOSERVICE_ERR;
    case ErrorType.Timeout:
      return TrpcRetCode.SERVER_TIMEOUT_ERR;
    case ErrorType.OverLimit:
      return TrpcRetCode.SERVER_OVERLOAD_ERR;
    case ErrorType.Unauthorized:
      return TrpcRetCode.SERVER_AUTH_ERR;
    default:
      return TrpcRetCode.SERVER_SYSTEM_ERR;
  }
}

/**
 * The fixed-header id a reply carries: trpc-go v1 peers (version byte >= 1) demultiplex on
 * the u32 @10 and expect the request id there; v0 peers (trpc-cpp) send and expect 0.
 */
export function replyStreamField(version: number, requestId: number): number {
  return version >= 1 ? requestId : 0;
}

/**
 * A unary ResponseProtocol{request_id, ret, error_msg} with an empty body, with the client's
 * version byte and u32 @10. proto3 leaves a zero request_id out, as Go and C++ protobuf do.
 */
export function buildUnaryError(requestId: number, version: number, field10: number, ret: number, text: string): Buffer {
  const parts: Buffer[] = [];
  if (requestId !== 0) parts.push(encodeVarintField(ResponseField.RequestId, requestId));
  parts.push(encodeVarintField(ResponseField.Ret, ret));
  if (text.length > 0) parts.push(encodeLengthDelimitedField(ResponseField.ErrorMsg, text));
  const head = {
    dataFrameType: DataFrameType.Unary,
    streamFrameType: StreamFrameType.Unary,
    streamId: field10,
    version,
  };
  return buildFrame(head, Buffer.concat(parts), null);
}

/** An INIT answer refusing stream `streamId`: TrpcStreamInitMeta{response_meta{ret, error_msg}}. */
export function buildInitError(streamId: number, version: number, ret: number, text: string): Buffer {
  const responseMeta = Buffer.concat([
    encodeVarintField(InitResponseMetaField.Ret, ret),
    text.length > 0 ? encodeLengthDelimitedField(InitResponseMetaField.ErrorMsg, text) : Buffer.alloc(0),
  ]);
  const meta = encodeLengthDelimitedField(InitMetaField.ResponseMeta, responseMeta);
  const head = { dataFrameType: DataFrameType.Stream, streamFrameType: StreamFrameType.Init, streamId, version };
  return buildFrame(head, null, meta);
}

/** A CLOSE frame with close_type RESET that ends stream `streamId` with `ret`. */
export function buildStreamReset(streamId: number, version: number, ret: number, text: string): Buffer {
  const meta = Buffer.concat([
    encodeVarintField(CloseMetaField.CloseType, CloseType.Reset),
    encodeVarintField(CloseMetaField.Ret, ret),
    text.length > 0 ? encodeLengthDelimitedField(CloseMetaField.Msg, text) : Buffer.alloc(0),
  ]);
  const head = { dataFrameType: DataFrameType.Stream, streamFrameType: StreamFrameType.Close, streamId, version };
  return buildFrame(head, null, meta);
}
