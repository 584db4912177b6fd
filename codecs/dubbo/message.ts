import { EMPTY_METADATA, MessageType, ResponseStatus } from '../api/index.js';
import type { Message, Metadata, RequestId } from '../api/index.js';
import { HEADER_SIZE } from './frame.js';
import type { RequestBody } from './request-body.js';

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
    this.metadata = body === undefined ? EMPTY_METADATA : new RequestMetadata(body);
  }

  get operationName(): string {
    return this.body === undefined ? '' : `${this.body.path}/${this.body.method}`;
  }
}
