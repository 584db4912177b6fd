import type { ErrorType } from '../../codecs/api/index.js';
import type { CopySink, Deadline, MirrorPolicy, PickContext, RequestSnapshot, UpstreamCluster, UpstreamClusters, UpstreamHost, UpstreamLink } from '../api/index.js';

/** Copies of one mirror cluster in flight at most; more are dropped, so a slow mirror cannot pile up memory. */
export const MAX_MIRRORS_IN_FLIGHT = 1024;

const inFlight = new WeakMap<object, number>();

/** Mirror copies of `cluster` in flight now. */
export function mirrorsInFlight(cluster: UpstreamCluster): number {
  return inFlight.get(cluster) ?? 0;
}

/** The request a mirror copies: its host choice context, and the runtime's way to send a copy. */
export interface MirrorSource<H extends UpstreamHost, C extends UpstreamCluster<H>> extends PickContext<H> {
  /** One-way requests are counted as done once written. */
  readonly oneway: boolean;
  /** A link for a fresh copy of `snapshot` that reports to `sink`; undefined when the copy cannot be made. */
  openCopy(snapshot: RequestSnapshot, sink: CopySink): UpstreamLink<H, C> | undefined;
}

/**
 * A fire-and-forget copy of a request for a mirror cluster (route
 * `request_mirror_policies`). Its reply is dropped, it never pauses the client, and a
 * failure only moves a counter.
 */
class MirrorRequest implements CopySink, Deadline {
  readonly #cluster: UpstreamCluster;
  /** The copy's link, once sent: a timed-out copy is forgotten on its connection. */
  #link: Pick<UpstreamLink, 'forgetTry'> | undefined = undefined;
  done = false;

  constructor(cluster: UpstreamCluster) {
    this.#cluster = cluster;
  }

  start<H extends UpstreamHost, C extends UpstreamCluster<H>>(link: UpstreamLink<H, C>, oneway: boolean, timeoutMs: number): void {
    this.#link = link;
    inFlight.set(this.#cluster, mirrorsInFlight(this.#cluster) + 1);
    this.#cluster.stats.mirror_rq_total++;
    if (link.send() !== undefined) {
      this.onUpstreamFailure();
      return;
    }
    if (oneway) this.#end();
    else if (timeoutMs > 0) link.schedule(this, timeoutMs);
  }

  onUpstreamResponse(): void {
    this.#end();
  }

  onUpstreamFailure(_error?: ErrorType, _text?: string): void {
    if (this.done) return;
    this.#cluster.stats.mirror_rq_failed++;
    this.#end();
  }

  expire(): void {
    if (this.done) return;
    this.#link?.forgetTry();
    this.onUpstreamFailure();
  }

  #end(): void {
    if (this.done) return;
    this.done = true;
    inFlight.set(this.#cluster, mirrorsInFlight(this.#cluster) - 1);
  }
}

/**
 * Sends a copy of the request (taken before its first try rewrote its id) to each mirror
 * cluster whose fraction says so. A missing `runtime_fraction` means 100%, as in Envoy
 * (Aeraki's client wrongly makes it 0%). The copy takes the same host choice as the request
 * (hash policy, subset); no host, too many copies in flight, or a congested connection
 * drop it.
 */
export function sendMirrors<H extends UpstreamHost, C extends UpstreamCluster<H>>(
  clusters: UpstreamClusters<C>,
  policies: readonly MirrorPolicy[],
  source: MirrorSource<H, C>,
  snapshot: RequestSnapshot,
  timeoutMs: number,
  random: () => number = Math.random,
): void {
  for (const policy of policies) {
    if (policy.fraction < 1 && random() >= policy.fraction) continue;
    const cluster = clusters.get(policy.cluster);
    if (cluster === undefined) continue;
    sendMirror(cluster, source, snapshot, timeoutMs);
  }
}

function sendMirror<H extends UpstreamHost, C extends UpstreamCluster<H>>(cluster: C, source: MirrorSource<H, C>, snapshot: RequestSnapshot, timeoutMs: number): void {
  const picked = cluster.pick(source);
  if (picked.kind !== 'host' || mirrorsInFlight(cluster) >= MAX_MIRRORS_IN_FLIGHT) {
    cluster.stats.mirror_rq_dropped++;
    return;
  }
  const mirror = new MirrorRequest(cluster);
  const link = source.openCopy(snapshot, mirror);
  // The copy's own connection to the host: the least loaded one, dropped when congested.
  if (link === undefined || !link.bind(cluster, picked.host)) {
    cluster.stats.mirror_rq_dropped++;
    return;
  }
  mirror.start(link, source.oneway, timeoutMs);
}
