/**
 * A worker's end of the policy IPC: sends lease requests to the primary and hands each
 * grant to whoever asked. A request the primary does not answer in time (it is gone or
 * stuck) is answered "empty" so that no request waits forever.
 */
import type { TokenBucketSpec } from '../../filters/api/index.js';
import type { LeaseGrant, LeaseRequest } from './messages.js';

const REPLY_TIMEOUT_MS = 1000;
/** After a lost reply the bucket is taken as empty this long, so refusals cost no IPC. */
const LOST_REPLY_EMPTY_MS = 100;

type OnGrant = (grant: LeaseGrant) => void;

export class WorkerChannel {
  readonly #send: (msg: LeaseRequest) => boolean;
  readonly #pending = new Map<number, { onGrant: OnGrant; timer: NodeJS.Timeout }>();
  #seq = 0;

  /** `send` returns false when the message could not be sent (the primary is gone). */
  constructor(send: (msg: LeaseRequest) => boolean) {
    this.#send = send;
  }

  lease(id: string, spec: TokenBucketSpec, want: number, onGrant: OnGrant): void {
    const seq = ++this.#seq;
    const empty = (): void => {
      this.#pending.delete(seq);
      onGrant({ type: 'meltemi.policy.grant', seq, tokens: 0, validMs: LOST_REPLY_EMPTY_MS });
    };
    const timer = setTimeout(empty, REPLY_TIMEOUT_MS);
    timer.unref();
    this.#pending.set(seq, { onGrant, timer });
    let sent = false;
    try {
      sent = this.#send({ type: 'meltemi.policy.lease', seq, id, spec, want });
    } catch {
      sent = false;
    }
    if (!sent) {
      clearTimeout(timer);
      empty();
    }
  }

  onMessage(msg: LeaseGrant): void {
    const p = this.#pending.get(msg.seq);
    if (p === undefined) return;
    this.#pending.delete(msg.seq);
    clearTimeout(p.timer);
    p.onGrant(msg);
  }
}
