// Echo server for any bench protocol, run as its own process: answers every two-way request with
// an OK response carrying the request's payload back (see each protocol's EchoFramer).
// Replies produced by one 'data' event leave in one writev (cork/uncork), so the server costs
// few system calls and stays out of the proxy's way on a small machine.
import net from 'node:net';
import { isProtocolName, loadProtocol } from '../protocols/registry.ts';
import { portArg, serveAsChild, stringArg } from './child-lifecycle.ts';

const protocolName = stringArg('--protocol') ?? 'dubbo';
if (!isProtocolName(protocolName)) throw new Error(`echo-server: unknown protocol ${protocolName}`);
const protocol = await loadProtocol(protocolName, stringArg('--codec-module'));

const sockets = new Set<net.Socket>();

const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  const framer = protocol.createEcho();
  const replies: Buffer[] = [];
  const queue = (r: Buffer): void => {
    replies.push(r);
  };
  socket.on('data', (chunk: Buffer) => {
    const err = framer.push(chunk, queue);
    if (replies.length > 0) {
      socket.cork();
      for (const r of replies) socket.write(r);
      socket.uncork();
      replies.length = 0;
    }
    if (err !== null) {
      console.error(`echo-server: ${err}; closing connection`);
      socket.destroy();
    }
  });
  // Peers vanish abruptly when a round ends; that is normal here, not worth a log line.
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});
serveAsChild(server, sockets, portArg('--port'));
