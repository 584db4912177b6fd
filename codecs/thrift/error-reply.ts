import { ErrorType } from '../api/index.js';
import { AppExceptionType, ThriftMessageType } from './constants.js';
import {
  binaryAppExceptionSize,
  binaryMessageHeaderSize,
  writeBinaryAppException,
  writeBinaryMessageHeader,
} from './binary-protocol.js';
import {
  compactAppExceptionSize,
  compactMessageHeaderSize,
  writeCompactAppException,
  writeCompactMessageHeader,
} from './compact-protocol.js';
import type { ThriftProtocol } from './message-header.js';
import { buildTHeaderFrame } from './theader.js';
import type { ThriftTransport } from './transport-detect.js';

/**
 * The TApplicationException type for a proxy error:
 * - RouteNotFound → UNKNOWN_METHOD (1): for the client nothing serves this method here,
 *   which is what a server without the method would say;
 * - BadRequest → PROTOCOL_ERROR (7): the request itself could not be handled;
 * - everything else → INTERNAL_ERROR (6), as Aeraki does for every local reply: the failure
 *   is the proxy's or the upstream's (no cluster, no healthy host, timeout, reset, limits).
 */
export function appExceptionTypeFor(error: ErrorType): AppExceptionType {
  switch (error) {
    case ErrorType.RouteNotFound:
      return AppExceptionType.UnknownMethod;
    case ErrorType.BadRequest:
      return AppExceptionType.ProtocolError;
    default:
      return AppExceptionType.InternalError;
  }
}

/** Where an error reply goes: the request's transport, protocol and (THeader) protocol id. */
export interface ErrorReplyTarget {
  transport: ThriftTransport;
  protocol: ThriftProtocol;
  /** THeader protocol id of the request frame (used only for THeader). */
  protocolId: number;
}

/**
 * Builds an EXCEPTION message carrying TApplicationException {1: message, 2: type} with the
 * request's `name` and `seqid`, framed as the request was. Generated clients read an
 * EXCEPTION message before looking at the result struct, so they raise it at once.
 */
export function buildErrorReply(
  target: ErrorReplyTarget,
  name: string,
  seqid: number,
  type: AppExceptionType,
  text: string,
): Buffer {
  const binary = target.protocol === 'binary';
  const size = binary
    ? binaryMessageHeaderSize(name) + binaryAppExceptionSize(text)
    : compactMessageHeaderSize(name, seqid) + compactAppExceptionSize(text, type);
  const prefix = target.transport === 'framed' ? 4 : 0;
  const out = Buffer.allocUnsafe(prefix + size);
  let p = prefix;
  if (binary) {
    p = writeBinaryMessageHeader(out, p, name, ThriftMessageType.Exception, seqid);
    writeBinaryAppException(out, p, text, type);
  } else {
    p = writeCompactMessageHeader(out, p, name, ThriftMessageType.Exception, seqid);
    writeCompactAppException(out, p, text, type);
  }
  if (target.transport === 'framed') out.writeUInt32BE(size, 0);
  if (target.transport !== 'header') return out;
  return buildTHeaderFrame({
    flags: 0,
    seqid,
    protocolId: target.protocolId,
    transforms: [],
    headers: [],
    rawTail: null,
    payload: out,
  });
}
