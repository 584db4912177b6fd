// The Meltemi target: writes an Envoy v3 bootstrap with one listener for the bench protocol,
// routed on two metadata keys to the echo server, starts `node dist/proxy/cli.js -c <file>`
// (with `--concurrency <n>` for a multi-worker target), and waits until the listener accepts.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { pidOf, spawnNode, stopChild } from './children.ts';
import { freePort, waitForPort } from './net-util.ts';
import { ROUTE_CONFIG_NAME, startRouteSwapper, type RouteSwapper } from './route-swap.ts';
import type { BenchProtocol } from '../protocols/protocol.ts';
import type { RunningTarget } from './target-names.ts';

const READY_TIMEOUT_MS = 10_000;
/** Keep this much of the proxy's stderr to show when it fails. */
const STDERR_TAIL_BYTES = 4096;

/** `rdsPort`: take the routes from MetaRDS at that port (route swaps) instead of the inline table. */
export function bootstrap(listenerPort: number, echoPort: number, protocol: BenchProtocol, filters: readonly object[] = [], clusters: readonly object[] = [], rdsPort?: number): string {
  const socketAddress = (port: number): object => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  const routes =
    rdsPort === undefined
      ? {
          route_config: {
            name: 'bench',
            routes: [
              {
                name: 'echo',
                match: { metadata: protocol.routeMatch.map((m) => ({ name: m.name, exact_match: m.exact_match })) },
                route: { cluster: 'echo' },
              },
            ],
          },
        }
      : {
          rds: {
            route_config_name: ROUTE_CONFIG_NAME,
            config_source: { resource_api_version: 'V3', api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'aeraki-xds' } }] } },
          },
        };
  const rdsCluster =
    rdsPort === undefined
      ? []
      : [
          {
            name: 'aeraki-xds',
            connect_timeout: '1s',
            type: 'STATIC',
            http2_protocol_options: {},
            load_assignment: { cluster_name: 'aeraki-xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(rdsPort) } }] }] },
          },
        ];
  return stringify({
    admin: { address: socketAddress(0) },
    static_resources: {
      listeners: [
        {
          name: protocol.name,
          address: socketAddress(listenerPort),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.meta_protocol_proxy',
                  typed_config: {
                    '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy',
                    stat_prefix: 'bench',
                    application_protocol: protocol.name,
                    codec: protocol.codecConfig === undefined ? { name: protocol.codecName } : { name: protocol.codecName, config: protocol.codecConfig },
                    ...routes,
                    meta_protocol_filters: [...filters, { name: 'aeraki.meta_protocol.filters.router' }],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'echo',
          connect_timeout: '1s',
          type: 'STATIC',
          lb_policy: 'ROUND_ROBIN',
          // The soak (route swaps) measures leaks and stability, not load shedding: Envoy's
          // default of 1024 requests in flight would turn a scheduling stall of a shared machine
          // into overload errors.
          ...(rdsPort === undefined ? {} : { circuit_breakers: { thresholds: [{ max_requests: 1_000_000, max_pending_requests: 1_000_000 }] } }),
          load_assignment: {
            cluster_name: 'echo',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(echoPort) } }] }],
          },
        },
        ...clusters,
        ...rdsCluster,
      ],
    },
  });
}

export interface MeltemiStart {
  readonly cli: string;
  readonly echoPort: number;
  readonly cpus: string | undefined;
  readonly protocol: BenchProtocol;
  /** Target name: `meltemi`, or `meltemi-<n>` for n workers. */
  readonly name: string;
  /** Workers to ask for with `--concurrency`; null starts the plain single-worker CLI. */
  readonly workers: number | null;
  readonly nofile: number;
  /** V8 CPU profile directory (`node --cpu-prof`), or undefined. */
  readonly profileDir: string | undefined;
  /** YAML file listing filters to run before the router, or undefined for the router alone. */
  readonly filters?: string | undefined;
  /** Swap the route table through MetaRDS every this many seconds; 0 or undefined: inline routes. */
  readonly routeSwapS?: number | undefined;
  /** Writes another bootstrap than the plain one (the mesh targets, meltemi-mesh.ts). */
  readonly customBootstrap?: ((listenerPort: number) => Promise<string>) | undefined;
}

