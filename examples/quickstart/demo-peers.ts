/** The quickstart's provider and consumer: sofa-rpc-node with its Dubbo protocol. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface SofaServer {
  addService(info: { interfaceName: string; version: string }, impl: Record<string, (...args: unknown[]) => Promise<unknown>>): void;
  start(): Promise<void>;
  close(): Promise<void>;
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

const sofa = require('sofa-rpc-node') as {
  server: { RpcServer: new (opts: { logger: Quiet; port: number; protocol: unknown }) => SofaServer };
  client: { RpcClient: new (opts: { logger: Quiet; protocol: unknown }) => SofaClient };
};
const protocol: unknown = require('dubbo-remoting');
export const java = require('js-to-java') as { String(s: string): unknown; int(n: number): unknown };
const quiet: Quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** A provider of com.example.DemoService 1.0.0 whose replies name its version. */
export async function startSofaProviderOn(port: number, version: string): Promise<SofaServer> {
  const server = new sofa.server.RpcServer({ logger: quiet, port, protocol });
  server.addService(
    { interfaceName: 'com.example.DemoService', version: '1.0.0' },
    {
      sayHello: async (name: unknown) => `hello ${String(name)} from ${version}`,
      plus: async (a: unknown, b: unknown) => Number(a) + Number(b),
    },
  );
  await server.start();
  return server;
}

export async function createSofaConsumer(address: string): Promise<{ invoke(method: string, args: unknown[]): Promise<unknown>; close(): Promise<void> }> {
  const client = new sofa.client.RpcClient({ logger: quiet, protocol });
  const consumer = client.createConsumer({ interfaceName: 'com.example.DemoService', version: '1.0.0', serverHost: address });
  await consumer.ready();
  return { invoke: (m, a) => consumer.invoke(m, a, { responseTimeout: 3000 }), close: () => client.close() };
}
