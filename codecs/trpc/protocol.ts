/**
 * Reads the tRPC protobuf headers (RequestProtocol, ResponseProtocol and the stream metas)
 * at the wire level: the scalars the proxy needs in one pass, strings only on demand.
 */
import { ProtoReader, ProtobufWireError, WireType, decodeMapEntry, decodeName, newWireField, validateMessage, varint32At } from '../api/index.js';
import {
  CloseMetaField,
  InitMetaField,
  InitResponseMetaField,
  RequestField,
  ResponseField,
} from './constants.js';

/** The scalars of a RequestProtocol. */
export interface RequestScan {
  callType: number;
  requestId: number;
  /** Byte range of request_id's varint when the field occurs exactly once, else -1. */
  requestIdStart: number;
  requestIdEnd: number;
  attachmentSize: number;
}

/** The scalars of a ResponseProtocol. */
export interface ResponseScan {
  requestId: number;
  /** Byte range of request_id's varint when the field occurs exactly once, else -1. */
  requestIdStart: number;
  requestIdEnd: number;
  ret: number;
  funcRet: number;
  attachmentSize: number;
}

const varint32 = varint32At;

/** A RequestScan to fill, one per codec, so that a decode allocates none. */
export function newRequestScan(): RequestScan {
  return { callType: 0, requestId: 0, requestIdStart: -1, requestIdEnd: -1, attachmentSize: 0 };
}

/** A ResponseScan to fill, one per codec. */
export function newResponseScan(): ResponseScan {
  return { requestId: 0, requestIdStart: -1, requestIdEnd: -1, ret: 0, funcRet: 0, attachmentSize: 0 };
}

/** Field cursors of the scans below; none of them nests, so one each serves every call. */
const requestField = newWireField();
const responseField = newWireField();

/**
 * Scans the RequestProtocol in `buf[start, end)` into `out` (reset first) and returns it.
 * Throws ProtobufWireError when malformed.
 */
export function scanRequest(buf: Buffer, start: number, end: number, out: RequestScan = newRequestScan()): RequestScan {
  out.callType = 0;
  out.requestId = 0;
  out.requestIdStart = -1;
  out.requestIdEnd = -1;
  out.attachmentSize = 0;
  const r = new ProtoReader(buf, start, end);
  const f = requestField;
  let ids = 0;
  while (r.nextField(f)) {
    if (f.fieldNumber === RequestField.RequestId) ids++;
    if (f.wireType !== WireType.Varint) continue;
    if (f.fieldNumber === RequestField.CallType) out.callType = varint32(buf, f.valueStart, f.end);
    else if (f.fieldNumber === RequestField.RequestId) {
      out.requestId = varint32(buf, f.valueStart, f.end);
      out.requestIdStart = f.valueStart;
      out.requestIdEnd = f.end;
    } else if (f.fieldNumber === RequestField.AttachmentSize) out.attachmentSize = varint32(buf, f.valueStart, f.end);
  }
  if (ids !== 1) out.requestIdStart = out.requestIdEnd = -1;
  return out;
}

/**
 * Scans the ResponseProtocol in `buf[start, end)` into `out` (reset first) and returns it.
 * Throws ProtobufWireError when malformed.
 */
export function scanResponse(buf: Buffer, start: number, end: number, out: ResponseScan = newResponseScan()): ResponseScan {
  out.requestId = 0;
  out.requestIdStart = -1;
  out.requestIdEnd = -1;
  out.ret = 0;
  out.funcRet = 0;
  out.attachmentSize = 0;
  const r = new ProtoReader(buf, start, end);
  const f = responseField;
  let ids = 0;
  while (r.nextField(f)) {
    if (f.fieldNumber === ResponseField.RequestId) ids++;
    if (f.wireType !== WireType.Varint) continue;
    switch (f.fieldNumber) {
      case ResponseField.RequestId:
        out.requestId = varint32(buf, f.valueStart, f.end);
        out.requestIdStart = f.valueStart;
        out.requestIdEnd = f.end;
        break;
      case ResponseField.Ret:
        out.ret = varint32(buf, f.valueStart, f.end) | 0;
        break;
      case ResponseField.FuncRet:
        out.funcRet = varint32(buf, f.valueStart, f.end) | 0;
        break;
      case ResponseField.AttachmentSize:
        out.attachmentSize = varint32(buf, f.valueStart, f.end);
        break;
      default:
        break;
    }
  }
  if (ids !== 1) out.requestIdStart = out.requestIdEnd = -1;
  return out;
}

