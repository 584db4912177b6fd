/**
 * A Tern client for the demo: one connection, calls pipelined on it, replies matched by id.
 *
 *   node dist/demo/client.js --port 9300 --calls 6
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Flag, decodeFrame, encodeFrame, splitFrames } from '../src/protocol.js';
import type { TernFrame } from '../src/protocol.js';

export interface TernReply {
  readonly ok: boolean;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface DemoClient {
  call(service: string, method: string, body: string, headers?: Record<string, string>): Promise<TernReply>;
  close(): void;
}

export function connectDemoClient(port: number, host = '127.0.0.1'): Promise<DemoClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, noDelay: true });
    const waiting = new Map<number, (f: TernFrame) => void>();
    let nextId = 1;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = splitFrames(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const f of frames) {
        const res = decodeFrame(Buffer.from(f));
        waiting.get(res.requestId)?.(res);
        waiting.delete(res.requestId);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        call(service, method, body, headers = {}) {
          const requestId = nextId++;
          return new Promise<TernReply>((done) => {
            waiting.set(requestId, (f) => done({ ok: (f.flags & Flag.Error) === 0, body: f.body.toString(), headers: f.headers }));
            socket.write(encodeFrame({ flags: 0, requestId, service, method, headers, body: Buffer.from(body) }));
          });
        },
        close: () => socket.destroy(),
      }),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '9300' }, calls: { type: 'string', default: '6' } } });
  const client = await connectDemoClient(Number(values.port));
  const methods = ['greet', 'greetV2', 'echo', 'admin.reset'];
  const calls = Array.from({ length: Number(values.calls) }, (_, i) => methods[i % methods.length]!);
  const replies = await Promise.all(calls.map((m, i) => client.call('demo.Greeter', m === 'greetV2' ? 'greet' : m, `caller-${i}`, m === 'greetV2' ? { version: 'v2' } : {})));
  replies.forEach((r, i) => process.stdout.write(`${calls[i]!.padEnd(12)} ${r.ok ? 'ok   ' : 'ERROR'} [${r.headers['served-by'] ?? 'proxy'}] ${r.body}\n`));
  client.close();
}
