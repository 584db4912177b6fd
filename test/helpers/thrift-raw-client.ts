/**
 * A framed, strict-binary Thrift client written by hand, for tests that need what real
 * clients send but the npm client cannot be made to: CALL messages for one-way methods
 * (as Go's Thrift library sends them), arguments too large for a command line, and
 * pipelined calls whose replies are collected by seqid.
 */
import net from 'node:net';

const VERSION_1 = 0x80010000;
export const T_CALL = 1;
export const T_REPLY = 2;
export const T_EXCEPTION = 3;
export const T_ONEWAY = 4;

export interface ThriftReply {
  type: number;
  name: string;
  seqid: number;
  /** Field 0 of a REPLY when it is a string; the message of a TApplicationException. */
  text: string;
}

/** A framed binary message `name(1: string arg)` of `type`. */
export function thriftCall(name: string, seqid: number, arg: string, type = T_CALL): Buffer {
  const nameBytes = Buffer.from(name);
  const argBytes = Buffer.from(arg);
  const body = Buffer.alloc(4 + 4 + nameBytes.length + 4 + 1 + 2 + 4 + argBytes.length + 1);
  let o = 0;
  o = body.writeUInt32BE((VERSION_1 | type) >>> 0, o);
  o = body.writeInt32BE(nameBytes.length, o);
  o += nameBytes.copy(body, o);
  o = body.writeInt32BE(seqid, o);
  o = body.writeUInt8(11, o); // T_STRING
  o = body.writeInt16BE(1, o);
  o = body.writeInt32BE(argBytes.length, o);
  o += argBytes.copy(body, o);
  body.writeUInt8(0, o); // T_STOP
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** Reads the first string field of a struct (REPLY field 0, TApplicationException message). */
function firstString(buf: Buffer, off: number): string {
  while (off < buf.length) {
    const type = buf[off]!;
    if (type === 0) return '';
    const field = buf.readInt16BE(off + 1);
    off += 3;
    if (type === 11) {
      const n = buf.readInt32BE(off);
      return buf.subarray(off + 4, off + 4 + n).toString();
    }
    if (type === 8) off += 4;
    else throw new Error(`thrift-raw-client: field ${field} of type ${type} not handled`);
  }
  return '';
}

function parseReply(frame: Buffer): ThriftReply {
  const head = frame.readUInt32BE(0);
  const nameLen = frame.readInt32BE(4);
  const name = frame.subarray(8, 8 + nameLen).toString();
  const seqid = frame.readInt32BE(8 + nameLen);
  return { type: head & 0xff, name, seqid, text: firstString(frame, 12 + nameLen) };
}

export class ThriftRawClient {
  readonly socket: net.Socket;
  readonly replies: ThriftReply[] = [];
  #chunks: Buffer[] = [];
  #buffered = 0;
  #waiters = new Map<number, (r: ThriftReply) => void>();
  #seq = 1;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<ThriftRawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new ThriftRawClient(s)));
      s.once('error', reject);
    });
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#buffered < 4) return;
      const head = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [head];
      const len = head.readUInt32BE(0);
      if (head.length < 4 + len) return;
      const reply = parseReply(head.subarray(4, 4 + len));
      const rest = head.subarray(4 + len);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      this.replies.push(reply);
      const w = this.#waiters.get(reply.seqid);
      if (w !== undefined) {
        this.#waiters.delete(reply.seqid);
        w(reply);
      }
    }
  }

  /** Sends `name(arg)` and resolves with its reply (rejects after `timeoutMs`). */
  call(name: string, arg: string, timeoutMs = 5000): Promise<ThriftReply> {
    const seqid = this.#seq++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters.delete(seqid);
        reject(new Error(`no reply to ${name} (seqid ${seqid}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(seqid, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.socket.write(thriftCall(name, seqid, arg));
    });
  }

  /** Sends `name(arg)` as a message of `type` and expects nothing back. */
  send(name: string, arg: string, type: number): void {
    this.socket.write(thriftCall(name, this.#seq++, arg, type));
  }

  close(): void {
    this.socket.destroy();
  }
}
