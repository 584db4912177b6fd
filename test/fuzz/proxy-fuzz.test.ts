/**
 * Mutation fuzzing through the running proxy (issue 13, "Fuzzing that finds bugs"): for every
 * protocol, fresh connections send mutated frames (the kit's mutation fuzzer) while one good
 * connection keeps calling the upstream. The proxy must stay up (it runs in this process: an
 * escaped exception fails the run), the good connection must see no failure, and the heap
 * must stay flat after warm-up. Bounded: about two seconds per protocol.
 *
 * The upstream answers with the protocol's captured reply, its id set to the request's (the
 * codec's own id restore), so every protocol has one; the seed comes from MELTEMI_FUZZ_SEED.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { FrameReader, MessageType } from '../../codecs/api/index.js';
import type { Message } from '../../codecs/api/index.js';
import { generateCase } from '../../codecs/kit/fuzz/mutation-fuzz.js';
import { fuzzSeed } from '../../codecs/kit/fuzz/settings.js';
import { conformanceSubject } from '../../codecs/kit/index.js';
import type { KitSubject } from '../../codecs/kit/index.js';
import { registerCodec } from '../../proxy/codec-registry.js';
import { setLogLevel } from '../../proxy/logger.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import { builtinSubjects } from './builtin-samples.js';

const FUZZ_MS = Number(process.env['MELTEMI_PROXY_FUZZ_MS'] ?? 2000);
const CONCURRENT_FUZZERS = 6;
const SEED = fuzzSeed();

/** Decodes a socket's bytes with `decode` and hands each message to `onMessage`. */
function pump(socket: net.Socket, decode: (r: FrameReader) => Message | Error | undefined, onMessage: (m: Message) => void): void {
  const reader = new FrameReader();
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (;;) {
      const r = decode(reader);
      if (r === undefined) return;
      if (r instanceof Error) {
        socket.destroy();
        return;
      }
      onMessage(r);
    }
  });
  socket.on('error', () => undefined);
}

/** An upstream that answers every request with the sample reply under the request's id. */
async function startUpstream(subject: KitSubject): Promise<net.Server> {
  const reply = subject.samples.responses[0]!.bytes;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const codec = subject.server();
    pump(socket, (r) => codec.decode(r), (req) => {
      if (req.type === MessageType.Heartbeat) {
        const hb = codec.heartbeatReply(req);
        if (hb !== null) socket.write(hb);
        return;
      }
      if (req.type !== MessageType.Request) return;
      const r = new FrameReader();
      r.push(Buffer.from(reply));
      const rsp = subject.client().decode(r);
      if (rsp === undefined || rsp instanceof Error) throw new Error('the sample reply does not decode');
      codec.setRequestId(rsp, req.requestId);
      const out = codec.encode(rsp, null);
      if (!(out instanceof Error)) socket.write(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('close', () => undefined);
  const close = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void): net.Server => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return server;
}

/** One connection that calls in a loop: each call must come back with its id and status. */
class GoodClient {
  calls = 0;
  failures: string[] = [];
  #socket: net.Socket;
  #subject: KitSubject;
  #request: Buffer;
  #pending: { id: number; timer: NodeJS.Timeout; done: () => void } | undefined;
  #nextId = 1;

  constructor(port: number, subject: KitSubject, request: Buffer) {
    this.#subject = subject;
    this.#request = request;
    this.#socket = net.connect(port, '127.0.0.1');
    this.#socket.on('close', () => this.failures.push('the good connection closed'));
    const codec = subject.client();
    pump(this.#socket, (r) => codec.decode(r), (m) => this.#onReply(m));
  }

  call(): Promise<void> {
    return new Promise((resolve) => {
      const r = new FrameReader();
      r.push(Buffer.from(this.#request));
      const msg = this.#subject.server().decode(r);
      if (msg === undefined || msg instanceof Error) throw new Error('the sample request does not decode');
      const id = this.#nextId++;
      this.#subject.client().setRequestId(msg, id);
      const out = this.#subject.client().encode(msg, null);
      if (out instanceof Error) throw out;
      const timer = setTimeout(() => {
        this.failures.push(`call ${id} timed out`);
        this.#pending = undefined;
        resolve();
      }, 3000);
      this.#pending = { id, timer, done: resolve };
      this.#socket.write(out);
    });
  }

  #onReply(m: Message): void {
    const p = this.#pending;
    if (p === undefined) {
      this.failures.push(`unexpected reply ${String(m.requestId)}`);
      return;
    }
    if (Number(m.requestId) !== p.id) this.failures.push(`reply id ${String(m.requestId)} for call ${p.id}`);
    else if (m.type !== MessageType.Response && m.type !== MessageType.Error) this.failures.push(`reply type ${MessageType[m.type]}`);
    clearTimeout(p.timer);
    this.#pending = undefined;
    this.calls++;
    p.done();
  }

  close(): void {
    this.#socket.removeAllListeners('close');
    this.#socket.destroy();
  }
}

/** Sends one mutated input on a fresh connection, then closes it after a short while. */
function fuzzConnection(port: number, subject: KitSubject, index: number): Promise<void> {
  const c = generateCase(subject, SEED, index);
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('connect', () => {
      for (const chunk of c.chunks) s.write(chunk);
      setTimeout(() => s.destroy(), 20);
    });
    s.on('close', () => resolve());
  });
}

/** The inputs of test/fixtures/fuzz-regressions/<codec> for the server half: sent first, every run. */
function regressionInputs(codec: string): Buffer[] {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/fuzz-regressions', codec);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.hex'));
  } catch {
    return [];
  }
  return files
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .filter((text) => /^#\s*side:\s*server/m.test(text))
    .map((text) => Buffer.from(text.split('\n').filter((l) => /^[0-9a-f]+$/.test(l.trim())).join(''), 'hex'));
}

