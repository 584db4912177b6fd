import type { UpstreamConnection } from '../upstream/upstream-connection.js';
import type { UpstreamPool } from '../upstream/upstream-pool.js';

/**
 * The upstream connection one client connection uses for each pool (host and codec
 * variant), so that its requests to a host travel on one connection and reach the server
 * in the order the client sent them. Spreading one client's calls over several upstream
 * connections lets a one-way call and the call after it swap places (seen with a Go Thrift
 * server). A connection that closed or announced a drain is replaced on the next request.
 *
 * Most clients talk to one pool: that one sits in two fields, others in a map made when
 * a second pool is used.
 */
export class UpstreamAffinity {
  #pool: UpstreamPool | undefined = undefined;
  #conn: UpstreamConnection | undefined = undefined;
  #others: Map<UpstreamPool, UpstreamConnection> | undefined = undefined;

  connectionFor(pool: UpstreamPool): UpstreamConnection {
    if (pool === this.#pool) {
      const c = this.#conn!;
      if (usable(c)) return c;
      return (this.#conn = pool.pickForClient());
    }
    if (this.#pool === undefined) {
      this.#pool = pool;
      return (this.#conn = pool.pickForClient());
    }
    const others = (this.#others ??= new Map());
    let c = others.get(pool);
    if (c === undefined || !usable(c)) {
      c = pool.pickForClient();
      others.set(pool, c);
    }
    return c;
  }
}

function usable(c: UpstreamConnection): boolean {
  return !c.closed && !c.goingAway;
}
