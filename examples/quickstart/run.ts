/**
 * The quickstart: two versions of a Dubbo provider (sofa-rpc-node), Meltemi in front of
 * them (the real `meltemi` command with bootstrap.yaml), and a client sending real Dubbo
 * calls through it. A summary is printed every two seconds until Ctrl-C (or --duration).
 *
 *   npm run quickstart [-- --duration 10] [-- --port-base 30880]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { createSofaConsumer, java, startSofaProviderOn } from './demo-peers.js';
import { Summary } from './summary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', here.includes(`${path.sep}dist${path.sep}`) ? '..' : '');
const { values } = parseArgs({ options: { duration: { type: 'string' }, 'port-base': { type: 'string' } } });
const durationS = values.duration !== undefined ? Number(values.duration) : Infinity;
const base = Number(values['port-base'] ?? 20880);
/** The committed bootstrap uses 20880-20882 and admin 9901; --port-base moves them all. */
const adminPort = base === 20880 ? 9901 : base + 1021;

/** Reads the committed bootstrap and moves its ports when --port-base is given. */
function bootstrapFile(): string {
  const text = readFileSync(path.join(repoRoot, 'examples', 'quickstart', 'bootstrap.yaml'), 'utf8');
  if (base === 20880) return path.join(repoRoot, 'examples', 'quickstart', 'bootstrap.yaml');
  const shifted = text.replace(/port_value: (\d+)/g, (_, p: string) => `port_value: ${Number(p) === 9901 ? adminPort : Number(p) - 20880 + base}`);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'meltemi-quickstart-')), 'bootstrap.yaml');
  writeFileSync(file, stringify(parse(shifted)));
  return file;
}

/** Child processes to stop if the quickstart fails half-way. */
const children: ChildProcess[] = [];

async function main(): Promise<void> {
  const v1 = await startSofaProviderOn(base + 1, 'v1');
  const v2 = await startSofaProviderOn(base + 2, 'v2');
  const cli = path.join(repoRoot, 'dist', 'proxy', 'cli.js');
  const meltemi = spawn(process.execPath, [cli, '-c', bootstrapFile(), '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  children.push(meltemi);
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${adminUrl}/ready`)).ok) break;
    } catch (err) {
      if (i > 100 || meltemi.exitCode !== null) throw new Error(`meltemi did not start (see its messages above): ${String((err as Error).cause ?? err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.log(`Meltemi is proxying Dubbo on 127.0.0.1:${base}; admin on ${adminUrl} (try ${adminUrl}/stats)`);
  console.log('Routes: plus() -> v2; everything else 80% v1 / 20% v2. Ctrl-C to stop.\n');

  const consumer = await createSofaConsumer(`127.0.0.1:${base}`);
  const summary = new Summary();
  let running = true;
  const stopAt = Date.now() + durationS * 1000;
  const stop = (): void => {
    running = false;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running && Date.now() < stopAt; i++) {
      const isPlus = i % 4 === 0;
      const t0 = performance.now();
      try {
        const reply = isPlus ? await consumer.invoke('plus', [java.int(w + 1), java.int(i + 1)]) : await consumer.invoke('sayHello', [java.String(`worker-${w}`)]);
        const version = isPlus ? 'v2' : String(reply).slice(-2);
        summary.record(isPlus ? 'plus-to-v2' : 'canary-split', version, performance.now() - t0, undefined);
      } catch (err) {
        summary.record(isPlus ? 'plus-to-v2' : 'canary-split', '-', performance.now() - t0, (err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const printer = setInterval(() => void summary.print(adminUrl), 2000);
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  clearInterval(printer);
  await summary.print(adminUrl);
  await consumer.close();
  meltemi.kill('SIGTERM');
  await new Promise((r) => meltemi.once('exit', r));
  await v1.close();
  await v2.close();
  console.log(`\nMeltemi exited with code ${meltemi.exitCode}.`);
  process.exit(summary.total > 0 && summary.errors === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  for (const c of children) c.kill('SIGTERM');
  console.error(`quickstart failed: ${(err as Error).message}`);
  process.exit(1);
});
