// Dubbo echo server, run as its own process: answers every two-way request with an OK response
// carrying the request's argument back, answers heartbeats, and ignores one-way requests.
// Replies produced by one 'data' event leave in one writev (cork/uncork), so the server costs
// few system calls and stays out of the proxy's way on a small machine.
import net from 'node:net';
import { echoReply } from '../dubbo/echo-reply.ts';
import { FrameSplitter } from '../dubbo/frame-splitter.ts';
import { portArg, serveAsChild } from './child-lifecycle.ts';

const sockets = new Set<net.Socket>();

const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  const replies: Buffer[] = [];
  const splitter = new FrameSplitter((buf, off, length) => {
    const reply = echoReply(buf, off, length);
    if (reply !== null) replies.push(reply);
  });
  socket.on('data', (chunk: Buffer) => {
    const err = splitter.push(chunk);
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