export async function startMeltemi({ cli, echoPort, cpus, protocol, name, workers, nofile, profileDir, filters, routeSwapS, customBootstrap }: MeltemiStart): Promise<RunningTarget> {
  if (!existsSync(cli)) {
    throw new Error(
      `meltemi target: ${cli} does not exist. Build the proxy first (cd /work/main && npm run build), ` +
        'or leave it out with --targets direct,pipe',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meltemi-bench-'));
  const file = join(dir, 'bootstrap.yaml');
  const extra = filters === undefined ? [] : (parse(readFileSync(filters, 'utf8')) as unknown);
  // A list of filter entries, or { filters, clusters } when a filter calls a side service.
  const withClusters = typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? (extra as { filters?: unknown; clusters?: unknown }) : undefined;
  const filterList = withClusters !== undefined ? withClusters.filters : extra;
  const clusterList = withClusters?.clusters ?? [];
  if (!Array.isArray(filterList) || !Array.isArray(clusterList)) throw new Error(`--meltemi-filters ${filters}: expected a YAML list of filter entries, or { filters: [...], clusters: [...] }`);
  const swapper = routeSwapS !== undefined && routeSwapS > 0 ? await startRouteSwapper(cli, protocol, routeSwapS) : undefined;
  writeFileSync(file, customBootstrap !== undefined ? await customBootstrap(port) : bootstrap(port, echoPort, protocol, filterList as object[], clusterList as object[], swapper?.port));
  // The profile is written when the process exits normally, which Meltemi does on SIGTERM.
  const args = profileDir === undefined ? [cli, '-c', file] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, cli, '-c', file];
  if (protocol.codecPackage !== undefined) args.push('--codec', `${protocol.codecName}=${protocol.codecPackage}`);
  // The CLI defaults to one worker per core; the plain `meltemi` target is one worker.
  args.push('--concurrency', String(workers ?? 1));
  const child = spawnNode(args, { cpus, captureOutput: true, nofile });
  const tail = keepStderrTail(child);
  try {
    await waitForPort('127.0.0.1', port, READY_TIMEOUT_MS, () => {
      if (child.exitCode === null && child.signalCode === null) return null;
      // The CLI exits 2 on an unknown flag: say which flag, rather than leave a usage text to decode.
      const hint =
        workers !== null && child.exitCode === 2
          ? ` (this Meltemi CLI rejected --concurrency ${workers}: it has no multi-worker support yet; drop target ${name})`
          : '';
      return `meltemi exited (code ${child.exitCode}, signal ${child.signalCode}) before listening on ${port}${hint}${tail.text()}`;
    });
    // Load before the first route table arrived would only count route-not-found errors.
    if (swapper !== undefined) await waitForFirstRoutes(swapper, READY_TIMEOUT_MS);
  } catch (err) {
    swapper?.stop();
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    const message = err instanceof Error ? err.message : String(err);
    // An early exit already carries the stderr tail; a timeout does not yet.
    throw new Error(message.startsWith('meltemi exited') ? `${name}: ${message}` : `${name}: ${message}${tail.text()}`);
  }
  return {
    name,
    host: '127.0.0.1',
    port,
    pid: pidOf(child),
    ...(swapper === undefined ? {} : { routeSwaps: swapper.counts }),
    async stop() {
      swapper?.stop();
      const code = await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) console.error(`warning: ${name} exited with code ${code} on SIGTERM (expected 0)${tail.text()}`);
    },
  };
}

async function waitForFirstRoutes(swapper: RouteSwapper, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; swapper.counts().acked === 0; ) {
    if (Date.now() > end) throw new Error(`no route table ACKed over MetaRDS within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function keepStderrTail(child: ChildProcess): { text(): string } {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-STDERR_TAIL_BYTES);
  });
  return { text: () => (tail.trim() === '' ? '' : `\n--- meltemi stderr (tail) ---\n${tail.trimEnd()}`) };
}
