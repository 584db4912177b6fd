/** Bootstrap pieces and a paced load driver for the global rate-limit tests. */
import { fork } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../../helpers/bootstrap.js';
import type { RouteSpec } from '../../helpers/bootstrap.js';
import { dubboRequest } from '../../helpers/dubbo-frames.js';
import { RawDubboClient } from '../../helpers/raw-client.js';

export const RATE_LIMIT_TYPE = 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit';

export interface RateLimitSpec {
  /** The listener's stat_prefix (default 'main'): filter stats are per prefix and process. */
  statPrefix?: string;
  domain?: string;
  timeout?: string;
  failureModeDeny?: boolean;
  match?: Record<string, string>;
  descriptors: { property: string; descriptorKey: string }[];
}

/** The filter entry as Aeraki's MetaRouter `globalRateLimit` generates it (proto JSON, lowerCamel). */
export function rateLimitFilter(spec: RateLimitSpec): object {
  return {
    name: 'aeraki.meta_protocol.filters.ratelimit',
    config: {
      '@type': RATE_LIMIT_TYPE,
      match: { metadata: Object.entries(spec.match ?? {}).map(([name, exact]) => ({ name, exactMatch: exact })) },
      domain: spec.domain ?? 'production',
      timeout: spec.timeout ?? '0.020s',
      failureModeDeny: spec.failureModeDeny ?? false,
      rateLimitService: { grpcService: { envoyGrpc: { clusterName: 'outbound|8081||rate-limit-server' } } },
      descriptors: spec.descriptors,
    },
  };
}

export function rateLimitBootstrap(upstreamPort: number, rlsPort: number, spec: RateLimitSpec, routes?: RouteSpec[], admin = false): object {
  return bootstrapOf(
    [
      metaProtocolListener({
        routes: routes ?? [{ name: 'all', cluster: 'demo' }],
        extra: { stat_prefix: spec.statPrefix ?? 'main', meta_protocol_filters: [rateLimitFilter(spec), { name: 'aeraki.meta_protocol.filters.router' }] },
      }),
    ],
    [staticCluster('demo', [upstreamPort]), staticCluster('outbound|8081||rate-limit-server', [rlsPort])],
    undefined,
    admin ? { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } : undefined,
  );
}

/** One answered call: when it was sent and answered (performance.now()), and the Dubbo status. */
export interface CallResult {
  readonly sentAt: number;
  readonly doneAt: number;
  /** Wall clock at the answer (Date.now()), for the RLS's one-second windows. */
  readonly doneWall: number;
  readonly status: number;
}

export interface LoadOptions {
  connections: number;
  durationMs: number;
  /** Pause between one answer and the next call, per connection. */
  pauseMs: number;
  /** Calls written back to back per round on a connection (default 1). */
  depth?: number;
  method?: string;
  attachments?: Record<string, string>;
  /** Longest wait for one answer before the driver gives up (counted as status -1). */
  answerTimeoutMs?: number;
  /** Stops early when it returns true (checked between calls). */
  stop?: () => boolean;
}

/** Closed-loop paced load on `connections` connections; every call's result. */
export async function drive(port: number, o: LoadOptions): Promise<CallResult[]> {
  const results: CallResult[] = [];
  const end = performance.now() + o.durationMs;
  let nextId = 1;
  const one = async (): Promise<void> => {
    const c = await RawDubboClient.connect(port);
    try {
      while (performance.now() < end && !(o.stop?.() ?? false)) {
        const depth = o.depth ?? 1;
        const sentAt = performance.now();
        const before = c.frames.length;
        const frames: Buffer[] = [];
        for (let k = 0; k < depth; k++) frames.push(dubboRequest({ id: nextId++, method: o.method ?? 'sayHello', ...(o.attachments !== undefined ? { attachments: o.attachments } : {}) }));
        c.write(Buffer.concat(frames));
        try {
          await c.until(() => c.frames.length >= before + depth, o.answerTimeoutMs ?? 2000, 'answers');
        } catch {
          // Counted below as unanswered (-1).
        }
        const doneAt = performance.now();
        for (let k = 0; k < depth; k++) results.push({ sentAt, doneAt, doneWall: Date.now(), status: c.frames[before + k]?.status ?? -1 });
        if (o.pauseMs > 0) await new Promise((r) => setTimeout(r, o.pauseMs));
      }
    } finally {
      c.close();
    }
  };
  await Promise.all(Array.from({ length: o.connections }, one));
  return results;
}

export interface ChildMeltemi {
  readonly port: number;
  counters(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const childMain = fileURLToPath(new URL('./meltemi-child.js', import.meta.url));

/** Meltemi in a process of its own (fork), from a bootstrap object. */
export async function startChildMeltemi(bootstrap: object): Promise<ChildMeltemi> {
  const child: ChildProcess = fork(childMain, [], { env: { ...process.env, MELTEMI_CHILD_BOOTSTRAP: JSON.stringify(bootstrap) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('child Meltemi did not start within 10 s')), 10_000);
    child.once('message', (m: { type: string; port: number }) => {
      clearTimeout(t);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`child Meltemi exited with ${code}`)));
  });
  return {
    port,
    counters: () =>
      new Promise((resolve) => {
        child.once('message', (m: { counters: Record<string, number>; gauges: Record<string, number> }) => resolve({ ...m.counters, ...m.gauges }));
        child.send({ type: 'stats' });
      }),
    close: async () => {
      child.send({ type: 'close' });
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A TCP forwarder to `port` on 127.0.0.1 that counts the connections it accepted. */
export async function countingForwarder(port: number): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    accepted++;
    const up = net.connect(port, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
