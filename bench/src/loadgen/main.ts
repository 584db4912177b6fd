// Load generator process. The runner drives it over IPC, one window at a time:
// prepare (connect) -> ready, go -> result, close -> closed. Connecting and closing happen
// outside the measured window, so the proxy's accept and teardown work is not billed to requests.
import { performance } from 'node:perf_hooks';
import type { FromLoadgen, LoadJob, ToLoadgen } from '../ipc.ts';
import { loadProtocol } from '../protocols/registry.ts';
import { ClientConnection } from './client-connection.ts';
import { runClosedLoop } from './closed-loop.ts';
import { runIdle } from './idle.ts';
import { runOpenLoop } from './open-loop.ts';
import { Tally } from './tally.ts';
import { Ticker } from './ticker.ts';

const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Connections opened at once. Thousands of simultaneous SYNs overflow a listener's accept
 * backlog (Node's default 511), and a dropped SYN is retried only after a second.
 */
const CONNECT_BATCH = 256;

interface Prepared {
  readonly job: LoadJob;
  readonly conns: ClientConnection[];
  readonly tally: Tally;
  /** The open loop's clock, booted before the window starts. */
  readonly ticker: Ticker | null;
}

let prepared: Prepared | null = null;

function reply(msg: FromLoadgen): void {
  process.send?.(msg);
}

async function prepare(job: LoadJob): Promise<void> {
  const protocol = await loadProtocol(job.protocol, job.codecModule);
  const tally = new Tally(job.sampleIntervalMs);
  const conns: ClientConnection[] = [];
  for (let first = 0; first < job.connections; first += CONNECT_BATCH) {
    const attempts = [];
    for (let i = first; i < Math.min(job.connections, first + CONNECT_BATCH); i++) {
      attempts.push(ClientConnection.connect(job.host, job.port, protocol, job.frameSize, tally, job.firstConnection + i, CONNECT_TIMEOUT_MS));
    }
    const settled = await Promise.allSettled(attempts);
    for (const s of settled) if (s.status === 'fulfilled') conns.push(s.value);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure !== undefined) {
      for (const c of conns) c.close();
      const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
      throw new Error(`connection ${conns.length + 1} of ${job.connections}: ${reason}`);
    }
  }
  const ticker = job.mode === 'open' ? new Ticker() : null;
  await ticker?.ready();
  prepared = { job, conns, tally, ticker };
}

async function go(): Promise<void> {
  if (prepared === null) throw new Error('go before prepare');
  const { job, conns, tally, ticker } = prepared;
  tally.start(performance.now());
  const elapsedMs =
    job.mode === 'open' && ticker !== null ? await runOpenLoop(conns, job, tally, ticker) : job.mode === 'idle' ? await runIdle(conns, job, tally) : await runClosedLoop(conns, job);
  reply({ type: 'result', result: tally.toResult(elapsedMs) });
}

function close(): void {
  for (const c of prepared?.conns ?? []) c.close();
  prepared?.ticker?.close();
  prepared = null;
  reply({ type: 'closed' });
}

process.on('message', (msg: ToLoadgen) => {
  const fail = (err: unknown): void => reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  switch (msg.type) {
    case 'prepare':
      prepare(msg.job).then(() => reply({ type: 'ready' }), fail);
      break;
    case 'go':
      go().catch(fail);
      break;
    case 'close':
      close();
      break;
  }
});
// The runner owns this process: when it goes, so do we.
process.on('disconnect', () => process.exit(0));
