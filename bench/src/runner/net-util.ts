// Port helpers for targets the bench does not control over IPC (Meltemi, an external proxy).
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Asks the kernel for a free port. Another process could take it before the proxy binds; on loopback in a bench run that risk is accepted. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
        else resolve(address.port);
      });
    });
  });
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls until something accepts on the port. `gaveUp` lets the caller stop early (the process
 * it waits for has exited); the wait is bounded by `timeoutMs` either way.
 */
export async function waitForPort(host: string, port: number, timeoutMs: number, gaveUp: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = gaveUp();
    if (reason !== null) throw new Error(reason);
    if (await tryConnect(host, port)) return;
    if (Date.now() >= deadline) throw new Error(`nothing accepted on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}
