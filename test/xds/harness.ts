/** Starts Meltemi with its xDS client against a test control plane. */
import { compileBootstrap } from '../../proxy/config/compile.js';
import { startDynamicConfig } from '../../proxy/dynamic/dynamic-config.js';
import type { DynamicConfig, DynamicConfigOptions } from '../../proxy/dynamic/dynamic-config.js';
import { MeltemiServer } from '../../proxy/server.js';

export interface XdsMeltemi {
  readonly server: MeltemiServer;
  readonly dynamic: DynamicConfig;
  close(): Promise<void>;
}

export async function startXdsMeltemi(bootstrap: object, opts: DynamicConfigOptions = {}): Promise<XdsMeltemi> {
  const config = compileBootstrap(bootstrap);
  const server = await MeltemiServer.start(config);
  const dynamic = startDynamicConfig(server, config, { backoffBaseMs: 100, backoffMaxMs: 1000, ...opts });
  if (dynamic === undefined) throw new Error('the bootstrap asks for no xDS');
  return {
    server,
    dynamic,
    close: async () => {
      dynamic.close();
      await server.close();
    },
  };
}

/** Polls `cond` until it holds (or fails the test after `timeoutMs`). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
