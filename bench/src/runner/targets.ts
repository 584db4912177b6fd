// The three things the load can be aimed at, behind one shape so the runner treats them alike.
import { pidOf, spawnBenchChild, stopChild, waitForMessage } from './children.ts';
import type { ListeningMessage } from '../ipc.ts';
import { startMeltemi } from './meltemi.ts';

export const TARGET_NAMES = ['direct', 'pipe', 'meltemi'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface RunningTarget {
  readonly name: TargetName;
  /** Where the load generator connects. */
  readonly port: number;
  /** The proxy process whose CPU is billed to requests; null for the direct target. */
  readonly pid: number | null;
  stop(): Promise<void>;
}

export interface TargetContext {
  readonly echoPort: number;
  readonly meltemiCli: string;
  readonly proxyCpus: string | undefined;
}

const START_TIMEOUT_MS = 10_000;

export function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  switch (name) {
    case 'direct':
      return Promise.resolve({ name, port: ctx.echoPort, pid: null, stop: () => Promise.resolve() });
    case 'pipe':
      return startPipe(ctx);
    case 'meltemi':
      return startMeltemi(ctx.meltemiCli, ctx.echoPort, ctx.proxyCpus);
  }
}

async function startPipe(ctx: TargetContext): Promise<RunningTarget> {
  const child = spawnBenchChild(new URL('../servers/pipe-proxy.js', import.meta.url), ['--upstream-port', String(ctx.echoPort)], {
    cpus: ctx.proxyCpus,
    ipc: true,
  });
  const { port } = await waitForMessage<ListeningMessage>(child, 'listening', START_TIMEOUT_MS, 'pipe proxy');
  return {
    name: 'pipe',
    port,
    pid: pidOf(child),
    async stop() {
      await stopChild(child);
    },
  };
}
