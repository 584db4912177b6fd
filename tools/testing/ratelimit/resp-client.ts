/**
 * The smallest Redis client the test rate-limit service needs: commands written in RESP,
 * replies (simple strings, errors, integers, bulk strings) read in order. Pipelined: many
 * commands may be outstanding. A lost connection fails every outstanding command, and the
 * next command connects again.
 */
import net from 'node:net';

type Reply = string | number | null;

interface Pending {
  resolve(r: Reply): void;
  reject(e: Error): void;
}

export class RespClient {
  readonly #socket: net.Socket;
  readonly #pending: Pending[] = [];
  #buf: Buffer = Buffer.alloc(0);
  closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (why: string): void => {
      this.closed = true;
      for (const p of this.#pending.splice(0)) p.reject(new Error(`redis: ${why}`));
    };
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('connection closed'));
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new RespClient(s));
      });
      s.once('error', reject);
    });
  }

  command(args: readonly string[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('redis: connection closed'));
    const parts = [`*${args.length}\r\n`];
    for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
    this.#socket.write(parts.join(''));
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }

  close(): void {
    this.closed = true;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const r = this.#parse();
      if (r === undefined) return;
      const p = this.#pending.shift();
      if (r.error !== undefined) p?.reject(new Error(`redis: ${r.error}`));
      else p?.resolve(r.value);
    }
  }

  /** One reply from the buffer, or undefined when it is not complete yet. */
  #parse(): { value: Reply; error?: string } | undefined {
    const eol = this.#buf.indexOf('\r\n');
    if (eol < 0) return undefined;
    const type = String.fromCharCode(this.#buf[0]!);
    const line = this.#buf.toString('utf8', 1, eol);
    if (type === '$') {
      const len = Number(line);
      if (len < 0) {
        this.#buf = this.#buf.subarray(eol + 2);
        return { value: null };
      }
      if (this.#buf.length < eol + 2 + len + 2) return undefined;
      const value = this.#buf.toString('utf8', eol + 2, eol + 2 + len);
      this.#buf = this.#buf.subarray(eol + 2 + len + 2);
      return { value };
    }
    this.#buf = this.#buf.subarray(eol + 2);
    if (type === '+') return { value: line };
    if (type === ':') return { value: Number(line) };
    if (type === '-') return { value: null, error: line };
    throw new Error(`redis: unsupported reply type '${type}'`);
  }
}
