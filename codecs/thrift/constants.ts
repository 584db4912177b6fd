/**
 * Numbers from the Thrift wire specs (apache/thrift doc/specs, spec/wire-formats.md §2).
 * Kept in one place so the protocol files read like the spec.
 */

/** Message types of the message header (thrift-rpc.md). */
export enum ThriftMessageType {
  Call = 1,
  Reply = 2,
  Exception = 3,
  Oneway = 4,
}

/** TApplicationException.type codes (thrift-rpc.md). */
export enum AppExceptionType {
  Unknown = 0,
  UnknownMethod = 1,
  InvalidMessageType = 2,
  WrongMethodName = 3,
  BadSequenceId = 4,
  MissingResult = 5,
  InternalError = 6,
  ProtocolError = 7,
  InvalidTransform = 8,
  InvalidProtocol = 9,
  UnsupportedClientType = 10,
}

/** Field type codes of the binary protocol. */
export enum BinaryType {
  Stop = 0,
  Bool = 2,
  I8 = 3,
  Double = 4,
  I16 = 6,
  I32 = 8,
  I64 = 10,
  String = 11,
  Struct = 12,
  Map = 13,
  Set = 14,
  List = 15,
  Uuid = 16,
}

/** Field type codes of the compact protocol. */
export enum CompactType {
  Stop = 0,
  BoolTrue = 1,
  BoolFalse = 2,
  I8 = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
  Uuid = 13,
}

/** First byte of every compact message. */
export const COMPACT_PROTOCOL_ID = 0x82;
/** The compact protocol version carried in the low 5 bits of the second byte. */
export const COMPACT_VERSION = 1;
/** Upper half of the strict binary version word (`0x8001xxxx`). */
export const BINARY_VERSION_1 = 0x8001;

/** THeader magic at offset 4 of a THeader frame. */
export const THEADER_MAGIC = 0x0fff;
/** Largest THeader length the Apache implementations accept (HeaderFormat.md). */
export const THEADER_MAX_LENGTH = 0x3fffffff;
/** Offset of the first byte after the fixed part of a THeader frame (HEADER SIZE field ends here). */
export const THEADER_FIXED_SIZE = 14;
/** THeader protocol ids (only binary and compact are carried by this codec). */
export const THEADER_PROTOCOL_BINARY = 0;
export const THEADER_PROTOCOL_COMPACT = 2;
/** THeader transform ids; only zlib is implemented by Apache, and so here. */
export const THEADER_TRANSFORM_ZLIB = 1;
/** THeader info block id of key/value headers. */
export const THEADER_INFO_KEYVALUE = 1;

/**
 * Nesting limit for the struct skipper. Generated code of the Apache libraries uses the same
 * order of magnitude (the default recursion limit is 64), so legitimate traffic never hits it
 * while a hostile `[[[[...` stops long before the JavaScript stack would.
 */
export const DEFAULT_MAX_DEPTH = 64;