/** Where the parts of a TrpcStreamInitMeta are (absolute offsets, -1 when absent). */
export interface InitScan {
  requestMetaStart: number;
  requestMetaEnd: number;
  /** TrpcStreamInitResponseMeta.ret, 0 when there is no response_meta. */
  ret: number;
  hasResponseMeta: boolean;
}

/** Scans a TrpcStreamInitMeta in `buf[start, end)`. */
export function scanInit(buf: Buffer, start: number, end: number): InitScan {
  const out: InitScan = { requestMetaStart: -1, requestMetaEnd: -1, ret: 0, hasResponseMeta: false };
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.wireType !== WireType.LengthDelimited) continue;
    if (f.fieldNumber === InitMetaField.RequestMeta) {
      out.requestMetaStart = f.valueStart;
      out.requestMetaEnd = f.end;
      // Checked now so that the lazy metadata and the edits never meet a malformed one.
      validateMessage(buf, f.valueStart, f.end);
    } else if (f.fieldNumber === InitMetaField.ResponseMeta) {
      out.hasResponseMeta = true;
      const rr = new ProtoReader(buf, f.valueStart, f.end);
      const g = newWireField();
      while (rr.nextField(g)) {
        if (g.fieldNumber === InitResponseMetaField.Ret && g.wireType === WireType.Varint) {
          out.ret = varint32(buf, g.valueStart, g.end) | 0;
        }
      }
    }
  }
  return out;
}

/** close_type and ret of a TrpcStreamCloseMeta. */
export interface CloseScan {
  closeType: number;
  ret: number;
}

/** Scans a TrpcStreamCloseMeta in `buf[start, end)`. */
export function scanClose(buf: Buffer, start: number, end: number): CloseScan {
  const out: CloseScan = { closeType: 0, ret: 0 };
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.wireType !== WireType.Varint) continue;
    if (f.fieldNumber === CloseMetaField.CloseType) out.closeType = varint32(buf, f.valueStart, f.end) | 0;
    else if (f.fieldNumber === CloseMetaField.Ret) out.ret = varint32(buf, f.valueStart, f.end) | 0;
  }
  return out;
}

/** Field numbers of the routable strings in one kind of header (0: the header has none). */
export interface HeaderLayout {
  caller: number;
  callee: number;
  func: number;
  transInfo: number;
}

/**
 * Reads the routable strings of the header in `buf[start, end)`: caller, callee and func
 * when `names` is set, and every trans_info entry (bytes values as UTF-8, keys lower-cased).
 * Returns them in a map; trans_info entries do not override caller/callee/func.
 */
export function readHeaderStrings(buf: Buffer, start: number, end: number, layout: HeaderLayout): Map<string, string> {
  const out = new Map<string, string>();
  let caller: string | undefined;
  let callee: string | undefined;
  let func: string | undefined;
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    if (f.wireType !== WireType.LengthDelimited) continue;
    const n = f.fieldNumber;
    if (n === layout.transInfo) {
      try {
        const entry = decodeMapEntry(buf, f.valueStart, f.end);
        out.set(entry.key.toLowerCase(), entry.value.toString('utf8'));
      } catch (err) {
        // Parsed lazily, after decode accepted the frame: skip a malformed entry rather
        // than fail a route lookup; the bytes are still forwarded untouched.
        if (!(err instanceof ProtobufWireError)) throw err;
      }
    } else if (n === layout.caller) {
      caller = decodeName(buf, f.valueStart, f.end);
    } else if (n === layout.callee) {
      callee = decodeName(buf, f.valueStart, f.end);
    } else if (n === layout.func) {
      func = decodeName(buf, f.valueStart, f.end);
    }
  }
  // Set last: the header's own names win over trans_info entries of the same key.
  if (caller !== undefined) out.set('caller', caller);
  if (callee !== undefined) out.set('callee', callee);
  if (func !== undefined) out.set('func', func);
  return out;
}
