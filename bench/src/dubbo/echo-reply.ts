// What the echo server answers to one request frame. Kept apart from the socket code so the
// reply rules (heartbeat, one-way, OK echo, bad request) read in one place.
import {
  FLAG_EVENT,
  FLAG_REQUEST,
  FLAG_TWOWAY,
  HEADER_SIZE,
  HESSIAN_NULL,
  RESULT_VALUE,
  SERIALIZATION_MASK,
  STATUS_BAD_REQUEST,
  STATUS_OK,
  writeHeader,
} from './frame.ts';
import { skipString } from './hessian.ts';

/** Number of leading strings in a request body: dubbo version, path, version, method, descriptor. */
const LEADING_STRINGS = 5;
const BAD_REQUEST_TEXT = Buffer.from('\x0bbad request', 'latin1'); // hessian short string

/**
 * Returns the reply to the request at `buf[off .. off + length)`, or null when none is due
 * (one-way requests, responses, events that are not two-way).
 */
export function echoReply(buf: Buffer, off: number, length: number): Buffer | null {
  const flag = buf[off + 2]!;
  if ((flag & FLAG_REQUEST) === 0 || (flag & FLAG_TWOWAY) === 0) return null;
  const serialization = flag & SERIALIZATION_MASK;
  if ((flag & FLAG_EVENT) !== 0) {
    // Heartbeat: same id, flag 0x22, status OK, body hessian null (wire-formats §1.3).
    const reply = Buffer.allocUnsafe(HEADER_SIZE + 1);
    writeHeader(reply, FLAG_EVENT | serialization, STATUS_OK, 1);
    buf.copy(reply, 4, off + 4, off + 12);
    reply[HEADER_SIZE] = HESSIAN_NULL;
    return reply;
  }
  const end = off + length;
  let pos = off + HEADER_SIZE;
  for (let i = 0; i < LEADING_STRINGS && pos >= 0; i++) pos = skipString(buf, pos, end);
  const argStart = pos;
  const argEnd = argStart < 0 ? -1 : skipString(buf, argStart, end);
  if (argEnd < 0) {
    const reply = Buffer.allocUnsafe(HEADER_SIZE + BAD_REQUEST_TEXT.length);
    writeHeader(reply, serialization, STATUS_BAD_REQUEST, BAD_REQUEST_TEXT.length);
    buf.copy(reply, 4, off + 4, off + 12);
    BAD_REQUEST_TEXT.copy(reply, HEADER_SIZE);
    return reply;
  }
  // OK: result flag RESPONSE_VALUE, then the argument's own bytes, so the response is the same
  // size as the argument and the load generator can check it by length alone.
  const argSize = argEnd - argStart;
  const reply = Buffer.allocUnsafe(HEADER_SIZE + 1 + argSize);
  writeHeader(reply, serialization, STATUS_OK, 1 + argSize);
  buf.copy(reply, 4, off + 4, off + 12);
  reply[HEADER_SIZE] = RESULT_VALUE;
  buf.copy(reply, HEADER_SIZE + 1, argStart, argEnd);
  return reply;
}
