/** A raw TCP client that collects Dubbo frames, for tests that need exact bytes. */
import net from 'node:net';
import { splitFrames } from './dubbo-frames.js';
import type { ParsedResponse } from './dubbo-frames.js';

export class RawDubboClient {
  readonly socket: net.Socket;
  frames: ParsedResponse[] = [];
  raw: Buffer[] = [];
  closed = false;
  #rest: Buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      const { frames, rest } = splitFrames(Buffer.concat([this.#rest, chunk]));
      this.#rest = rest;
      this.frames.push(...frames);
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  /** Connects to 127.0.0.1:`port`, from `localAddress` when given (another loopback address). */
  static connect(port: number, localAddress?: string): Promise<RawDubboClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', ...(localAddress !== undefined ? { localAddress } : {}) }, () => resolve(new RawDubboClient(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `pred` holds, or rejects after `timeoutMs`. */
  async until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  close(): void {
    this.socket.destroy();
  }
}
