/**
 * A Tern server for the demo: answers `greet` with a greeting that names its version, `echo`
 * with the body, heartbeats with a heartbeat, and anything else with an error frame.
 *
 *   node dist/demo/server.js --port 9301 --version v1
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Flag, decodeFrame, encodeFrame, splitFrames } from '../src/protocol.js';
import type { TernFrame } from '../src/protocol.js';

export interface DemoServer {
  readonly port: number;
  /** Every request frame the server received, for tests to inspect. */
  readonly received: TernFrame[];
  close(): Promise<void>;
}

function answer(req: TernFrame, version: string): TernFrame | undefined {
  if ((req.flags & Flag.Heartbeat) !== 0) return { flags: Flag.Response | Flag.Heartbeat, requestId: req.requestId, service: '', method: '', headers: {}, body: Buffer.alloc(0) };
  if ((req.flags & Flag.Oneway) !== 0) return undefined;
  const reply = (body: string, error = false): TernFrame => ({
    flags: Flag.Response | (error ? Flag.Error : 0),
    requestId: req.requestId,
    service: req.service,
    method: req.method,
    headers: { 'served-by': version },
    body: Buffer.from(body),
  });
  if (req.method === 'greet') return reply(`hello ${req.body.toString()} from ${version}${req.headers['x-via'] ? ` via ${req.headers['x-via']}` : ''}`);
  if (req.method === 'echo') return reply(req.body.toString());
  return reply(`no method ${req.method}`, true);
}

/** Starts a Tern server on `port` (0 picks a free one). */
export function startDemoServer(version: string, port = 0, host = '127.0.0.1'): Promise<DemoServer> {
  const received: TernFrame[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = splitFrames(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const f of frames) {
        const req = decodeFrame(Buffer.from(f));
        received.push(req);
        const res = answer(req, version);
        if (res !== undefined) socket.write(encodeFrame(res));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        received,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '9301' }, version: { type: 'string', default: 'v1' } } });
  const s = await startDemoServer(values.version!, Number(values.port));
  process.stdout.write(`tern demo server ${values.version} on 127.0.0.1:${s.port}\n`);
}
