import { Client, credentials } from '@grpc/grpc-js';
import type { ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import { decodeResponse } from './rls-wire.js';
import type { RlsAnswer } from './rls-wire.js';

const SHOULD_RATE_LIMIT = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';

const passBytes = (b: Buffer): Buffer => b;

/**
 * One gRPC channel to one rate-limit service endpoint. Every call of every filter that uses
 * the endpoint goes over it, multiplexed on one HTTP/2 connection; reconnects and their
 * back-off are the channel's own. A call fails at once while the channel cannot connect
 * (no wait-for-ready), so a down service costs no deadline.
 */
export class RlsChannel {
  readonly target: string;
  readonly #client: Client;

  constructor(target: string) {
    this.target = target;
    this.#client = new Client(target, credentials.createInsecure(), {
      // Reconnect quickly after a restart of the service; grpc-js backs off from here.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5000,
      'grpc.enable_retries': 0,
    });
    // Connect now, so the first request does not spend its deadline on the handshake.
    this.#client.getChannel().getConnectivityState(true);
  }

  /** Sends one ShouldRateLimit request (already encoded); `done` gets the answer or the error. */
  call(request: Buffer, done: (err: ServiceError | null, answer?: RlsAnswer) => void): ClientUnaryCall {
    return this.#client.makeUnaryRequest(SHOULD_RATE_LIMIT, passBytes, decodeResponse, request, done);
  }

  close(): void {
    this.#client.close();
  }
}

/** Channels by `host:port`, shared by every filter (and kept across config updates). */
const channels = new Map<string, RlsChannel>();

export function rlsChannel(address: string, port: number): RlsChannel {
  const target = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  let ch = channels.get(target);
  if (ch === undefined) {
    ch = new RlsChannel(target);
    channels.set(target, ch);
  }
  return ch;
}

/** Closes every channel (process shutdown, tests). */
export function closeRlsChannels(): void {
  for (const ch of channels.values()) ch.close();
  channels.clear();
}
