import { EMPTY_METADATA, MessageType, ResponseStatus } from '../api/index.js';
import type { Message, Metadata, RequestId } from '../api/index.js';
import { HEADER_SIZE } from './frame.js';
import type { RequestBody } from './request-body.js';
import { Attachments } from './attachments.js';
import { Hessian2Reader } from './hessian2-reader.js';

function isOkResponse(type: MessageType, frame: Buffer): boolean {
  return (type === MessageType.Response || type === MessageType.Error) && frame[3] === 20 && (frame[2]! & 0x80) === 0;
}

/** Metadata of a Dubbo request: header strings first, attachments on demand. */
export class RequestMetadata implements Metadata {
  readonly body: RequestBody;
  constructor(body: RequestBody) {
    this.body = body;
  }

  get(key: string): string | undefined {
    const b = this.body;
    switch (key) {
      case 'interface':
        return b.path !== '' ? b.path : b.attachments.values.get('interface');
      case 'method':
        return b.method;
      case 'version':
        return b.version !== '' ? b.version : b.attachments.values.get('version');
      case 'path':
        return b.attachments.values.get('path') ?? b.path;
      default:
        return b.attachments.values.get(key);
    }
  }

  *entries(): Iterable<[string, string]> {
    const b = this.body;
    const seen = new Set<string>();
    for (const key of ['interface', 'method', 'version']) {
      const v = this.get(key);
      if (v !== undefined) {
        seen.add(key);
        yield [key, v];
      }
    }
    for (const entry of b.attachments.values) if (!seen.has(entry[0])) yield entry;
  }
}

/**
 * Metadata of an OK response: the attachments of result flags 3-5 (dubbo 2.0.2+ peers), read
 * on first use. Other responses carry none.
 */
export class ResponseMetadata implements Metadata {
  readonly #frame: Buffer;
  #values: Map<string, string> | undefined;

  constructor(frame: Buffer) {
    this.#frame = frame;
  }

  #parse(): Map<string, string> {
    if (this.#values !== undefined) return this.#values;
    this.#values = new Map();
    try {
      const r = new Hessian2Reader(this.#frame, HEADER_SIZE);
      const flag = r.readInt();
      if (flag >= 3 && flag <= 5) {
        if (flag !== 5) r.skipValue();
        this.#values = Attachments.parse(r).values;
      }
    } catch {
      // An undecodable result carries no readable attachments; the bytes still pass through.
    }
    return this.#values;
  }

  get(key: string): string | undefined {
    return this.#parse().get(key);
  }

  entries(): Iterable<[string, string]> {
    return this.#parse().entries();
  }
}

export class DubboMessage implements Message {
  type: MessageType;
  requestId: RequestId;
  streamId = 0;
  frame: Buffer;
  headerSize = HEADER_SIZE;
  bodySize: number;
  status: ResponseStatus;
  metadata: Metadata;
  upstreamKey = '';
  decodeError?: string;
  goAway?: boolean;
  /** The parsed request body (requests with a hessian2 body only). */
  readonly body: RequestBody | undefined;

  constructor(type: MessageType, requestId: RequestId, frame: Buffer, status: ResponseStatus, body: RequestBody | undefined) {
    this.type = type;
    this.requestId = requestId;
    this.frame = frame;
    this.bodySize = frame.length - HEADER_SIZE;
    this.status = status;
    this.body = body;
    this.metadata = body !== undefined ? new RequestMetadata(body) : isOkResponse(type, frame) ? new ResponseMetadata(frame) : EMPTY_METADATA;
  }

  get operationName(): string {
    return this.body === undefined ? '' : `${this.body.path}/${this.body.method}`;
  }
}
