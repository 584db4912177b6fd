// Shared start/stop behaviour of the bench's server children: report the port to the parent,
// exit 0 on SIGTERM, and never outlive the parent (the IPC channel closes when it dies).
import type { Server, Socket } from 'node:net';
import type { ListeningMessage } from '../ipc.ts';

export function serveAsChild(server: Server, sockets: Set<Socket>, port: number): void {
  const stop = (): void => {
    for (const s of sockets) s.destroy();
    server.close(() => process.exit(0));
    // Do not wait on stragglers: the runner wants the process gone, not a graceful drain.
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  // A deep accept queue: the idle scenario opens thousands of connections in bursts.
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
    const msg: ListeningMessage = { type: 'listening', port: address.port };
    if (process.send) process.send(msg);
    else console.log(`listening on 127.0.0.1:${address.port}`);
  });
}

/** Port from `--port N` on the command line, 0 (any free port) when absent. */
export function portArg(name: string): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return 0;
  const port = Number(process.argv[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad ${name}: ${process.argv[i + 1]}`);
  return port;
}

/** Value of `--name value` on the command line, undefined when absent. */
export function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
