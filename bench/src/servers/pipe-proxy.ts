// The baseline proxy: accepts TCP and pipes bytes both ways to the upstream with socket.pipe,
// one upstream connection per downstream one. It knows nothing of Dubbo, so its CPU per request
// is the floor that any L7 proxy in Node pays for moving the same bytes.
import net from 'node:net';
import { portArg, serveAsChild } from './child-lifecycle.ts';

const upstreamPort = portArg('--upstream-port');
if (upstreamPort === 0) throw new Error('pipe-proxy needs --upstream-port');

const sockets = new Set<net.Socket>();

const server = net.createServer({ noDelay: true }, (downstream) => {
  const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  sockets.add(downstream);
  sockets.add(upstream);
  downstream.pipe(upstream);
  upstream.pipe(downstream);
  const close = (): void => {
    downstream.destroy();
    upstream.destroy();
  };
  downstream.on('error', close);
  upstream.on('error', close);
  downstream.on('close', () => {
    sockets.delete(downstream);
    close();
  });
  upstream.on('close', () => {
    sockets.delete(upstream);
    close();
  });
});

serveAsChild(server, sockets, portArg('--port'));
