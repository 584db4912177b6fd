/**
 * Real Thrift clients through Meltemi to real Thrift servers: npm thrift (framed/buffered ×
 * binary/compact, sequential and pipelined), Debian python3-thrift (the same plus THeader
 * with info headers) and Debian libthrift C++ THeader (binary and compact sub-protocols).
 * Debian peers that are missing fail the run with the apt-get line to install them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi, type RunningMeltemi } from '../helpers/meltemi.js';
import {
  ensurePeersBuilt,
  runCppClient,
  runNodeClient,
  runPyClient,
  startServer,
  type Call,
  type CallResult,
  type Protocol,
  type RunningPeer,
  type ServerSpec,
  type Transport,
} from './peers/thrift/peers.js';
import { thriftListener } from './thrift-peers-setup.js';

/** The script every node/python client runs; `note` makes the one-way call recognisable. */
function script(note: string): Call[] {
  return [['echo', 'hi'], ['add', 40, 2], ['getPair', 'abc'], ['getPair', 'bad'], ['fire', note], ['fail', 'boom']];
}

/** Checks the results of `script` against a server named `name`. */
function checkScript(results: CallResult[], name: string, failType: number): void {
  assert.equal(results.length, 6, JSON.stringify(results));
  assert.deepEqual(results[0], { ok: `hi@${name}` });
  assert.deepEqual(results[1], { ok: 42 });
  assert.deepEqual(results[2], { ok: { key: 'abc', value: 3 } });
  assert.deepEqual(results[3], { error: { name: 'EchoError', message: 'no such key', code: 42 } });
  assert.deepEqual(results[4], { ok: null });
  const fail = results[5]!;
  assert.ok('error' in fail, JSON.stringify(fail));
  assert.equal(fail.error.name, 'TApplicationException');
  assert.equal(fail.error.type, failType);
}

interface Case {
  id: string;
  server: ServerSpec;
}

const CASES: Case[] = [];
for (const t of ['framed', 'buffered'] as const) {
  for (const p of ['binary', 'compact'] as const) {
    CASES.push({ id: `node-${t}-${p}`, server: { kind: 'node', transport: t, protocol: p, name: `node-${t}-${p}` } });
    CASES.push({ id: `py-${t}-${p}`, server: { kind: 'py', transport: t, protocol: p, name: `py-${t}-${p}` } });
  }
}
CASES.push({ id: 'py-header', server: { kind: 'py', transport: 'header', protocol: 'binary', name: 'py-header' } });
CASES.push({ id: 'cpp-header', server: { kind: 'cpp', transport: 'header', protocol: 'binary', name: 'cpp-header' } });

describe('thrift through the proxy, real peers', () => {
  const servers = new Map<string, RunningPeer>();
  let proxy: RunningMeltemi;

  before(async () => {
    ensurePeersBuilt();
    for (const c of CASES) servers.set(c.id, await startServer(c.server));
    proxy = await startMeltemi(
      bootstrapOf(
        CASES.map((c) => thriftListener(c.id, [{ name: 'all', cluster: c.id }])),
        CASES.map((c) => staticCluster(c.id, [servers.get(c.id)!.port])),
      ),
    );
  });
  after(async () => {
    await proxy?.close();
    await Promise.all([...servers.values()].map((s) => s.close()));
  });

  async function fired(kind: 'node' | 'py', id: string, t: Transport, p: Protocol): Promise<unknown> {
    const calls: Call[] = [['echo', '!fired']];
    const port = proxy.listenerPort(id);
    const r = kind === 'node' && t !== 'header' ? await runNodeClient({ port, transport: t, protocol: p, calls }) : await runPyClient({ port, transport: t, protocol: p, calls });
    return (r[0] as { ok: unknown }).ok;
  }

  for (const t of ['framed', 'buffered'] as const) {
    for (const p of ['binary', 'compact'] as const) {
      test(`npm thrift ${t}/${p}: client → proxy → npm thrift server, sequential and pipelined`, async () => {
        const id = `node-${t}-${p}`;
        const port = proxy.listenerPort(id);
        checkScript(await runNodeClient({ port, transport: t, protocol: p, calls: script(`n-${id}`) }), id, 0);
        checkScript(await runNodeClient({ port, transport: t, protocol: p, calls: script(`n2-${id}`), pipeline: true }), id, 0);
        const notes = String(await fired('node', id, t, p)).split(',');
        assert.ok(notes.includes(`n-${id}`) && notes.includes(`n2-${id}`), `one-way calls arrived: ${notes.join(',')}`);
      });

      test(`python3-thrift ${t}/${p}: client → proxy → python server`, async () => {
        const id = `py-${t}-${p}`;
        const port = proxy.listenerPort(id);
        checkScript(await runPyClient({ port, transport: t, protocol: p, calls: script(`p-${id}`) }), id, 6);
        assert.ok(String(await fired('py', id, t, p)).split(',').includes(`p-${id}`));
      });
    }
  }

  for (const p of ['binary', 'compact'] as const) {
    test(`python3-thrift THeader/${p} with an info header: client → proxy → python THeader server`, async () => {
      const port = proxy.listenerPort('py-header');
      const calls: Call[] = [['echo', '!header:x-trace'], ...script(`h-${p}`)];
      const r = await runPyClient({ port, transport: 'header', protocol: p, calls, headers: { 'x-trace': `abc-${p}` } });
      assert.deepEqual(r[0], { ok: `abc-${p}` }, 'the info header reached the server');
      checkScript(r.slice(1), 'py-header', 6);
      assert.ok(String(await fired('py', 'py-header', 'header', p)).split(',').includes(`h-${p}`));
    });

    test(`python3-thrift THeader/${p}: client → proxy → C++ THeader server (answers in binary)`, async () => {
      const port = proxy.listenerPort('cpp-header');
      const r = await runPyClient({ port, transport: 'header', protocol: p, calls: script(`hc-${p}`) });
      checkScript(r, 'cpp-header', 0);
    });

    test(`C++ THeader/${p} client → proxy → C++ THeader server`, async () => {
      const r = await runCppClient(proxy.listenerPort('cpp-header'), p, `cpp-${p}`);
      checkCpp(r, 'cpp-header', `cpp-${p}`, 0);
    });

    test(`C++ THeader/${p} client → proxy → python THeader server`, async () => {
      const r = await runCppClient(proxy.listenerPort('py-header'), p, `cpp-${p}`);
      checkCpp(r, 'py-header', `cpp-${p}`, 6);
    });
  }
});

/** The C++ client's fixed script: echo, add(2,40), getPair abc/bad, fire, fail, echo !fired. */
function checkCpp(r: CallResult[], name: string, msg: string, failType: number): void {
  assert.equal(r.length, 7, JSON.stringify(r));
  assert.deepEqual(r[0], { ok: `${msg}@${name}` });
  assert.deepEqual(r[1], { ok: 42 });
  assert.deepEqual(r[2], { ok: { key: 'abc', value: 3 } });
  assert.deepEqual(r[3], { error: { name: 'EchoError', message: 'no such key', code: 42 } });
  assert.deepEqual(r[4], { ok: null });
  const fail = r[5]!;
  assert.ok('error' in fail && fail.error.name === 'TApplicationException' && fail.error.type === failType, JSON.stringify(fail));
  assert.ok('ok' in r[6]!);
}
