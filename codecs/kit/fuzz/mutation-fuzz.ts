/**
 * The mutation fuzzer: valid sample frames, mutated (mutate.ts) and delivered in random
 * chunks, are decoded and used the way the proxy uses them (metadata read, id rewritten by
 * the other half, encoded with a mutation, answered with an error reply). Any exception is a
 * bug: in the proxy it would escape into a connection, or the process.
 *
 * Every case has its own seed derived from the run's seed and its index, so a failure prints
 * the seed, the case and the input, and the same seed fails the same way on a rerun.
 */
import { ErrorType, MessageType } from '../../api/index.js';
import type { ClientCodec, CodecBase, Message, ServerCodec } from '../../api/index.js';
import { ConformanceFailure, decodeChunks, touchMetadata } from '../subject.js';
import type { KitSubject } from '../subject.js';
import { mutateOnce, randomChunks } from './mutate.js';
import type { MutationKind } from './mutate.js';
import { Prng, caseSeed } from './prng.js';

/** Which half decodes an input: the server half reads requests, the client half responses. */
export type FuzzSide = 'server' | 'client';

/** One generated input. */
export interface FuzzCase {
  readonly index: number;
  readonly side: FuzzSide;
  readonly chunks: readonly Buffer[];
  readonly mutations: readonly MutationKind[];
}

/** What a run did. */
export interface FuzzCounts {
  inputs: number;
  bytes: number;
  /** Messages decoded (and then used) from mutated input. */
  messages: number;
  /** Inputs the codec refused with a decode error (the connection would be closed). */
  decodeErrors: number;
  /** Messages that carried a decodeError (answered with BAD_REQUEST). */
  badRequests: number;
  ms: number;
}

const FUZZ_MUTATION: ReadonlyMap<string, string> = new Map([
  ['x-meltemi-fuzz', 'v'],
  ['version', '9.9.9'],
]);

/** Message types the proxy answers with an error reply when it cannot route them. */
const ANSWERED = new Set([MessageType.Request, MessageType.StreamInit]);

/** The input of case `index` of a run seeded `seed`. */
export function generateCase(subject: KitSubject, seed: number, index: number): FuzzCase {
  const rng = new Prng(caseSeed(seed, index));
  const requests = subject.samples.heartbeat === undefined ? subject.samples.requests : [...subject.samples.requests, subject.samples.heartbeat.request];
  const responses = subject.samples.responses;
  const side: FuzzSide = responses.length > 0 && rng.chance(0.4) ? 'client' : 'server';
  const pool = (side === 'server' ? requests : responses).map((s) => s.bytes);
  let input: Buffer = rng.pick(pool);
  const mutations: MutationKind[] = [];
  const n = 1 + rng.int(rng.chance(0.2) ? 8 : 3);
  for (let i = 0; i < n; i++) input = mutateOnce(rng, input, pool, mutations);
  return { index, side, chunks: randomChunks(rng, input), mutations };
}

/**
 * Decodes `chunks` with a fresh codec of `side` and uses every message as the proxy would.
 * Throws whatever escapes the codec; returns what happened otherwise.
 */
export function exerciseInput(subject: KitSubject, side: FuzzSide, chunks: Iterable<Buffer>): { messages: number; decodeError: boolean; badRequests: number } {
  const codec: CodecBase = side === 'server' ? subject.server() : subject.client();
  const run = decodeChunks(codec, chunks);
  let badRequests = 0;
  for (const msg of run.messages) {
    if (msg.decodeError !== undefined) badRequests++;
    use(subject, side, codec, msg);
  }
  return { messages: run.messages.length, decodeError: run.error !== undefined, badRequests };
}

function use(subject: KitSubject, side: FuzzSide, codec: CodecBase, msg: Message): void {
  touchMetadata(msg);
  if (side === 'server') {
    const server = codec as ServerCodec;
    if (msg.type === MessageType.Heartbeat) {
      server.heartbeatReply(msg);
      return;
    }
    if (msg.decodeError === undefined) {
      // Forwarded: the upstream half gives it an id and applies a request mutation.
      const upstream: ClientCodec = subject.client();
      upstream.setRequestId(msg, 7);
      upstream.encode(msg, FUZZ_MUTATION);
    }
    if (ANSWERED.has(msg.type)) {
      msg.requestId = 1;
      server.errorReply(msg, msg.decodeError === undefined ? ErrorType.RouteNotFound : ErrorType.BadRequest, 'fuzz');
    }
    return;
  }
  if (msg.type === MessageType.Heartbeat) {
    (codec as ClientCodec).heartbeatReply?.(msg);
    return;
  }
  // A response goes back through the downstream half: the client's id, a response mutation.
  const downstream = subject.server();
  downstream.setRequestId(msg, 5);
  downstream.encode(msg, FUZZ_MUTATION);
}

/** The text a failure prints: enough to replay it by seed or by bytes. */
export function describeFailure(seed: number, c: FuzzCase, err: unknown): string {
  const input = Buffer.concat(c.chunks);
  const hex = input.length > 4096 ? `${input.subarray(0, 4096).toString('hex')}... (${input.length} bytes)` : input.toString('hex');
  return [
    `mutation fuzz: an exception escaped the ${c.side} half on case ${c.index} of seed ${seed}`,
    `  replay: MELTEMI_FUZZ_SEED=${seed} (or meltemi-codec-kit ... --seed ${seed} --runs ${c.index + 1})`,
    `  mutations: ${c.mutations.join(', ')}; chunks of ${c.chunks.map((b) => b.length).join('+')} bytes`,
    `  input: ${hex}`,
    `  error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  ].join('\n');
}

/** Runs `runs` cases from `seed`; throws a ConformanceFailure describing the first failure. */
export function runMutationFuzz(subject: KitSubject, runs: number, seed: number): FuzzCounts {
  const counts: FuzzCounts = { inputs: 0, bytes: 0, messages: 0, decodeErrors: 0, badRequests: 0, ms: 0 };
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const c = generateCase(subject, seed, i);
    try {
      const r = exerciseInput(subject, c.side, c.chunks);
      counts.messages += r.messages;
      counts.badRequests += r.badRequests;
      if (r.decodeError) counts.decodeErrors++;
    } catch (err) {
      throw new ConformanceFailure(describeFailure(seed, c, err));
    }
    counts.inputs++;
    for (const b of c.chunks) counts.bytes += b.length;
  }
  counts.ms = performance.now() - t0;
  return counts;
}

/** One line of counts. */
export function formatCounts(c: FuzzCounts): string {
  return `${c.inputs} input(s), ${(c.bytes / 1e6).toFixed(1)} MB, ${c.messages} message(s) decoded, ${c.badRequests} bad request(s), ${c.decodeErrors} decode error(s), ${(c.ms / 1000).toFixed(1)} s`;
}
