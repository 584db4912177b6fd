// Messages between the bench runner and its child processes (over the Node IPC channel).
import type { ProtocolName } from './protocols/registry.ts';

/**
 * closed: `inflight` outstanding per connection, refilled at once. open: a fixed rate.
 * idle: connect, send nothing, hold the connections for the window (memory per connection).
 */
export type LoadMode = 'closed' | 'open' | 'idle';

/** One load window for one generator process. */
export interface LoadJob {
  readonly protocol: ProtocolName;
  /** The CodecBenchAdapter module of the `custom` protocol. */
  readonly codecModule: string | undefined;
  readonly mode: LoadMode;
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Closed loop: requests kept in flight per connection. Open loop: cap on outstanding per connection. */
  readonly inflight: number;
  /** Open loop: requests per second for this generator. */
  readonly rate: number;
  readonly durationMs: number;
  /** How long to wait for outstanding responses after the window before counting them as timeouts. */
  readonly drainTimeoutMs: number;
  /** Total request frame size in bytes, header included. */
  readonly frameSize: number;
  /** Offset for connection numbers, so ids stay distinct across generator processes. */
  readonly firstConnection: number;
  /** Period of the latency timeline, milliseconds. */
  readonly sampleIntervalMs: number;
}

/** Latency of the responses that arrived in one interval of a window. */
export interface TimelinePoint {
  /** End of the interval, milliseconds from the window's start. */
  readonly tMs: number;
  readonly completed: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

export interface ErrorCounts {
  /** Responses with a status other than OK. */
  status: number;
  /** OK responses whose size differs from the echo of what was sent. */
  mismatch: number;
  /** Responses whose id matches no outstanding request. */
  unknownId: number;
  /** Requests lost with a connection that closed or failed. */
  connection: number;
  /** Requests still unanswered when the drain timeout ran out. */
  timeout: number;
}

export interface LoadResult {
  /** Requests answered OK with the expected echo. */
  readonly completed: number;
  readonly sent: number;
  readonly errors: ErrorCounts;
  /** From the first send to the last response (or the end of the drain). */
  readonly elapsedMs: number;
  /** Latency histogram in microseconds, hdr-histogram compressed base64. */
  readonly histogram: string;
  /** Open loop: send time minus due time, microseconds, same encoding (empty in the closed loop). */
  readonly sendLag: string;
  readonly timeline: readonly TimelinePoint[];
}

export type ToLoadgen =
  | { readonly type: 'prepare'; readonly job: LoadJob }
  | { readonly type: 'go' }
  | { readonly type: 'close' };

export type FromLoadgen =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'closed' };

/** Sent once by the echo server and the pipe proxy when they accept connections. */
export interface ListeningMessage {
  readonly type: 'listening';
  readonly port: number;
}

export function emptyErrors(): ErrorCounts {
  return { status: 0, mismatch: 0, unknownId: 0, connection: 0, timeout: 0 };
}

export function totalErrors(e: ErrorCounts): number {
  return e.status + e.mismatch + e.unknownId + e.connection + e.timeout;
}
