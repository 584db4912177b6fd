/**
 * A bRPC baidu_std test peer built on protobufjs and test/peers/proto/brpc.proto (the
 * official field numbers), independent of Meltemi's codec: an Echo server that can answer
 * pipelined requests out of order, and a client that pipelines requests with 64-bit
 * correlation ids and user_fields. Used by the unit tests and by interop tests through the
 * proxy.
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
// keepCase: the tests speak the .proto's own field names (correlation_id, user_fields).
const root = new protobuf.Root().loadSync(protoFile('brpc.proto'), { keepCase: true });

/** protobufjs types of the bRPC meta and the echo payload. */
export const BrpcTypes = {
  RpcMeta: root.lookupType('brpc.policy.RpcMeta'),
  StreamFrameMeta: root.lookupType('brpc.policy.StreamFrameMeta'),
  EchoRequest: root.lookupType('brpc.policy.EchoRequest'),
  EchoResponse: root.lookupType('brpc.policy.EchoResponse'),
};

/** RpcMeta as a plain object (protobufjs `toObject` with longs and bytes as strings). */
export interface RpcMetaObject {
  request?: { service_name: string; method_name: string; log_id?: string; timeout_ms?: number };
  response?: { error_code?: number; error_text?: string };
  correlation_id?: string;
  attachment_size?: number;
  user_fields?: Record<string, string>;
  [field: string]: unknown;
}

/** One decoded bRPC frame. */
export interface BrpcFrame {
  magic: string;
  meta: RpcMetaObject;
  payload: Buffer;
  attachment: Buffer;
  raw: Buffer;
}

const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false } as const;

/** Decodes an RpcMeta with protobufjs. */
export function decodeRpcMeta(bytes: Uint8Array): RpcMetaObject {
  return BrpcTypes.RpcMeta.toObject(BrpcTypes.RpcMeta.decode(bytes), TO_OBJECT) as RpcMetaObject;
}

/** Builds a `PRPC` frame from an RpcMeta object, a payload and an attachment. */
export function encodeBrpcFrame(meta: Record<string, unknown>, payload: Uint8Array, attachment: Uint8Array = Buffer.alloc(0)): Buffer {
  const full = attachment.length > 0 ? { ...meta, attachment_size: attachment.length } : meta;
  const metaBytes = BrpcTypes.RpcMeta.encode(BrpcTypes.RpcMeta.fromObject(full)).finish();
  const head = Buffer.alloc(12);
  head.write('PRPC', 0, 'latin1');
  head.writeUInt32BE(metaBytes.length + payload.length + attachment.length, 4);
  head.writeUInt32BE(metaBytes.length, 8);
  return Buffer.concat([head, metaBytes, payload, attachment]);
}

/** Splits a byte stream into bRPC frames (PRPC or STRM), independent of the codec. */
export class BrpcFramer {
  #buf: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns every frame completed by them. */
  push(chunk: Buffer): BrpcFrame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: BrpcFrame[] = [];
    while (this.#buf.length >= 12) {
      const body = this.#buf.readUInt32BE(4);
      if (this.#buf.length < 12 + body) break;
      const raw = this.#buf.subarray(0, 12 + body);
      this.#buf = this.#buf.subarray(12 + body);
      out.push(parseBrpcFrame(raw));
    }
    return out;
  }
}

/** Parses one complete frame. */
export function parseBrpcFrame(raw: Buffer): BrpcFrame {
  const magic = raw.toString('latin1', 0, 4);
  const metaSize = raw.readUInt32BE(8);
  const metaBytes = raw.subarray(12, 12 + metaSize);
  const meta =
    magic === 'STRM'
      ? (BrpcTypes.StreamFrameMeta.toObject(BrpcTypes.StreamFrameMeta.decode(metaBytes), TO_OBJECT) as RpcMetaObject)
      : decodeRpcMeta(metaBytes);
  const attachmentSize = meta.attachment_size ?? 0;
  const rest = raw.subarray(12 + metaSize);
  return {
    magic,
    meta,
    payload: rest.subarray(0, rest.length - attachmentSize),
    attachment: rest.subarray(rest.length - attachmentSize),
    raw,
  };
}

/** Options of {@link startBrpcServer}. */
export interface BrpcServerOptions {
  /** Put in every reply: `<name>:<request message>`. */
  name: string;
  /**
   * Hold requests until this many are pending, then answer them in reverse order (as the
   * real brpc echo_server answers pipelined requests out of order). Default 1.
   */
  batch?: number;
  /** Methods answered; others get ENOMETHOD (1002) like brpc. Default ['Echo']. */
  methods?: string[];
}

/** A running {@link startBrpcServer}. */
export interface BrpcServer {
  port: number;
  /** Every request received, in arrival order. */
  received: BrpcFrame[];
  close(): Promise<void>;
}

/**
 * An Echo server: replies EchoResponse{message: `<name>:<message>`} with the request's
 * correlation_id, its user_fields echoed back, and its attachment.
 */
