/** Starts Meltemi in-process for a test, from an Envoy v3 bootstrap object. */
import { startMeltemi as start } from '../../proxy/index.js';
import type { MeltemiServer } from '../../proxy/index.js';

export interface RunningMeltemi {
  readonly server: MeltemiServer;
  listenerPort(name: string): number;
  close(): Promise<void>;
}

export async function startMeltemi(bootstrap: object): Promise<RunningMeltemi> {
  const server = await start(bootstrap);
  return { server, listenerPort: (name) => server.listenerPort(name), close: () => server.close() };
}
