/**
 * A tRPC test peer built on protobufjs and test/peers/proto/trpc.proto (the official field
 * numbers), independent of Meltemi's codec: a unary + streaming echo server that behaves
 * like trpc-go (echoes the request id in the header and @10, copies the version byte), and
 * a client for unary, one-way and many concurrent streams on one connection.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The .proto files stay in the source tree; compiled tests (dist/test/peers) read them from there. */
function protoFile(name: string): string {
  const beside = path.join(here, 'proto', name);
  return existsSync(beside) ? beside : path.join(here, '..', '..', '..', 'test', 'peers', 'proto', name);
}
// keepCase: the tests speak the .proto's own field names (request_id, trans_info).
const root = new protobuf.Root().loadSync(protoFile('trpc.proto'), { keepCase: true });

/** protobufjs types of the tRPC headers and the helloworld payload. */
export const TrpcTypes = {
  RequestProtocol: root.lookupType('trpc.RequestProtocol'),
  ResponseProtocol: root.lookupType('trpc.ResponseProtocol'),
  InitMeta: root.lookupType('trpc.TrpcStreamInitMeta'),
  FeedbackMeta: root.lookupType('trpc.TrpcStreamFeedBackMeta'),
  CloseMeta: root.lookupType('trpc.TrpcStreamCloseMeta'),
  HelloRequest: root.lookupType('trpc.HelloRequest'),
  HelloReply: root.lookupType('trpc.HelloReply'),
};

const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false } as const;

/** A protobufjs `toObject` result; bytes fields come back base64. */
export type PbObject = Record<string, unknown>;

/** Decodes `bytes` (base64 from toObject) to UTF-8. */
export function b64(value: unknown): string {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';
}

/** Decodes a trans_info map from toObject form to strings. */
export function transInfo(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = b64(v);
  }
  return out;
}

/** One decoded tRPC frame. */
export interface TrpcFrame {
  dataFrameType: number;
  streamFrameType: number;
  /** The u32 @10. */
  streamId: number;
  version: number;
  /** The protobuf header (unary) or stream meta (INIT, FEEDBACK, CLOSE) as raw bytes. */
  header: Buffer;
  /** Body + attachment (unary) or data (stream DATA). */
  body: Buffer;
  raw: Buffer;
}

/** The fixed-header fields of a frame to build. */
export interface TrpcHead {
  dataFrameType?: number;
  streamFrameType?: number;
  streamId?: number;
  version?: number;
}

/** Builds a frame: fixed header, `pbHeader` (unary; counted in header_len), `rest`. */
export function encodeTrpcFrame(head: TrpcHead, pbHeader: Uint8Array, rest: Uint8Array = Buffer.alloc(0)): Buffer {
  const isStream = (head.dataFrameType ?? 0) === 1;
  const fixed = Buffer.alloc(16);
  fixed.writeUInt16BE(0x0930, 0);
  fixed[2] = head.dataFrameType ?? 0;
  fixed[3] = head.streamFrameType ?? 0;
  fixed.writeUInt32BE(16 + pbHeader.length + rest.length, 4);
  fixed.writeUInt16BE(isStream ? 0 : pbHeader.length, 8);
  fixed.writeUInt32BE(head.streamId ?? 0, 10);
  fixed[14] = head.version ?? 1;
  return Buffer.concat([fixed, pbHeader, rest]);
}

/** Encodes a protobuf message of `type` from a plain object. */
export function pb(type: protobuf.Type, value: PbObject): Uint8Array {
  return type.encode(type.fromObject(value)).finish();
}

/** Decodes a protobuf message of `type` to a plain object. */
export function unpb(type: protobuf.Type, bytes: Uint8Array): PbObject {
  return type.toObject(type.decode(bytes), TO_OBJECT);
}

/** Splits a byte stream into tRPC frames, independent of the codec. */
export class TrpcFramer {
  #buf: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns every frame completed by them. */
  push(chunk: Buffer): TrpcFrame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: TrpcFrame[] = [];
    while (this.#buf.length >= 16) {
      const total = this.#buf.readUInt32BE(4);
      if (this.#buf.length < total) break;
      const raw = this.#buf.subarray(0, total);
      this.#buf = this.#buf.subarray(total);
      out.push(parseTrpcFrame(raw));
    }
    return out;
  }
}

