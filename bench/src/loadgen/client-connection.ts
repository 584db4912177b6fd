// One load-generating connection, for any protocol: writes batches of requests (one write per
// batch), matches responses to requests by sequence number, and hands the tally what it saw.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Outcome, SEQ_LIMIT, type BenchProtocol, type ClientFramer } from '../protocols/protocol.ts';
import type { Tally } from './tally.ts';

/** Called after a 'data' event with the number of requests it settled, so a driver can refill. */
export type SettledHandler = (conn: ClientConnection, settled: number) => void;

export class ClientConnection {
  readonly #socket: net.Socket;
  readonly #framer: ClientFramer;
  readonly #tally: Tally;
  #nextSeq = 0;
  /** Sequence number -> when the request was due, in performance.now() milliseconds. */
  readonly #pending = new Map<number, number>();
  #onSettled: SettledHandler = () => {};
  #alive = true;

  private constructor(socket: net.Socket, framer: ClientFramer, tally: Tally) {
    this.#socket = socket;
    this.#framer = framer;
    this.#tally = tally;
    let settled = 0;
    const onResponse = (seq: number, outcome: Outcome): void => {
      if (this.#onResponse(seq, outcome)) settled++;
    };
    socket.on('data', (chunk: Buffer) => {
      settled = 0;
      const err = framer.push(chunk, onResponse);
      if (err !== null) {
        console.error(`loadgen: ${err}`);
        socket.destroy();
      }
      if (settled > 0) this.#onSettled(this, settled);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#alive = false;
      this.#tally.errors.connection += this.#pending.size;
      const lost = this.#pending.size;
      this.#pending.clear();
      if (lost > 0) this.#onSettled(this, lost);
    });
  }

  static connect(
    host: string,
    port: number,
    protocol: BenchProtocol,
    frameSize: number,
    tally: Tally,
    index: number,
    timeoutMs: number,
  ): Promise<ClientConnection> {
    const framer = protocol.createClient(frameSize, index);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ClientConnection(socket, framer, tally));
      });
    });
  }

  get outstanding(): number {
    return this.#pending.size;
  }

  get alive(): boolean {
    return this.#alive;
  }

  set onSettled(handler: SettledHandler) {
    this.#onSettled = handler;
  }

  /**
   * Sends `count` requests in one write. `due` is when they should have gone out: a number for
   * all of them (the closed loop: now), or request i's due time (the open loop's schedule), so
   * latency is measured from when a request should have left, not from when the generator got
   * round to it.
   */
  send(count: number, due: number | ((i: number) => number)): void {
    if (count <= 0 || !this.#alive) return;
    const now = typeof due === 'number' ? 0 : performance.now();
    const framer = this.#framer;
    const size = framer.requestSize;
    const batch = Buffer.allocUnsafe(size * count);
    for (let i = 0; i < count; i++) {
      const seq = this.#nextSeq;
      this.#nextSeq = (seq + 1) % SEQ_LIMIT;
      framer.writeRequest(batch, i * size, seq);
      const dueMs = typeof due === 'number' ? due : due(i);
      if (typeof due !== 'number') this.#tally.lateBy(dueMs, now);
      this.#pending.set(seq, dueMs);
    }
    this.#tally.sent += count;
    this.#socket.write(batch);
  }

  /** Counts what is still unanswered as timed out; used when the drain gives up. */
  abandonPending(): void {
    this.#tally.errors.timeout += this.#pending.size;
    this.#pending.clear();
  }

  close(): void {
    this.#alive = false;
    this.#pending.clear();
    this.#socket.destroy();
  }

  /** Returns true when the response settled one of our requests. */
  #onResponse(seq: number, outcome: Outcome): boolean {
    const due = seq < 0 ? undefined : this.#pending.get(seq);
    if (due === undefined) {
      this.#tally.errors.unknownId++;
      return false;
    }
    this.#pending.delete(seq);
    if (outcome === Outcome.Status) this.#tally.errors.status++;
    else if (outcome === Outcome.Mismatch) this.#tally.errors.mismatch++;
    else this.#tally.ok(due, performance.now());
    return true;
  }
}
