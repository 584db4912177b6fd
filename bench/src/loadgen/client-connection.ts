// One load-generating Dubbo connection: writes batches of requests (one write per batch),
// matches responses to requests by id, and hands the tally what it saw.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { FLAG_EVENT, FLAG_REQUEST, STATUS_OK, writeRequestId, type RequestTemplate } from '../dubbo/frame.ts';
import { FrameSplitter } from '../dubbo/frame-splitter.ts';
import type { Tally } from './tally.ts';

/** Called after a 'data' event with the number of requests it settled, so a driver can refill. */
export type SettledHandler = (conn: ClientConnection, settled: number) => void;

export class ClientConnection {
  readonly #socket: net.Socket;
  readonly #template: RequestTemplate;
  readonly #tally: Tally;
  /** High half of every id: the connection number + 1, so ids use all 64 bits and proxies must restore them whole. */
  readonly #idHi: number;
  #nextIdLo = 0;
  /** Low half of the id -> when the request was due, in performance.now() milliseconds. */
  readonly #pending = new Map<number, number>();
  #onSettled: SettledHandler = () => {};
  #alive = true;

  private constructor(socket: net.Socket, template: RequestTemplate, tally: Tally, index: number) {
    this.#socket = socket;
    this.#template = template;
    this.#tally = tally;
    this.#idHi = index + 1;
    let settled = 0;
    const splitter = new FrameSplitter((buf, off, length) => {
      if (this.#onResponse(buf, off, length)) settled++;
    });
    socket.on('data', (chunk: Buffer) => {
      settled = 0;
      const err = splitter.push(chunk);
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

  static connect(host: string, port: number, template: RequestTemplate, tally: Tally, index: number, timeoutMs: number): Promise<ClientConnection> {
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
        resolve(new ClientConnection(socket, template, tally, index));
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
   * Sends `count` requests in one write. Request i counts as due at `firstDueMs + i * stepMs`:
   * the closed loop passes step 0 (due now), the open loop its schedule, so latency is measured
   * from when a request should have gone out, not from when the generator got round to it.
   */
  send(count: number, firstDueMs: number, stepMs: number): void {
    if (count <= 0 || !this.#alive) return;
    if (stepMs > 0) {
      const now = performance.now();
      for (let i = 0; i < count; i++) this.#tally.lateBy(firstDueMs + i * stepMs, now);
    }
    const frame = this.#template.frame;
    const size = frame.length;
    const batch = Buffer.allocUnsafe(size * count);
    for (let i = 0; i < count; i++) {
      const off = i * size;
      frame.copy(batch, off);
      const lo = this.#nextIdLo;
      this.#nextIdLo = (lo + 1) >>> 0;
      writeRequestId(batch, off, this.#idHi, lo);
      this.#pending.set(lo, firstDueMs + i * stepMs);
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

  /** Returns true when the frame settled one of our requests. */
  #onResponse(buf: Buffer, off: number, length: number): boolean {
    const flag = buf[off + 2]!;
    // Requests from the peer and heartbeat replies are not answers to our load.
    if ((flag & (FLAG_REQUEST | FLAG_EVENT)) !== 0) return false;
    const hi = buf.readUInt32BE(off + 4);
    const lo = buf.readUInt32BE(off + 8);
    const due = hi === this.#idHi ? this.#pending.get(lo) : undefined;
    if (due === undefined) {
      this.#tally.errors.unknownId++;
      return false;
    }
    this.#pending.delete(lo);
    if (buf[off + 3] !== STATUS_OK) this.#tally.errors.status++;
    else if (length !== this.#template.responseSize) this.#tally.errors.mismatch++;
    else this.#tally.ok(due, performance.now());
    return true;
  }
}
