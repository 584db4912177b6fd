/**
 * Meltemi started with pilot-agent's exact Envoy command line (istio's pkg/envoy/proxy.go):
 * every flag is accepted, --config-yaml is merged over the file, --drain-time-s is the drain.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, loggedAdminUrl, spawnCli } from '../helpers/cli-process.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-envoy-cli-'));
let provider: Provider;

before(async () => {
  provider = await startSofaProvider({ name: 'agent' });
});
after(async () => {
  await provider.close();
});

/** pilot-agent's arguments, in its order. */
function pilotAgentArgs(file: string, extra: string[]): string[] {
  return [
    '-c', file,
    '--drain-time-s', '1',
    '--drain-strategy', 'immediate',
    '--local-address-ip-version', 'v4',
    '--file-flush-interval-msec', '1000',
    '--disable-hot-restart',
    '--allow-unknown-static-fields',
    '-l', 'info', // pilot-agent's default is warning; info logs the admin address this test reads
    '--component-log-level', 'misc:error',
    '--skip-deprecated-logs',
    ...extra,
  ];
}

test('pilot-agent\'s command line: --config-yaml adds the cluster, a call goes through, --drain-time-s ends the drain', async () => {
  // The file's route names cluster "demo", which only --config-yaml defines (repeated
  // fields append). The file's drain_timeout is 20 s; --drain-time-s 1 must replace it.
  const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }] })], [], { drain_timeout: '20s' }, {
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  });
  const file = path.join(dir, 'envoy-rev.yaml');
  writeFileSync(file, stringify(doc));
  const configYaml = JSON.stringify({ static_resources: { clusters: [staticCluster('demo', [provider.port])] } });
  const child = spawnCli(pilotAgentArgs(file, ['--config-yaml', configYaml, '--concurrency', '1', '--service-cluster', 'sleep.default', '--service-node', 'sidecar~10.0.0.1~sleep.default~default.svc.cluster.local']), {
    MELTEMI_LOG_LEVEL: 'info',
  });
  const out = collect(child);
  const admin = await loggedAdminUrl(out).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const listeners = (await (await fetch(`${admin}/listeners?format=json`)).json()) as { listener_statuses: { local_address: string }[] };
  const consumer = await createSofaConsumer(listeners.listener_statuses[0]!.local_address);
  assert.equal(await consumer.invoke('sayHello', [java.String('agent')]), 'hello agent from agent');
  const slow = consumer.invoke('slow', [java.int(8000)], 15_000).then(
    () => 'completed',
    () => 'cut',
  );
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  child.kill('SIGTERM');
  // Bounded: a proxy that ignores --drain-time-s is killed after 10 s and the test fails.
  let guard: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    out.done,
    new Promise<never>((_, reject) => {
      guard = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('still running 10 s after SIGTERM with --drain-time-s 1'));
      }, 10_000);
    }),
  ]).finally(() => clearTimeout(guard));
  const took = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(took < 5000, `exited ${took} ms after SIGTERM: the 1 s drain of --drain-time-s, not the file's 20 s`);
  assert.equal(await slow, 'cut', 'the 8 s call was cut at the end of the drain');
  await consumer.close();
});

test('values pilot-agent never passes but Envoy refuses are refused, naming the flag', async () => {
  const file = path.join(dir, 'ok.yaml');
  writeFileSync(file, stringify(bootstrapOf([], [])));
  const gradual = await collect(spawnCli(['-c', file, '--drain-strategy', 'gradual'])).done;
  assert.equal(gradual.code, 2);
  assert.match(gradual.stderr, /--drain-strategy gradual is not supported/);
  const typo = await collect(spawnCli(['-c', file, '--drain-time', '5'])).done;
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Unknown option '--drain-time'/);
});

test('--help lists every flag of pilot-agent\'s command line', async () => {
  const r = await collect(spawnCli(['--help'])).done;
  assert.equal(r.code, 0);
  for (const flag of ['-c,', '--drain-time-s', '--drain-strategy', '--local-address-ip-version', '--file-flush-interval-msec', '--disable-hot-restart', '--allow-unknown-static-fields', '-l,', '--component-log-level', '--skip-deprecated-logs', '--config-yaml', '--concurrency', '--service-cluster', '--service-node', '--log-format']) {
    assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
  }
});
