/** The quickstart's provider and consumer: sofa-rpc-node with its Dubbo protocol. */
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);

interface SofaServer {
  addService(info: { interfaceName: string; version: string }, impl: Record<string, (...args: unknown[]) => Promise<unknown>>): void;
  start(): Promise<void>;
  close(): Promise<void>;
}
/** The one RpcServer hook the loopback provider overrides, and the handler it hands sockets to. */
interface SofaServerHooks {
  _startServer(port: number): net.Server;
  _handleSocket(socket: net.Socket): void;
}
interface SofaConsumer {
  ready(): Promise<void>;
  invoke(method: string, args: unknown[], opts: { responseTimeout: number }): Promise<unknown>;
}
interface SofaClient {
  createConsumer(opts: { interfaceName: string; version: string; serverHost: string }): SofaConsumer;
  close(): Promise<void>;
}
type Quiet = Record<'info' | 'warn' | 'error' | 'debug', () => void>;
type SofaServerClass = new (opts: { logger: Quiet; port: number; protocol: unknown }) => SofaServer & SofaServerHooks;

const sofa = require('sofa-rpc-node') as {
  server: { RpcServer: SofaServerClass };
  client: { RpcClient: new (opts: { logger: Quiet; protocol: unknown }) => SofaClient };
};
const protocol: unknown = require('dubbo-remoting');
export const java = require('js-to-java') as { String(s: string): unknown; int(n: number): unknown };
const quiet: Quiet = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * sofa-rpc-node listens on every interface (`::`) and has no host option; a demo must not open
 * ports to the network, so this server listens on 127.0.0.1. RpcServer.start() waits for the
 * 'listening' or 'error' event of what _startServer returns, so a busy port rejects start().
 */
class LoopbackRpcServer extends sofa.server.RpcServer {
  override _startServer(port: number): net.Server {
    const server = net.createServer((socket) => this._handleSocket(socket));
    server.listen(port, '127.0.0.1');
    return server;
  }
}

/** What the providers answer plus() with: the sum, and which version computed it. */
export interface PlusReply {
  readonly sum: number;
  readonly version: string;
}

/** A provider of com.example.DemoService 1.0.0 on 127.0.0.1 whose replies name its version. */
export async function startSofaProviderOn(port: number, version: string): Promise<SofaServer> {
  const server = new LoopbackRpcServer({ logger: quiet, port, protocol });
  server.addService(
    { interfaceName: 'com.example.DemoService', version: '1.0.0' },
    {
      sayHello: async (name: unknown) => `hello ${String(name)} from ${version}`,
      plus: async (a: unknown, b: unknown): Promise<PlusReply> => ({ sum: Number(a) + Number(b), version }),
    },
  );
  await server.start();
  return server;
}

/** The version a reply names ("hello x from v1", or plus()'s { version }), '?' if none. */
export function answeredBy(reply: unknown): string {
  if (typeof reply === 'string') return /from (\S+)$/.exec(reply)?.[1] ?? '?';
  if (typeof reply === 'object' && reply !== null && 'version' in reply) return String(reply.version);
  return '?';
}

export async function createSofaConsumer(address: string): Promise<{ invoke(method: string, args: unknown[]): Promise<unknown>; close(): Promise<void> }> {
  const client = new sofa.client.RpcClient({ logger: quiet, protocol });
  const consumer = client.createConsumer({ interfaceName: 'com.example.DemoService', version: '1.0.0', serverHost: address });
  await consumer.ready();
  return { invoke: (m, a) => consumer.invoke(m, a, { responseTimeout: 3000 }), close: () => client.close() };
}
