// The Meltemi target: writes an Envoy v3 bootstrap with one Dubbo listener routed to the echo
// server, starts `node dist/proxy/cli.js -c <file>`, and waits until the listener accepts.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pidOf, spawnNode, stopChild } from './children.ts';
import { freePort, waitForPort } from './net-util.ts';
import type { RunningTarget } from './targets.ts';

const READY_TIMEOUT_MS = 10_000;
/** Keep this much of the proxy's stderr to show when it fails. */
const STDERR_TAIL_BYTES = 4096;

export function bootstrap(listenerPort: number, echoPort: number): string {
  const socketAddress = (port: number): object => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  return stringify({
    admin: { address: socketAddress(0) },
    static_resources: {
      listeners: [
        {
          name: 'dubbo',
          address: socketAddress(listenerPort),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.meta_protocol_proxy',
                  typed_config: {
                    '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy',
                    stat_prefix: 'bench',
                    application_protocol: 'dubbo',
                    codec: { name: 'aeraki.meta_protocol.codec.dubbo' },
                    route_config: {
                      name: 'bench',
                      routes: [
                        {
                          name: 'echo',
                          match: {
                            metadata: [
                              { name: 'interface', exact_match: 'com.example.EchoService' },
                              { name: 'method', exact_match: 'echo' },
                            ],
                          },
                          route: { cluster: 'echo' },
                        },
                      ],
                    },
                    meta_protocol_filters: [{ name: 'aeraki.meta_protocol.filters.router' }],
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
          load_assignment: {
            cluster_name: 'echo',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(echoPort) } }] }],
          },
        },
      ],
    },
  });
}

export async function startMeltemi(cli: string, echoPort: number, cpus: string | undefined): Promise<RunningTarget> {
  if (!existsSync(cli)) {
    throw new Error(
      `meltemi target: ${cli} does not exist. Build the proxy first (cd /work/main && npm run build), ` +
        'or leave it out with --targets direct,pipe',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meltemi-bench-'));
  const file = join(dir, 'bootstrap.yaml');
  writeFileSync(file, bootstrap(port, echoPort));
  const child = spawnNode([cli, '-c', file], { cpus, captureOutput: true });
  const tail = keepStderrTail(child);
  try {
    await waitForPort(port, READY_TIMEOUT_MS, () =>
      child.exitCode !== null || child.signalCode !== null
        ? `meltemi exited (code ${child.exitCode}, signal ${child.signalCode}) before listening on ${port}${tail.text()}`
        : null,
    );
  } catch (err) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    const message = err instanceof Error ? err.message : String(err);
    // An early exit already carries the stderr tail; a timeout does not yet.
    throw new Error(message.startsWith('meltemi exited') ? message : `meltemi: ${message}${tail.text()}`);
  }
  return {
    name: 'meltemi',
    port,
    pid: pidOf(child),
    async stop() {
      const code = await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) console.error(`warning: meltemi exited with code ${code} on SIGTERM (expected 0)${tail.text()}`);
    },
  };
}

function keepStderrTail(child: ChildProcess): { text(): string } {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-STDERR_TAIL_BYTES);
  });
  return { text: () => (tail.trim() === '' ? '' : `\n--- meltemi stderr (tail) ---\n${tail.trimEnd()}`) };
}
