/**
 * A real redis-server (Debian package `redis-server`) on a free loopback port, for the
 * global rate-limit tests. Started and killed by the test; nothing is saved to disk.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RespClient } from './resp-client.js';

export const REDIS_MISSING =
  'redis-server is not installed: these tests (the redis suite) need the Debian package, `apt-get install -y redis-server`';

export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface RedisServer {
  readonly port: number;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  if (!redisServerInstalled()) throw new Error(REDIS_MISSING);
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Ready when it answers PING (bounded wait).
  for (let i = 0; ; i++) {
    try {
      const c = await RespClient.connect(port);
      await c.command(['PING']);
      c.close();
      break;
    } catch (err) {
      if (i >= 100) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