export async function startBrpcServer(options: BrpcServerOptions): Promise<BrpcServer> {
  const batch = options.batch ?? 1;
  const methods = new Set(options.methods ?? ['Echo']);
  const received: BrpcFrame[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new BrpcFramer();
    let pending: BrpcFrame[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) {
        received.push(frame);
        pending.push(frame);
      }
      if (pending.length < batch) return;
      const replies = pending.reverse().map((f) => replyTo(f, options.name, methods));
      pending = [];
      socket.write(Buffer.concat(replies));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function replyTo(frame: BrpcFrame, name: string, methods: Set<string>): Buffer {
  const correlation = frame.meta.correlation_id ?? '0';
  const method = frame.meta.request?.method_name ?? '';
  const service = frame.meta.request?.service_name ?? '';
  if (!methods.has(method)) {
    return encodeBrpcFrame(
      { response: { error_code: 1002, error_text: `Fail to find method=${service}/${method}` }, correlation_id: correlation },
      Buffer.alloc(0),
    );
  }
  const req = BrpcTypes.EchoRequest.toObject(BrpcTypes.EchoRequest.decode(frame.payload)) as { message: string };
  const payload = BrpcTypes.EchoResponse.encode({ message: `${name}:${req.message}` }).finish();
  const meta: Record<string, unknown> = { response: { error_code: 0 }, correlation_id: correlation };
  if (frame.meta.user_fields !== undefined) meta['user_fields'] = frame.meta.user_fields;
  return encodeBrpcFrame(meta, payload, frame.attachment);
}

/** The outcome of one call. */
export interface BrpcResult {
  correlationId: bigint;
  errorCode: number;
  errorText: string;
  /** EchoResponse.message, '' on error. */
  message: string;
  userFields: Record<string, string>;
  attachment: Buffer;
  meta: RpcMetaObject;
}

/** Options of one {@link BrpcClient.call}. */
export interface BrpcCallOptions {
  service?: string;
  method?: string;
  correlationId?: bigint;
  userFields?: Record<string, string>;
  attachment?: Buffer;
  logId?: number;
}

/**
 * A baidu_std client on one connection. Calls are matched to replies by correlation_id,
 * so replies may come back in any order; a reply with an unknown id fails the client.
 */
export class BrpcClient {
  readonly #socket: net.Socket;
  readonly #framer = new BrpcFramer();
  readonly #waiting = new Map<string, (r: BrpcResult) => void>();
  /** Real brpc clients use bthread ids such as 0x1_0000_0002: start above 2^32. */
  #nextId = (1n << 32n) + 2n;
  /** Replies whose correlation_id matched no call. */
  readonly unexpected: BrpcFrame[] = [];

  /** Settles when the connection closed (drain tests wait for it next to their calls). */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#framer.push(chunk)) this.#onFrame(frame);
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<BrpcClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new BrpcClient(socket);
  }

  #onFrame(frame: BrpcFrame): void {
    // protobufjs reads int64 as signed; the waiting map is keyed by the unsigned value.
    const id = BigInt.asUintN(64, BigInt(frame.meta.correlation_id ?? '0')).toString();
    const resolve = this.#waiting.get(id);
    if (resolve === undefined) {
      this.unexpected.push(frame);
      return;
    }
    this.#waiting.delete(id);
    const errorCode = frame.meta.response?.error_code ?? 0;
    const message =
      errorCode === 0 && frame.payload.length > 0
        ? (BrpcTypes.EchoResponse.toObject(BrpcTypes.EchoResponse.decode(frame.payload)) as { message: string }).message
        : '';
    resolve({
      correlationId: BigInt(id),
      errorCode,
      errorText: frame.meta.response?.error_text ?? '',
      message,
      userFields: frame.meta.user_fields ?? {},
      attachment: frame.attachment,
      meta: frame.meta,
    });
  }

  /** The frame {@link call} would send, and the promise of its reply. */
  #prepare(message: string, options: BrpcCallOptions): { frame: Buffer; reply: Promise<BrpcResult> } {
    const id = options.correlationId ?? this.#nextId;
    this.#nextId = id + (1n << 32n);
    const request: Record<string, unknown> = {
      service_name: options.service ?? 'example.EchoService',
      method_name: options.method ?? 'Echo',
    };
    if (options.logId !== undefined) request['log_id'] = options.logId;
    const meta: Record<string, unknown> = { request, correlation_id: BigInt.asIntN(64, id).toString() };
    if (options.userFields !== undefined) meta['user_fields'] = options.userFields;
    const payload = BrpcTypes.EchoRequest.encode({ message }).finish();
    const frame = encodeBrpcFrame(meta, payload, options.attachment);
    const reply = new Promise<BrpcResult>((resolve) => this.#waiting.set(BigInt.asUintN(64, id).toString(), resolve));
    return { frame, reply };
  }

  /** One Echo call. */
  call(message: string, options: BrpcCallOptions = {}): Promise<BrpcResult> {
    const { frame, reply } = this.#prepare(message, options);
    this.#socket.write(frame);
    return reply;
  }

  /**
   * `n` Echo calls written in one batch (pipelined), each with a distinct 64-bit
   * correlation id and a `x-seq` user field; resolves with the replies in call order.
   */
  pipeline(n: number, options: Omit<BrpcCallOptions, 'correlationId'> = {}): Promise<BrpcResult[]> {
    const frames: Buffer[] = [];
    const replies: Promise<BrpcResult>[] = [];
    for (let i = 0; i < n; i++) {
      const userFields = { ...(options.userFields ?? {}), 'x-seq': String(i) };
      const { frame, reply } = this.#prepare(`m${i}`, { ...options, userFields });
      frames.push(frame);
      replies.push(reply);
    }
    this.#socket.write(Buffer.concat(frames));
    return Promise.all(replies);
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }
}
