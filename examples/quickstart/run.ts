/**
 * The quickstart: two versions of a Dubbo provider (sofa-rpc-node), Meltemi in front of
 * them (the real `meltemi` command with bootstrap.yaml), and a client sending real Dubbo
 * calls through it. A summary is printed every two seconds until Ctrl-C (or --duration).
 *
 *   npm run quickstart [-- --duration 10] [-- --port-base 30880]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { answeredBy, createSofaConsumer, java, startSofaProviderOn } from './demo-peers.js';
import { checkPortsFree, DEFAULT_PORT_BASE, parsePortBase, PortBusyError, quickstartPorts } from './ports.js';
import { readRoutes, routeOf } from './routes.js';
import { exitOf, Shutdown } from './shutdown.js';
import { COUNTER_LAG_NOTE, Summary } from './summary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', here.includes(`${path.sep}dist${path.sep}`) ? '..' : '');
const committedBootstrap = path.join(repoRoot, 'examples', 'quickstart', 'bootstrap.yaml');
const STAT_PREFIX = 'quickstart';
const INTERFACE = 'com.example.DemoService';

/** The committed bootstrap, its ports moved when --port-base is given. */
function bootstrapFor(base: number, adminPort: number): { file: string; text: string } {
  const text = readFileSync(committedBootstrap, 'utf8');
  if (base === DEFAULT_PORT_BASE) return { file: committedBootstrap, text };
  const shifted = text.replace(/port_value: (\d+)/g, (_, p: string) => `port_value: ${Number(p) === 9901 ? adminPort : Number(p) - DEFAULT_PORT_BASE + base}`);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'meltemi-quickstart-')), 'bootstrap.yaml');
  writeFileSync(file, shifted);
  return { file, text: shifted };
}

async function main(shutdown: Shutdown): Promise<number> {
  const { values } = parseArgs({ options: { duration: { type: 'string' }, 'port-base': { type: 'string' } } });
  const durationS = values.duration !== undefined ? Number(values.duration) : Infinity;
  const ports = quickstartPorts(parsePortBase(values['port-base']));
  await checkPortsFree(ports);
  const bootstrap = bootstrapFor(ports.base, ports.admin);
  const routes = readRoutes(bootstrap.text);

  const v1 = await startSofaProviderOn(ports.v1, 'v1');
  const v2 = await startSofaProviderOn(ports.v2, 'v2');
  const cli = path.join(repoRoot, 'dist', 'proxy', 'cli.js');
  // Meltemi gets its own process group: Ctrl-C reaches only this process, which stops the
  // client first and then Meltemi, so no call is cut off and every exit is waited for.
  const meltemi = spawn(process.execPath, [cli, '-c', bootstrap.file, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  shutdown.adopt(meltemi);
  const meltemiExit = exitOf(meltemi);
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  for (let i = 0; ; i++) {
    if (shutdown.requested) return stopEarly(meltemi, meltemiExit, [v1, v2]);
    try {
      if ((await fetch(`${adminUrl}/ready`)).ok) break;
    } catch (err) {
      if (i > 100 || meltemi.exitCode !== null) throw new Error(`meltemi did not start (see its messages above): ${String((err as Error).cause ?? err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.log(`Meltemi is proxying Dubbo on 127.0.0.1:${ports.meltemi}; admin on ${adminUrl} (try ${adminUrl}/stats)`);
  const shown = path.relative(process.cwd(), bootstrap.file);
  console.log(`Routes in ${shown.startsWith('..') ? bootstrap.file : shown}, first match wins:`);
  for (const r of routes) console.log(`    ${r.name} -> ${r.destination}`);
  console.log('Below: per route, the version that answered each call (from its reply) and its share of the route.');
  console.log(`${COUNTER_LAG_NOTE} Ctrl-C to stop.\n`);

  const consumer = await createSofaConsumer(`127.0.0.1:${ports.meltemi}`);
  const summary = new Summary();
  const stopAt = Date.now() + durationS * 1000;
  const running = (): boolean => !shutdown.requested && Date.now() < stopAt;
  const routeOfMethod = (method: string): string => routeOf(routes, { interface: INTERFACE, method });
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running(); i++) {
      const method = i % 4 === 0 ? 'plus' : 'sayHello';
      const args = method === 'plus' ? [java.int(w + 1), java.int(i + 1)] : [java.String(`worker-${w}`)];
      const t0 = performance.now();
      try {
        const reply = await consumer.invoke(method, args);
        summary.record(routeOfMethod(method), answeredBy(reply), performance.now() - t0, undefined);
      } catch (err) {
        summary.record(routeOfMethod(method), undefined, performance.now() - t0, (err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const printer = setInterval(() => void summary.print(adminUrl, STAT_PREFIX), 2000);
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  clearInterval(printer);
  await summary.print(adminUrl, STAT_PREFIX);
  await consumer.close();
  meltemi.kill('SIGTERM');
  const code = await meltemiExit;
  await Promise.all([v1.close(), v2.close()]);
  console.log(`\nMeltemi exited with code ${code}.`);
  return summary.total > 0 && summary.errors === 0 && code === 0 ? 0 : 1;
}

/** Ctrl-C before Meltemi was ready: stop what started, no summary to print. */
async function stopEarly(meltemi: ChildProcess, exit: Promise<number | null>, providers: { close(): Promise<void> }[]): Promise<number> {
  meltemi.kill('SIGTERM');
  await exit;
  await Promise.all(providers.map((p) => p.close()));
  return 0;
}

const shutdown = new Shutdown();
main(shutdown).then(
  (code) => process.exit(shutdown.requested && code === 0 ? 0 : code),
  (err: unknown) => {
    shutdown.killChildren('SIGTERM');
    console.error(err instanceof PortBusyError ? err.message : `quickstart failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
