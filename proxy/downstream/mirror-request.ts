import { FrameReader } from '../../codecs/api/index.js';
import type { ErrorType, Message, MessageType } from '../../codecs/api/index.js';
import type { CopySink, Deadline, RequestSnapshot, SendResult, UpstreamLink } from '../../filters/api/index.js';
import type { Cluster, Host } from '../upstream/cluster.js';
import type { UpstreamConnection, UpstreamRequest } from '../upstream/upstream-connection.js';
import type { ListenerRuntime } from './listener-runtime.js';

/**
 * The runtime's half of a mirror copy (the router's mirror.ts holds the policy): its own
 * decoded message and upstream id, sent on the least loaded connection of the host the
 * router chose. It never pauses the client it copies.
 */
export class MirrorCopy implements UpstreamLink<Host, Cluster>, UpstreamRequest {
  readonly request: Message;
  readonly requestMutation: ReadonlyMap<string, string> | null;
  readonly #listener: ListenerRuntime;
  readonly #sink: CopySink;
  #conn: UpstreamConnection | undefined = undefined;
  #id = 0;

  private constructor(listener: ListenerRuntime, request: Message, mutation: ReadonlyMap<string, string> | null, sink: CopySink) {
    this.#listener = listener;
    this.request = request;
    this.requestMutation = mutation;
    this.#sink = sink;
  }

  /**
   * A fresh decode of `snapshot` (the request's bytes before its id was rewritten) gives the
   * copy its own message object, whatever the codec keeps in it. Undefined when it fails.
   */
  static decode(listener: ListenerRuntime, snapshot: RequestSnapshot, type: MessageType, mutation: ReadonlyMap<string, string> | null, sink: CopySink): MirrorCopy | undefined {
    if (!Buffer.isBuffer(snapshot)) return undefined;
    const reader = new FrameReader();
    reader.push(snapshot);
    const copy = listener.codecFactory.createServerCodec(listener.codecContext).decode(reader);
    if (copy === undefined || copy instanceof Error) return undefined;
    // A method declared one-way (onewayMethods) is one-way for its copy too.
    copy.type = type;
    return new MirrorCopy(listener, copy, mutation, sink);
  }

  /** The least loaded connection of `host`; false when it is congested (the copy is dropped). */
  bind(_cluster: Cluster, host: Host): boolean {
    const listener = this.#listener;
    const conn = host.pool(listener.codecFactory, listener.codecContext, this.request.upstreamKey).pick();
    if (conn.congested) return false;
    this.#conn = conn;
    return true;
  }

  send(): SendResult {
    const unencodable = this.#conn!.send(this);
    this.#id = this.request.requestId as number;
    return unencodable;
  }

  forgetTry(): void {
    this.#conn?.forget(this.#id);
  }

  schedule(target: Deadline, ms: number): void {
    this.#listener.deadlines.add(target, ms);
  }

  onUpstreamResponse(): void {
    this.#sink.onUpstreamResponse();
  }

  onUpstreamFailure(error: ErrorType, text: string): void {
    this.#sink.onUpstreamFailure(error, text);
  }

  // A mirror never slows the client it copies.
  pauseSource(): void {}
  resumeSource(): void {}
}
