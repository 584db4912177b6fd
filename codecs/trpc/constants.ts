/**
 * Wire constants of the tRPC protocol (spec/wire-formats.md §4). Field numbers and codes
 * come from trpc-group/trpc `trpc/trpc.proto`.
 */

/** Size of the fixed frame header. */
export const HEADER_SIZE = 16;
/** TrpcMagic.TRPC_MAGIC_VALUE, u16 BE at offset 0. */
export const MAGIC = 0x0930;

/** Offsets inside the fixed header. */
export const Offset = {
  DataFrameType: 2,
  StreamFrameType: 3,
  TotalSize: 4,
  HeaderSize: 8,
  /** Stream id (stream frames) or request id (unary, trpc-go "v1"); 0 from v0 senders. */
  StreamId: 10,
  Version: 14,
  Reserved: 15,
} as const;

/** TrpcDataFrameType. */
export const DataFrameType = {
  Unary: 0,
  Stream: 1,
} as const;

/** TrpcStreamFrameType. */
export const StreamFrameType = {
  Unary: 0,
  Init: 1,
  Data: 2,
  Feedback: 3,
  Close: 4,
} as const;

/** TrpcStreamCloseType. */
export const CloseType = {
  Close: 0,
  Reset: 1,
} as const;

/** TrpcCallType. */
export const CallType = {
  Unary: 0,
  Oneway: 1,
} as const;

/** RequestProtocol field numbers. */
export const RequestField = {
  Version: 1,
  CallType: 2,
  RequestId: 3,
  Timeout: 4,
  Caller: 5,
  Callee: 6,
  Func: 7,
  MessageType: 8,
  TransInfo: 9,
  ContentType: 10,
  ContentEncoding: 11,
  AttachmentSize: 12,
} as const;

/** ResponseProtocol field numbers. */
export const ResponseField = {
  Version: 1,
  CallType: 2,
  RequestId: 3,
  Ret: 4,
  FuncRet: 5,
  ErrorMsg: 6,
  MessageType: 7,
  TransInfo: 8,
  ContentType: 9,
  ContentEncoding: 10,
  AttachmentSize: 12,
} as const;

/** TrpcStreamInitMeta field numbers. */
export const InitMetaField = {
  RequestMeta: 1,
  ResponseMeta: 2,
  InitWindowSize: 3,
} as const;

/** TrpcStreamInitRequestMeta field numbers. */
export const InitRequestMetaField = {
  Caller: 1,
  Callee: 2,
  Func: 3,
  MessageType: 4,
  TransInfo: 5,
} as const;

/** TrpcStreamInitResponseMeta field numbers. */
export const InitResponseMetaField = {
  Ret: 1,
  ErrorMsg: 2,
} as const;

/** TrpcStreamCloseMeta field numbers. */
export const CloseMetaField = {
  CloseType: 1,
  Ret: 2,
  Msg: 3,
  MessageType: 4,
  TransInfo: 5,
  FuncRet: 6,
} as const;

/** TrpcRetCode values the proxy sends. */
export const TrpcRetCode = {
  SERVER_DECODE_ERR: 1,
  SERVER_NOSERVICE_ERR: 11,
  SERVER_NOFUNC_ERR: 12,
  SERVER_TIMEOUT_ERR: 21,
  SERVER_OVERLOAD_ERR: 22,
  SERVER_LIMITED_ERR: 23,
  SERVER_SYSTEM_ERR: 31,
  SERVER_AUTH_ERR: 41,
} as const;
