// Load generator process. The runner drives it over IPC, one window at a time:
// prepare (connect) -> ready, go -> result, close -> closed. Connecting and closing happen
// outside the measured window, so the proxy's accept and teardown work is not billed to requests.
import { buildRequestTemplate, ECHO_REQUEST } from '../dubbo/frame.ts';
import type { FromLoadgen, LoadJob, ToLoadgen } from '../ipc.ts';
import { ClientConnection } from './client-connection.ts';
import { runClosedLoop } from './closed-loop.ts';
import { runOpenLoop } from './open-loop.ts';
import { Tally } from './tally.ts';

const CONNECT_TIMEOUT_MS = 5000;

interface Prepared {
  readonly job: LoadJob;
  readonly conns: ClientConnection[];
  readonly tally: Tally;
}

let prepared: Prepared | null = null;

function reply(msg: FromLoadgen): void {
  process.send?.(msg);
}

async function prepare(job: LoadJob): Promise<void> {
  const template = buildRequestTemplate(ECHO_REQUEST, job.frameSize);
  const tally = new Tally();
  const attempts = Array.from({ length: job.connections }, (_, i) =>
    ClientConnection.connect(job.host, job.port, template, tally, job.firstConnection + i, CONNECT_TIMEOUT_MS),
  );
  const settled = await Promise.allSettled(attempts);
  const conns = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) {
    for (const c of conns) c.close();
    throw failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason));
  }
  prepared = { job, conns, tally };
}

async function go(): Promise<void> {
  if (prepared === null) throw new Error('go before prepare');
  const { job, conns, tally } = prepared;
  const elapsedMs = job.rate > 0 ? await runOpenLoop(conns, job, tally) : await runClosedLoop(conns, job);
  reply({ type: 'result', result: tally.toResult(elapsedMs) });
}

function close(): void {
  for (const c of prepared?.conns ?? []) c.close();
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