/** Parses one complete frame. */
export function parseTrpcFrame(raw: Buffer): TrpcFrame {
  const dataFrameType = raw[2]!;
  const streamFrameType = raw[3]!;
  const headerLen = raw.readUInt16BE(8);
  const isStream = dataFrameType === 1;
  // Stream frames: INIT/FEEDBACK/CLOSE carry a meta after the fixed header, DATA carries data.
  const metaLen = isStream ? (streamFrameType === 2 ? 0 : raw.length - 16) : headerLen;
  return {
    dataFrameType,
    streamFrameType,
    streamId: raw.readUInt32BE(10),
    version: raw[14]!,
    header: raw.subarray(16, 16 + metaLen),
    body: raw.subarray(16 + metaLen),
    raw,
  };
}

/** Options of {@link startTrpcServer}. */
export interface TrpcServerOptions {
  /** Put in every reply: `<name>:<request msg>`. */
  name: string;
  /** Hold unary requests until this many are pending, then answer in reverse order. Default 1. */
  batch?: number;
  /** Funcs answered; others get ret 12 (NOFUNC). Default: any func ending in `/SayHello`. */
  accepts?: (func: string) => boolean;
  /**
   * Imitate trpc-cpp: reply with 0 @10 and version 0 whatever the request had (the id is
   * only in the protobuf header).
   */
  cppStyle?: boolean;
}

/** A running {@link startTrpcServer}. */
export interface TrpcServer {
  port: number;
  /** Unary and one-way request headers received, in order, with their fixed header. */
  received: { header: PbObject; frame: TrpcFrame }[];
  /** Stream ids whose CLOSE was received. */
  closedStreams: number[];
  close(): Promise<void>;
}

/**
 * An echo server. Unary: HelloReply{msg: `<name>:<msg>`}, request_id echoed, trans_info
 * echoed, @10 and version copied from the request (trpc-go's behaviour). Streams: INIT is
 * accepted, each DATA is echoed as DATA `<name>:<msg>` on the same stream, CLOSE is
 * answered with CLOSE.
 */
export async function startTrpcServer(options: TrpcServerOptions): Promise<TrpcServer> {
  const batch = options.batch ?? 1;
  const accepts = options.accepts ?? ((func: string) => func.endsWith('/SayHello'));
  const received: TrpcServer['received'] = [];
  const closedStreams: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new TrpcFramer();
    let pending: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      const out: Buffer[] = [];
      for (const frame of framer.push(chunk)) {
        if (frame.dataFrameType === 1) {
          const reply = streamReply(frame, options.name, closedStreams);
          if (reply !== null) out.push(reply);
          continue;
        }
        const header = unpb(TrpcTypes.RequestProtocol, frame.header);
        received.push({ header, frame });
        if (header['call_type'] === 1) continue;
        pending.push(unaryReply(frame, header, options, accepts));
      }
      if (pending.length >= batch) {
        out.push(...pending.reverse());
        pending = [];
      }
      if (out.length > 0) socket.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    closedStreams,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function unaryReply(frame: TrpcFrame, header: PbObject, options: TrpcServerOptions, accepts: (func: string) => boolean): Buffer {
  const requestId = (header['request_id'] as number | undefined) ?? 0;
  const head = options.cppStyle ? { streamId: 0, version: 0 } : { streamId: frame.streamId, version: frame.version };
  const func = b64(header['func']);
  if (!accepts(func)) {
    const rsp = pb(TrpcTypes.ResponseProtocol, { request_id: requestId, ret: 12, error_msg: Buffer.from('service has no func') });
    return encodeTrpcFrame(head, rsp);
  }
  const body = unpb(TrpcTypes.HelloRequest, frame.body) as { msg?: string };
  const rspHeader: PbObject = { request_id: requestId };
  if (header['trans_info'] !== undefined) {
    const ti: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(transInfo(header['trans_info']))) ti[k] = Buffer.from(v);
    rspHeader['trans_info'] = ti;
  }
  return encodeTrpcFrame(head, pb(TrpcTypes.ResponseProtocol, rspHeader), pb(TrpcTypes.HelloReply, { msg: `${options.name}:${body.msg ?? ''}` }));
}

