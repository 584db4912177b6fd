// Everything the load can be aimed at, behind one shape so the runner treats them alike.
import { existsSync } from 'node:fs';
import type { ListeningMessage } from '../ipc.ts';
import type { ExternalTarget } from '../options.ts';
import type { BenchProtocol } from '../protocols/protocol.ts';
import { pidOf, spawnBenchChild, stopChild, waitForMessage } from './children.ts';
import { startMeltemi } from './meltemi.ts';
import { meshBootstrap } from './meltemi-mesh.ts';
import { waitForPort } from './net-util.ts';
import { meltemiWorkers, type RunningTarget, type TargetName } from './target-names.ts';

export type { RunningTarget } from './target-names.ts';

export interface TargetContext {
  readonly echoPort: number;
  readonly meltemiCli: string;
  readonly meltemiFilters: string | undefined;
  readonly proxyCpus: string | undefined;
  readonly protocol: BenchProtocol;
  readonly external: ExternalTarget | undefined;
  /** Open-file limit for proxies the bench starts. */
  readonly nofile: number;
  readonly profileDir: string | undefined;
  /** Meltemi targets swap their route table over MetaRDS this often (seconds); 0: never. */
  readonly routeSwapS: number;
}

const START_TIMEOUT_MS = 10_000;
/** The user may start their proxy only once the echo port is printed. */
const EXTERNAL_WAIT_MS = 60_000;

export async function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  if (name === 'direct') return { name, host: '127.0.0.1', port: ctx.echoPort, pid: null, stop: () => Promise.resolve() };
  if (name === 'pipe') return startPipe(ctx);
  if (name === 'external') return checkExternal(ctx);
  if (name === 'meltemi-chain' || name === 'meltemi-mtls') {
    const base = { cli: ctx.meltemiCli, echoPort: ctx.echoPort, cpus: ctx.proxyCpus, protocol: ctx.protocol, name, workers: null, nofile: ctx.nofile, profileDir: ctx.profileDir };
    return startMeltemi({ ...base, customBootstrap: (port) => meshBootstrap(name, port, ctx.echoPort, ctx.protocol) });
  }
  const workers = name === 'meltemi' ? null : meltemiWorkers(name);
  if (name !== 'meltemi' && workers === null) throw new Error(`unknown target ${name}`);
  return startMeltemi({ cli: ctx.meltemiCli, echoPort: ctx.echoPort, cpus: ctx.proxyCpus, protocol: ctx.protocol, name, workers, nofile: ctx.nofile, profileDir: ctx.profileDir, filters: ctx.meltemiFilters, routeSwapS: ctx.routeSwapS });
}

async function startPipe(ctx: TargetContext): Promise<RunningTarget> {
  const child = spawnBenchChild(new URL('../servers/pipe-proxy.js', import.meta.url), ['--upstream-port', String(ctx.echoPort)], {
    cpus: ctx.proxyCpus,
    ipc: true,
    nofile: ctx.nofile,
  });
  const { port } = await waitForMessage<ListeningMessage>(child, 'listening', START_TIMEOUT_MS, 'pipe proxy');
  return {
    name: 'pipe',
    host: '127.0.0.1',
    port,
    pid: pidOf(child),
    async stop() {
      await stopChild(child);
    },
  };
}

/** The user runs the external proxy; the bench only checks that it accepts, and never stops it. */
async function checkExternal(ctx: TargetContext): Promise<RunningTarget> {
  const ext = ctx.external;
  if (ext === undefined) throw new Error('target external needs --external host:port');
  // A wrong pid would read as zero CPU and memory: refuse it instead.
  if (ext.pid !== undefined && !existsSync(`/proc/${ext.pid}/stat`)) throw new Error(`external: no process with pid ${ext.pid} (--external-pid)`);
  await waitForPort(ext.host, ext.port, EXTERNAL_WAIT_MS, () => null).catch((err: unknown) => {
    throw new Error(
      `external: ${err instanceof Error ? err.message : String(err)}; start your proxy forwarding to the echo server at ` +
        `127.0.0.1:${ctx.echoPort} (fix the port with --echo-port)`,
    );
  });
  return { name: 'external', host: ext.host, port: ext.port, pid: ext.pid ?? null, stop: () => Promise.resolve() };
}
