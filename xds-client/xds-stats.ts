/** Counters of one resource type on one stream (Envoy's `<type>.update_*` stats). */
export interface TypeStats {
  /** Responses received. */
  update_attempt: number;
  /** Responses accepted (ACKed). */
  update_success: number;
  /** Responses rejected (NACKed), including resends of a rejected version. */
  update_rejected: number;
  /** Subscribed names the server never sent within the does-not-exist timeout. */
  does_not_exist: number;
}

/** Counters of one xDS stream. */
export interface StreamStats {
  /** Streams opened (the first connect included). */
  connects: number;
  /** Streams that ended and were reopened after a backoff. */
  reconnects: number;
  readonly types: Map<string, TypeStats>;
}

export function newTypeStats(): TypeStats {
  return { update_attempt: 0, update_success: 0, update_rejected: 0, does_not_exist: 0 };
}