function streamReply(frame: TrpcFrame, name: string, closedStreams: number[]): Buffer | null {
  const head = { dataFrameType: 1, streamId: frame.streamId, version: frame.version };
  switch (frame.streamFrameType) {
    case 1: // INIT: accept with a window
      return encodeTrpcFrame({ ...head, streamFrameType: 1 }, Buffer.alloc(0), pb(TrpcTypes.InitMeta, { response_meta: { ret: 0 }, init_window_size: 65536 }));
    case 2: {
      const body = unpb(TrpcTypes.HelloRequest, frame.body) as { msg?: string };
      return encodeTrpcFrame({ ...head, streamFrameType: 2 }, Buffer.alloc(0), pb(TrpcTypes.HelloReply, { msg: `${name}:${body.msg ?? ''}` }));
    }
    case 4:
      closedStreams.push(frame.streamId);
      return encodeTrpcFrame({ ...head, streamFrameType: 4 }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: 0 }));
    default:
      return null;
  }
}

/** The outcome of a unary call. */
export interface TrpcResult {
  requestId: number;
  ret: number;
  funcRet: number;
  errorMsg: string;
  /** HelloReply.msg ('' on error). */
  msg: string;
  transInfo: Record<string, string>;
  frame: TrpcFrame;
}

/** Options of {@link TrpcClient.call}. */
export interface TrpcCallOptions {
  func?: string;
  callee?: string;
  caller?: string;
  requestId?: number;
  transInfo?: Record<string, string>;
  /** Fixed-header version byte: 1 like trpc-go (id also @10), 0 like trpc-cpp (0 @10). */
  version?: number;
}

/** One client-side stream. */
export interface TrpcClientStream {
  streamId: number;
  /** Resolves with the INIT answer's ret. */
  ready: Promise<number>;
  /** Echoed DATA messages, in order. */
  messages: string[];
  send(msg: string): void;
  /** Sends CLOSE; resolves when the server's CLOSE arrives. */
  close(): Promise<void>;
}

const DEFAULT_FUNC = '/trpc.test.helloworld.Greeter/SayHello';
const DEFAULT_CALLEE = 'trpc.test.helloworld.Greeter';

/**
 * A tRPC client on one connection: unary calls matched by protobuf request_id (any order),
 * one-way calls, and streams matched by stream id.
 */
export class TrpcClient {
  readonly #socket: net.Socket;
  readonly #framer = new TrpcFramer();
  readonly #waiting = new Map<number, (r: TrpcResult) => void>();
  readonly #streams = new Map<number, { ready: (ret: number) => void; closed: () => void; messages: string[] }>();
  #nextId = 1;
  #nextStream = 100;
  /** Frames that matched no call or stream. */
  readonly unexpected: TrpcFrame[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#framer.push(chunk)) this.#onFrame(frame);
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<TrpcClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TrpcClient(socket);
  }