/** Sends `bytes` on a fresh connection and closes it after a short while. */
function sendRaw(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('connect', () => {
      s.write(bytes);
      setTimeout(() => s.destroy(), 20);
    });
    s.on('close', () => resolve());
  });
}

const heapMiB = (): number => process.memoryUsage().heapUsed / 1048576;

describe('mutation fuzzing through the proxy', () => {
  // Thousands of refused connections would log a warning each.
  setLogLevel('error');
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    // The proxy first: its upstream connections keep the upstream server open.
    for (const c of closers.reverse()) await c();
  });

  for (const s of builtinSubjects().filter((b) => ['dubbo', 'thrift-framed', 'thrift-compact', 'brpc', 'trpc'].includes(b.name))) {
    it(`${s.name}: the proxy stays up, the good connection has 0 failures, the heap stays flat (seed ${SEED})`, async () => {
      registerCodec(s.factory);
      const subject = conformanceSubject(s.factory, s.samples);
      const upstream = await startUpstream(subject);
      closers.push(() => new Promise((r) => upstream.close(() => r())));
      const proxy = await startMeltemi(
        bootstrapOf(
          [metaProtocolListener({ codec: s.factory.name, protocol: s.factory.protocol, routes: [{ name: 'all', cluster: 'up', timeout: '2s' }] })],
          [staticCluster('up', [(upstream.address() as net.AddressInfo).port])],
        ),
      );
      closers.push(() => proxy.close());
      const port = proxy.listenerPort('main');
      const good = new GoodClient(port, subject, subject.samples.requests[0]!.bytes);
      // Every input that ever broke this codec first, then fresh mutations.
      const known = regressionInputs(s.name.split('-')[0]!);
      let index = 0;
      let stop = false;
      const replayed = (async (): Promise<void> => {
        for (const bytes of known) await sendRaw(port, bytes);
      })();
      const fuzzers = Array.from({ length: CONCURRENT_FUZZERS }, async () => {
        while (!stop) await fuzzConnection(port, subject, index++);
      });
      const caller = (async (): Promise<void> => {
        while (!stop) await good.call();
      })();
      // Warm-up, then the heap is sampled; the rest of the run must not grow it for good.
      await new Promise((r) => setTimeout(r, FUZZ_MS / 4));
      const warm = heapMiB();
      await new Promise((r) => setTimeout(r, (FUZZ_MS * 3) / 4));
      stop = true;
      await Promise.all([...fuzzers, caller, replayed]);
      const end = heapMiB();
      good.close();
      assert.deepEqual(good.failures, [], `good connection failures while ${index} fuzz connections ran (seed ${SEED})`);
      assert.ok(good.calls > 10, `the good connection made ${good.calls} calls`);
      assert.ok(index > 20, `${index} fuzz connections`);
      assert.ok(end - warm < 64, `heap grew from ${warm.toFixed(1)} to ${end.toFixed(1)} MiB after warm-up`);
      // Still serving: a fresh good connection gets its answer.
      const again = new GoodClient(port, subject, subject.samples.requests[0]!.bytes);
      await again.call();
      again.close();
      assert.deepEqual(again.failures, []);
    });
  }
});
