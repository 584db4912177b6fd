/**
 * A test double for upstream faults only (never for the happy path, which uses real
 * providers): it resets connections, stops reading, or answers on command.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { dubboHeader, hessianEncode, splitFrames } from './dubbo-frames.js';

export type FaultMode = 'reset' | 'blackhole' | 'pause-then-echo' | 'echo' | 'error-reply';

export interface FaultUpstream {
  readonly port: number;
  readonly received: { id: bigint; flag: number }[];
  /** Resumes reading on every paused connection ('pause-then-echo'). */
  resume(): void;
  close(): Promise<void>;
}

export async function startFaultUpstream(mode: FaultMode): Promise<FaultUpstream> {
  const received: { id: bigint; flag: number }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (mode === 'pause-then-echo') s.pause();
    let rest: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      const { frames, rest: r } = splitFrames(Buffer.concat([rest, chunk]));
      rest = r;
      for (const f of frames) {
        received.push({ id: f.id, flag: f.flag });
        if (mode === 'reset') {
          s.resetAndDestroy();
          return;
        }
        if (mode === 'blackhole') continue;
        if ((f.flag & 0x40) === 0) continue; // one-way
        if (mode === 'error-reply') {
          const err = hessianEncode('fault upstream: server error');
          s.write(Buffer.concat([dubboHeader(0x02, 80, f.id, err.length), err]));
          continue;
        }
        const body = Buffer.concat([hessianEncode(1), hessianEncode(`echo ${f.body.length}`)]);
        s.write(Buffer.concat([dubboHeader(0x02, 20, f.id, body.length), body]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    resume: () => {
      for (const s of sockets) s.resume();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
