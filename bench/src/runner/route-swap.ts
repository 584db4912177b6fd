// Route swaps for the soak: a MetaRDS server (the proxy's test control plane, from its build)
// that the Meltemi target's listener takes its routes from, and a timer that pushes a new
// route table every `everyS` seconds. The two tables alternate and both send the bench's
// traffic to the echo server, so a swap must cost no call: any failure is the proxy's.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchProtocol } from '../protocols/protocol.ts';

/** The route table name the listener asks MetaRDS for. */
export const ROUTE_CONFIG_NAME = 'bench-routes';

interface ControlPlane {
  readonly port: number;
  start(): Promise<void>;
  stop(): void;
  set(typeUrl: string, version: string, resources: object[]): void;
  requestsOf(typeUrl: string): { request: unknown }[];
}
interface RouteSpec {
  name: string;
  match?: Record<string, string>;
  cluster?: string;
}

export interface RouteSwapper {
  /** The MetaRDS server's port (the bootstrap's `aeraki-xds` cluster). */
  readonly port: number;
  /** Route tables pushed, and how many of them the proxy ACKed. */
  counts(): { pushed: number; acked: number };
  stop(): void;
}

/** Loads the control plane from the proxy build next to `cli` (dist/proxy/cli.js). */
export async function startRouteSwapper(cli: string, protocol: BenchProtocol, everyS: number): Promise<RouteSwapper> {
  const dist = join(dirname(cli), '..');
  const load = async (rel: string): Promise<Record<string, unknown>> => (await import(pathToFileURL(join(dist, rel)).href)) as Record<string, unknown>;
  const cpMod = await load('tools/testing/xds-control-plane.js').catch((err: unknown) => {
    throw new Error(`route swaps need the proxy's test control plane (a development tool, not shipped) (${join(dist, 'tools/testing/xds-control-plane.js')}); build the proxy (npm run build): ${String(err)}`);
  });
  const resources = await load('tools/testing/xds-resources.js');
  const typeUrls = await load('xds-client/type-urls.js');
  const ROUTE_TYPE = typeUrls['ROUTE_TYPE'] as string;
  const metaRds = resources['metaRds'] as (name: string, routes: RouteSpec[]) => object;
  const Cp = cpMod['TestControlPlane'] as new (flavour: string) => ControlPlane;
  const cp = new Cp('istiod');
  await cp.start();
  const match = Object.fromEntries(protocol.routeMatch.map((m) => [m.name, m.exact_match]));
  // Two tables that route the same traffic differently written: a swap is a real update.
  const tables: RouteSpec[][] = [
    [{ name: 'echo', match, cluster: 'echo' }],
    [
      { name: 'never', match: { 'x-bench-never': 'x' }, cluster: 'echo' },
      { name: 'echo-b', match, cluster: 'echo' },
    ],
  ];
  let pushed = 0;
  const push = (): void => {
    cp.set(ROUTE_TYPE, `v${pushed}`, [metaRds(ROUTE_CONFIG_NAME, tables[pushed % 2]!)]);
    pushed++;
  };
  push();
  const timer = setInterval(push, Math.max(50, Math.round(everyS * 1000)));
  return {
    port: cp.port,
    counts: () => {
      const acked = new Set<string>();
      for (const r of cp.requestsOf(ROUTE_TYPE)) {
        const req = r.request as { version_info?: string; error_detail?: unknown };
        if (req.version_info !== undefined && req.version_info !== '' && req.error_detail == null) acked.add(req.version_info);
      }
      return { pushed, acked: acked.size };
    },
    stop: () => {
      clearInterval(timer);
      cp.stop();
    },
  };
}
