import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOptions, type BenchOptions } from '../src/options.ts';

function load(...argv: string[]): BenchOptions {
  const o = loadOptions(argv);
  assert.ok(o !== null);
  return o;
}

describe('bench options', () => {
  it('default to the dubbo 64 x 1 closed loop against direct, pipe and meltemi', () => {
    const o = load();
    assert.equal(o.protocol, 'dubbo');
    assert.equal(o.mode, 'closed');
    assert.deepEqual([o.connections, o.inflight, o.payload], [64, 1, 128]);
    assert.deepEqual(o.targets, ['direct', 'pipe', 'meltemi']);
  });

  it('read protocol and load from a committed scenario, flags winning', () => {
    const o = load('thrift-compact-64x8', '--rounds', '1');
    assert.equal(o.protocol, 'thrift-compact');
    assert.equal(o.inflight, 8);
    assert.equal(o.rounds, 1);
  });

  it('name a run after what runs when a flag changes the scenario\'s protocol or load', () => {
    assert.equal(load().name, 'dubbo-64x1');
    assert.equal(load('--protocol', 'dubbo', '--rounds', '1').name, 'dubbo-64x1');
    const o = load('--protocol', 'thrift-compact');
    assert.equal(o.name, 'thrift-compact-64x1');
    assert.equal(o.description, 'Scenario dubbo-64x1 with --protocol thrift-compact.');
    assert.equal(load('trpc-64x8', '--inflight', '4', '--payload', '512').name, 'trpc-64x4-512b');
    assert.equal(load('--rate', '5000').name, 'dubbo-open-5000');
  });

  it('select the open loop from a rate, and a sweep from a range', () => {
    assert.equal(load('--rate', '5000').mode, 'open');
    const s = load('--mode', 'sweep', '--sweep-rates', '1000..5000/2000', '--p99-bound', '500us');
    assert.deepEqual(s.sweep.rates, [1000, 3000, 5000]);
    assert.equal(s.sweep.p99BoundUs, 500);
    assert.deepEqual(load('--mode', 'sweep', '--sweep-rates', '3000,1000').sweep.rates, [1000, 3000]);
  });

  it('accept multi-worker and external targets, and need an address for external', () => {
    assert.deepEqual(load('--targets', 'meltemi,meltemi-2').targets, ['meltemi', 'meltemi-2']);
    const e = load('--targets', 'pipe,external', '--external', '127.0.0.1:9000', '--external-pid', '42', '--echo-port', '20880');
    assert.deepEqual(e.external, { host: '127.0.0.1', port: 9000, pid: 42 });
    assert.equal(e.echoPort, 20880);
    assert.throws(() => load('--targets', 'external'), /needs --external/);
    assert.throws(() => load('--targets', 'envoy'), /unknown targets envoy/);
    assert.throws(() => load('--targets', 'meltemi-0'), /unknown targets/);
  });

  it('refuse what cannot run', () => {
    assert.throws(() => load('--protocol', 'http'), /unknown protocol/);
    assert.throws(() => load('--protocol', 'custom'), /needs --codec-module/);
    assert.throws(() => load('--mode', 'open'), /needs --rate/);
    assert.throws(() => load('--mode', 'sweep'), /sweep-rates/);
    assert.throws(() => load('--duration', 'soon'), /duration/);
  });

  it('read every committed scenario', async () => {
    const { readdirSync } = await import('node:fs');
    const dir = new URL('../scenarios', import.meta.url);
    const names = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(names.length >= 14);
    for (const f of names) assert.equal(load(f.replace(/\.yaml$/, '')).name, f.replace(/\.yaml$/, ''), f);
  });
});
