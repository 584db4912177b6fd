/**
 * A Dubbo load client for drain tests: `connections` sockets, each keeping `depth` requests
 * outstanding, that behaves as a Dubbo consumer does on a provider's READONLY event: it
 * sends nothing more on that connection, waits for the replies it is owed, then (with
 * `reconnect`) opens a new connection. Counts every request sent, answered and lost.
 */
import net from 'node:net';
import { dubboRequest, splitFrames } from './dubbo-frames.js';

export interface LoadOptions {
  connections: number;
  /** Requests outstanding per connection. */
  depth: number;
  /** Open a new connection after a READONLY event or a close (a consumer with one provider does). */
  reconnect: boolean;
  /** Bytes of the request's string argument. */
  argBytes?: number;
}

export interface LoadResult {
  sent: number;
  /** Replies with status OK (20). */
  ok: number;
  /** Replies with another status. */
  errors: number;
  /** Requests whose connection closed before their reply came. */
  lost: number;
  readonlyEvents: number;
  connectionsOpened: number;
}

const FLAG_REQUEST = 0x80;
const FLAG_EVENT = 0x20;

export class DubboLoad {
  readonly #port: number;
  readonly #opts: LoadOptions;
  readonly result: LoadResult = { sent: 0, ok: 0, errors: 0, lost: 0, readonlyEvents: 0, connectionsOpened: 0 };
  /** The first error replies, for the failure message. */
  readonly errorSamples: string[] = [];
  #running = true;
  #nextId = 1;
  /** Each open socket with the function that sends on it (and closes it once it is done). */
  readonly #open = new Map<net.Socket, () => void>();
  #idle: (() => void) | undefined;

  constructor(port: number, opts: LoadOptions) {
    this.#port = port;
    this.#opts = opts;
    for (let i = 0; i < opts.connections; i++) this.#connect();
  }

  #connect(): void {
    if (!this.#running) return;
    const socket = net.connect(this.#port, '127.0.0.1');
    this.result.connectionsOpened++;
        let outstanding = 0;
    let readonly = false;
    let rest = Buffer.alloc(0);
    const arg = 'x'.repeat(this.#opts.argBytes ?? 16);
    const send = (): void => {
      while (this.#running && !readonly && outstanding < this.#opts.depth && !socket.destroyed) {
        outstanding++;
        this.result.sent++;
        socket.write(dubboRequest({ id: this.#nextId++, args: [arg] }));
      }
      if ((readonly || !this.#running) && outstanding === 0) socket.destroy();
    };
    this.#open.set(socket, send);
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest: r } = splitFrames(rest.length === 0 ? chunk : Buffer.concat([rest, chunk]));
      rest = Buffer.from(r);
      for (const f of frames) {
        if ((f.flag & FLAG_REQUEST) !== 0 && (f.flag & FLAG_EVENT) !== 0) {
          // The provider's READONLY event (body: hessian "R").
          if (f.body.length === 2 && f.body[1] === 0x52) {
            this.result.readonlyEvents++;
            readonly = true;
          }
          continue;
        }
        outstanding--;
        if (this.errorSamples.length > 5) this.errorSamples.length = 5;
        if (f.status === 20) this.result.ok++;
        else {
          this.result.errors++;
          this.errorSamples.push(`status ${f.status}: ${f.body.toString('latin1').replace(/[^\x20-\x7e]/g, '.')}`);
        }
      }
      send();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.result.lost += outstanding;
      outstanding = 0;
      this.#open.delete(socket);
      // A short pause, as a consumer's reconnect has: a refused connection must not spin.
      if (this.#running && this.#opts.reconnect) setTimeout(() => this.#connect(), 5);
      if (this.#open.size === 0) this.#idle?.();
    });
  }

  /** Stops sending; resolves once every connection got its replies and closed (or `timeoutMs`). */
  async stop(timeoutMs = 5000): Promise<LoadResult> {
    this.#running = false;
    for (const send of this.#open.values()) send();
    if (this.#open.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.#idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    for (const s of this.#open.keys()) s.destroy();
    return this.result;
  }
}
