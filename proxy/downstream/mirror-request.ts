import { ErrorType, FrameReader, MessageType } from '../../codecs/api/index.js';
import type { Message } from '../../codecs/api/index.js';
import type { MirrorPolicy } from '../route/route-table.js';
import type { Expirable } from '../net/deadline-queue.js';
import type { Cluster } from '../upstream/cluster.js';
import type { UpstreamConnection, UpstreamRequest } from '../upstream/upstream-connection.js';
import type { ListenerRuntime } from './listener-runtime.js';

/** Copies of one mirror cluster in flight at most; more are dropped, so a slow mirror cannot pile up memory. */
export const MAX_MIRRORS_IN_FLIGHT = 1024;

const inFlight = new WeakMap<Cluster, number>();

/**
 * A fire-and-forget copy of a request for a mirror cluster (route
 * `request_mirror_policies`). It has its own upstream id, its reply is dropped, it never
 * pauses the client, and a failure only moves a counter. A missing `runtime_fraction` means
 * 100%, as in Envoy (Aeraki's client wrongly makes it 0%).
 */
class MirrorRequest implements UpstreamRequest, Expirable {
  readonly request: Message;
  readonly requestMutation: ReadonlyMap<string, string> | null;
  readonly #cluster: Cluster;
  readonly #conn: UpstreamConnection;
  #id = 0;
  done = false;

  constructor(request: Message, mutation: ReadonlyMap<string, string> | null, cluster: Cluster, conn: UpstreamConnection) {
    this.request = request;
    this.requestMutation = mutation;
    this.#cluster = cluster;
    this.#conn = conn;
    inFlight.set(cluster, (inFlight.get(cluster) ?? 0) + 1);
  }

  send(): void {
    this.#conn.send(this);
    this.#id = this.request.requestId as number;
    if (this.request.type === MessageType.Oneway) this.#end();
  }

  onUpstreamResponse(): void {
    this.#end();
  }

  onUpstreamFailure(_error: ErrorType, _text: string): void {
    this.#cluster.stats.mirror_rq_failed++;
    this.#end();
  }

  expire(): void {
    if (this.done) return;
    this.#conn.forget(this.#id);
    this.#cluster.stats.mirror_rq_failed++;
    this.#end();
  }

  // A mirror never slows the client it copies.
  pauseSource(): void {}
  resumeSource(): void {}

  #end(): void {
    if (this.done) return;
    this.done = true;
    inFlight.set(this.#cluster, (inFlight.get(this.#cluster) ?? 1) - 1);
  }
}

/**
 * Sends a copy of `pristine` (the request's bytes before its id was rewritten) to the
 * mirror policy's cluster when the policy's fraction says so.
 */
export function mirrorRequest(
  listener: ListenerRuntime,
  policy: MirrorPolicy,
  pristine: Buffer,
  mutation: ReadonlyMap<string, string> | null,
  timeoutMs: number,
): void {
  if (policy.fraction < 1 && Math.random() >= policy.fraction) return;
  const cluster = listener.clusters.get(policy.cluster);
  if (cluster === undefined) return;
  const host = cluster.pick();
  if (host === undefined || (inFlight.get(cluster) ?? 0) >= MAX_MIRRORS_IN_FLIGHT) {
    cluster.stats.mirror_rq_dropped++;
    return;
  }
  // A fresh decode gives the copy its own message object, whatever the codec keeps in it.
  const reader = new FrameReader();
  reader.push(pristine);
  const copy = listener.codecFactory.createServerCodec(listener.codecContext).decode(reader);
  if (copy === undefined || copy instanceof Error) {
    cluster.stats.mirror_rq_dropped++;
    return;
  }
  const conn = host.pool(listener.codecFactory, listener.codecContext, copy.upstreamKey).pick();
  if (conn.congested) {
    cluster.stats.mirror_rq_dropped++;
    return;
  }
  cluster.stats.mirror_rq_total++;
  const m = new MirrorRequest(copy, mutation, cluster, conn);
  m.send();
  if (!m.done && timeoutMs > 0) listener.deadlines.add(m, timeoutMs);
}
