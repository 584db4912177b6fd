import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port free on 127.0.0.1 right now (for configs that must name a port before binding). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