  #onFrame(frame: TrpcFrame): void {
    if (frame.dataFrameType === 1) {
      const s = this.#streams.get(frame.streamId);
      if (s === undefined) {
        this.unexpected.push(frame);
        return;
      }
      if (frame.streamFrameType === 1) {
        const init = unpb(TrpcTypes.InitMeta, frame.header) as { response_meta?: { ret?: number } };
        s.ready(init.response_meta?.ret ?? 0);
      } else if (frame.streamFrameType === 2) {
        s.messages.push((unpb(TrpcTypes.HelloReply, frame.body) as { msg?: string }).msg ?? '');
      } else if (frame.streamFrameType === 4) {
        this.#streams.delete(frame.streamId);
        s.ready(-1);
        s.closed();
      }
      return;
    }
    const header = unpb(TrpcTypes.ResponseProtocol, frame.header);
    const requestId = (header['request_id'] as number | undefined) ?? 0;
    const resolve = this.#waiting.get(requestId);
    if (resolve === undefined) {
      this.unexpected.push(frame);
      return;
    }
    this.#waiting.delete(requestId);
    const ret = (header['ret'] as number | undefined) ?? 0;
    const funcRet = (header['func_ret'] as number | undefined) ?? 0;
    resolve({
      requestId,
      ret,
      funcRet,
      errorMsg: b64(header['error_msg']),
      msg: ret === 0 && frame.body.length > 0 ? ((unpb(TrpcTypes.HelloReply, frame.body) as { msg?: string }).msg ?? '') : '',
      transInfo: transInfo(header['trans_info']),
      frame,
    });
  }

  #requestFrame(msg: string, options: TrpcCallOptions, callType: number): { id: number; frame: Buffer } {
    const id = options.requestId ?? this.#nextId++;
    const header: PbObject = {
      call_type: callType,
      request_id: id,
      timeout: 1000,
      caller: Buffer.from(options.caller ?? 'trpc.app.client.service'),
      callee: Buffer.from(options.callee ?? DEFAULT_CALLEE),
      func: Buffer.from(options.func ?? DEFAULT_FUNC),
    };
    if (options.transInfo !== undefined) {
      const ti: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(options.transInfo)) ti[k] = Buffer.from(v);
      header['trans_info'] = ti;
    }
    const version = options.version ?? 1;
    const frame = encodeTrpcFrame(
      { streamId: version >= 1 ? id : 0, version },
      pb(TrpcTypes.RequestProtocol, header),
      pb(TrpcTypes.HelloRequest, { msg }),
    );
    return { id, frame };
  }

  /** One unary call. */
  call(msg: string, options: TrpcCallOptions = {}): Promise<TrpcResult> {
    const { id, frame } = this.#requestFrame(msg, options, 0);
    const reply = new Promise<TrpcResult>((resolve) => this.#waiting.set(id, resolve));
    this.#socket.write(frame);
    return reply;
  }

  /** `n` unary calls written in one batch; replies in call order. */
  pipeline(n: number, options: Omit<TrpcCallOptions, 'requestId'> = {}): Promise<TrpcResult[]> {
    const frames: Buffer[] = [];
    const replies: Promise<TrpcResult>[] = [];
    for (let i = 0; i < n; i++) {
      const { id, frame } = this.#requestFrame(`m${i}`, { ...options, transInfo: { ...(options.transInfo ?? {}), 'x-seq': String(i) } }, 0);
      frames.push(frame);
      replies.push(new Promise<TrpcResult>((resolve) => this.#waiting.set(id, resolve)));
    }
    this.#socket.write(Buffer.concat(frames));
    return Promise.all(replies);
  }

  /** A one-way call (call_type 1): nothing comes back. */
  oneway(msg: string, options: TrpcCallOptions = {}): void {
    this.#socket.write(this.#requestFrame(msg, options, 1).frame);
  }

  /** Opens a stream (INIT with request_meta) on a fresh stream id. */
  openStream(options: { func?: string; callee?: string; transInfo?: Record<string, string> } = {}): TrpcClientStream {
    const streamId = this.#nextStream++;
    let ready!: (ret: number) => void;
    let closed!: () => void;
    const readyP = new Promise<number>((resolve) => (ready = resolve));
    const closedP = new Promise<void>((resolve) => (closed = resolve));
    const messages: string[] = [];
    this.#streams.set(streamId, { ready, closed, messages });
    const requestMeta: PbObject = {
      caller: Buffer.from('trpc.app.client.service'),
      callee: Buffer.from(options.callee ?? DEFAULT_CALLEE),
      func: Buffer.from(options.func ?? DEFAULT_FUNC),
    };
    if (options.transInfo !== undefined) {
      const ti: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(options.transInfo)) ti[k] = Buffer.from(v);
      requestMeta['trans_info'] = ti;
    }
    const head = { dataFrameType: 1, streamId, version: 1 };
    this.#socket.write(encodeTrpcFrame({ ...head, streamFrameType: 1 }, Buffer.alloc(0), pb(TrpcTypes.InitMeta, { request_meta: requestMeta, init_window_size: 65536 })));
    const socket = this.#socket;
    return {
      streamId,
      ready: readyP,
      messages,
      send(msg: string): void {
        socket.write(encodeTrpcFrame({ ...head, streamFrameType: 2 }, Buffer.alloc(0), pb(TrpcTypes.HelloRequest, { msg })));
      },
      close(): Promise<void> {
        socket.write(encodeTrpcFrame({ ...head, streamFrameType: 4 }, Buffer.alloc(0), pb(TrpcTypes.CloseMeta, { close_type: 0 })));
        return closedP;
      },
    };
  }

  /**
   * Opens `streams` streams at once, sends `messages` DATA frames on each, closes them all,
   * and resolves with the echoed messages per stream once every server CLOSE arrived.
   */
  async runStreams(streams: number, messages: number, options: { func?: string } = {}): Promise<string[][]> {
    const opened = Array.from({ length: streams }, () => this.openStream(options));
    await Promise.all(opened.map((s) => s.ready));
    for (let m = 0; m < messages; m++) for (const s of opened) s.send(`s${s.streamId}-m${m}`);
    await Promise.all(opened.map((s) => s.close()));
    return opened.map((s) => s.messages);
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }
}
