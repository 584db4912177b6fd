import { ErrorType } from '../../codecs/api/index.js';
import { OVERFLOW } from '../api/index.js';
import type { PickContext, PickResult, UpstreamCluster, UpstreamClusters, UpstreamHost } from '../api/index.js';

/**
 * The one forward path that requests, tRPC streams and mirrors share: find the cluster,
 * admit the request (circuit breakers), choose a host and the connection to it. Failures
 * are values; the two helpers that answer turn them into the protocol's error reply.
 */

/** Something the forward path can answer with a local reply. */
export interface Answerable {
  sendLocalReply(error: ErrorType, text: string): void;
}

/** A request on its way to a host: the context of the host choice and the binding to a connection. */
export interface Bindable<H extends UpstreamHost, C extends UpstreamCluster<H>> extends PickContext<H> {
  bind(cluster: C, host: H): boolean;
}

/**
 * The host choice: the cluster's balancer with the request's hash, subset and host to
 * avoid, then the connection the request would use. A connection that would queue past a
 * limit turns the pick into an overflow.
 */
export function chooseHost<H extends UpstreamHost, C extends UpstreamCluster<H>>(cluster: C, req: Bindable<H, C>): PickResult<H> {
  const picked = cluster.pick(req);
  if (picked.kind === 'host' && !req.bind(cluster, picked.host)) return OVERFLOW;
  return picked;
}

/**
 * The cluster named by the route, once admitted (max_requests); undefined after answering
 * with ClusterNotFound or OverLimit.
 */
export function admitTo<C extends UpstreamCluster>(clusters: UpstreamClusters<C>, name: string, req: Answerable): C | undefined {
  const cluster = clusters.get(name);
  if (cluster === undefined) {
    req.sendLocalReply(ErrorType.ClusterNotFound, `meta protocol router: unknown cluster '${name}'`);
    return undefined;
  }
  if (!cluster.admitRequest()) {
    cluster.stats.upstream_rq_pending_overflow++;
    req.sendLocalReply(ErrorType.OverLimit, `meta protocol upstream request: too many requests to '${name}' (circuit breaker)`);
    return undefined;
  }
  return cluster;
}

/** A host of `cluster`, bound; undefined after answering with NoHealthyUpstream or OverLimit. */
export function pickAndBind<H extends UpstreamHost, C extends UpstreamCluster<H>>(cluster: C, req: Bindable<H, C> & Answerable): H | undefined {
  const picked = chooseHost(cluster, req);
  switch (picked.kind) {
    case 'host':
      return picked.host;
    case 'no-host':
      req.sendLocalReply(ErrorType.NoHealthyUpstream, `meta protocol router: no healthy upstream for '${cluster.name}'`);
      return undefined;
    case 'overflow':
      cluster.stats.upstream_rq_pending_overflow++;
      req.sendLocalReply(ErrorType.OverLimit, `meta protocol upstream request: too many pending requests to '${cluster.name}' (circuit breaker)`);
      return undefined;
  }
}
