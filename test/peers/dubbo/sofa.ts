/**
 * Real Dubbo peers from npm: sofa-rpc-node + dubbo-remoting as provider and consumer,
 * connected by address (no registry). The packages are CommonJS without types; the
 * small interfaces below describe the parts the tests use.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

/** The request as sofa-rpc-node hands it to a service method (through the context). */
interface SofaRequest {
  data: { requestProps: Record<string, string> };
}

interface SofaServer {
  /** Replaced so that service methods get the request as `this` (to read its attachments). */
  createContext(req: SofaRequest): unknown;
  addService(info: { interfaceName: string; version?: string; group?: string }, impl: Record<string, (...args: unknown[]) => Promise<unknown>>): void;
  start(): Promise<void>;
  close(): Promise<void>;
  _servers: { address(): AddressInfo }[];
}
interface SofaConsumer {
  ready(): Promise<void>;
  invoke(method: string, args: unknown[], opts?: { responseTimeout?: number }): Promise<unknown>;
}
interface SofaClient {
  createConsumer(opts: { interfaceName: string; version?: string; group?: string; serverHost: string; retryFaultInterval?: number }): SofaConsumer;
  close(): Promise<void>;
}
interface SofaModule {
  server: { RpcServer: new (opts: { logger: QuietLogger; port: number; protocol: unknown }) => SofaServer };
  client: { RpcClient: new (opts: { logger: QuietLogger; protocol: unknown }) => SofaClient };
}
interface QuietLogger {
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
  debug(...a: unknown[]): void;
}

const sofa = require('sofa-rpc-node') as SofaModule;
const protocol: unknown = require('dubbo-remoting');
/** js-to-java: tags JS values with their Java types for hessian2. */
export const java = require('js-to-java') as {
  String(s: string): unknown;
  int(n: number): unknown;
  long(n: number): unknown;
};

const quiet: QuietLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface Provider {
  readonly port: number;
  /** Every call with its arguments and the attachments it arrived with. */
  readonly calls: { method: string; args: unknown[]; attachments: Record<string, string> }[];
  close(): Promise<void>;
}

export interface ProviderOptions {
  interfaceName?: string;
  version?: string;
  group?: string;
  /** Returned in sayHello replies so tests can see which provider answered. */
  name: string;
  /** Milliseconds sayHello waits before answering. */
  delayMs?: number;
  /** The port to listen on (default: any free one). */
  port?: number;
}

/** A sofa-rpc-node Dubbo provider of com.example.DemoService: sayHello, repeat, plus, boom, slow, fire. */
export async function startSofaProvider(opts: ProviderOptions): Promise<Provider> {
  const server = new sofa.server.RpcServer({ logger: quiet, port: opts.port ?? 0, protocol });
  server.createContext = (req: SofaRequest) => ({ req });
  const calls: { method: string; args: unknown[]; attachments: Record<string, string> }[] = [];
  let current: Record<string, string> = {};
  const record = (method: string, args: unknown[]): void => {
    calls.push({ method, args, attachments: current });
  };
  const info: { interfaceName: string; version?: string; group?: string } = { interfaceName: opts.interfaceName ?? 'com.example.DemoService', version: opts.version ?? '1.0.0' };
  if (opts.group !== undefined) info.group = opts.group;
  const impl: Record<string, (...args: unknown[]) => Promise<unknown>> = {
    async sayHello(...args: unknown[]) {
      record('sayHello', args);
      if (opts.delayMs !== undefined) await new Promise((r) => setTimeout(r, opts.delayMs));
      return `hello ${String(args[0])} from ${opts.name}`;
    },
    /** A reply of `n` bytes for a small request (memory tests of clients that do not read). */
    async repeat(...args: unknown[]) {
      record('repeat', args);
      return 'x'.repeat(Number(args[0]));
    },
    async plus(...args: unknown[]) {
      record('plus', args);
      return (args[0] as number) + (args[1] as number);
    },
    async boom(...args: unknown[]) {
      record('boom', args);
      throw new Error(`boom from ${opts.name}`);
    },
    async slow(...args: unknown[]) {
      record('slow', args);
      await new Promise((r) => setTimeout(r, Number(args[0])));
      return `slow from ${opts.name}`;
    },
  };
  const withAttachments: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(impl)) {
    withAttachments[name] = async function (this: { req?: SofaRequest }, ...args: unknown[]) {
      current = { ...(this?.req?.data.requestProps ?? {}) };
      return fn(...args);
    };
  }
  server.addService(info, withAttachments);
  await server.start();
  return {
    port: server._servers[0]!.address().port,
    calls,
    close: () => server.close(),
  };
}

export interface Consumer {
  invoke(method: string, args: unknown[], timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

/** A sofa-rpc-node Dubbo consumer connected straight to `host:port` (here: the proxy). */
export async function createSofaConsumer(address: string, opts: { interfaceName?: string; version?: string; group?: string } = {}): Promise<Consumer> {
  const client = new sofa.client.RpcClient({ logger: quiet, protocol });
  const consumerOpts: { interfaceName: string; version?: string; group?: string; serverHost: string; retryFaultInterval: number } = {
    interfaceName: opts.interfaceName ?? 'com.example.DemoService',
    version: opts.version ?? '1.0.0',
    serverHost: address,
    // The consumer's address group sleeps this long between reconnect attempts, and its loop
    // only sees close() after the sleep: with the default 30 s, every test process would stay
    // alive 30 s after its last test.
    retryFaultInterval: 500,
  };
  if (opts.group !== undefined) consumerOpts.group = opts.group;
  const consumer = client.createConsumer(consumerOpts);
  await consumer.ready();
  return {
    invoke: (method, args, timeoutMs = 3000) => consumer.invoke(method, args, { responseTimeout: timeoutMs }),
    close: () => client.close(),
  };
}
