/**
 * apache-dubbo-js's DirectlyDubbo client (no ZooKeeper): a second, independent Dubbo client.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface CallResult {
  err: Error | null;
  res: unknown;
}
type ServiceProxy = Record<string, (...args: unknown[]) => Promise<CallResult>>;
interface DirectlyDubboInstance {
  proxyService(opts: { dubboInterface: string; version?: string; group?: string; timeout?: number; methods: Record<string, (...args: unknown[]) => unknown[]> }): ServiceProxy;
  close?(): void;
  /** Its one connection; `_retry` is how many reconnects (3 s apart) it still makes after a close. */
  _socketWorker?: { socket?: { destroy(): void }; _retry?: number };
}
interface DubboJsModule {
  DirectlyDubbo: { from(opts: { dubboAddress: string; dubboVersion: string; dubboInvokeTimeout: number }): DirectlyDubboInstance };
  java: { String(s: string): unknown; int(n: number): unknown };
}

const dubboJs = require('apache-dubbo-js') as DubboJsModule;

export interface DirectClient {
  sayHello(name: string): Promise<CallResult>;
  plus(a: number, b: number): Promise<CallResult>;
  boom(): Promise<CallResult>;
  close(): void;
}

/** A DirectlyDubbo client of `iface` (default com.example.DemoService) at `address` (host:port). */
export function createDirectlyDubbo(address: string, opts: { iface?: string; version?: string; timeoutSeconds?: number } = {}): DirectClient {
  const { iface = 'com.example.DemoService', version = '1.0.0', timeoutSeconds = 3 } = opts;
  const dubbo = dubboJs.DirectlyDubbo.from({ dubboAddress: address, dubboVersion: '2.0.2', dubboInvokeTimeout: timeoutSeconds });
  const { java } = dubboJs;
  const svc = dubbo.proxyService({
    dubboInterface: iface,
    version,
    methods: {
      sayHello: (name: unknown) => [java.String(String(name))],
      plus: (a: unknown, b: unknown) => [java.int(Number(a)), java.int(Number(b))],
      boom: () => [],
    },
  });
  return {
    sayHello: (name) => svc['sayHello']!(name),
    plus: (a, b) => svc['plus']!(a, b),
    boom: () => svc['boom']!(),
    close: () => {
      const worker = dubbo._socketWorker;
      if (worker === undefined) return;
      // No reconnects: they would keep the test process alive for their 3 s timers.
      worker._retry = 0;
      worker.socket?.destroy();
    },
  };
}
