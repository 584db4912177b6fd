import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { CompiledListener } from '../config/compile-listener.js';
import type { OverloadManager, Refusal } from '../overload/overload-manager.js';
import { ConnectionSweeper, sweepIntervalMs } from './connection-sweeper.js';
import { DownstreamConnection } from './downstream-connection.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { plaintextPeer } from '../tls/downstream-peer.js';
import type { DownstreamPeer } from '../tls/downstream-peer.js';
import { newTlsAcceptStats } from '../tls/downstream-tls.js';
import { acceptConnection } from '../tls/listener-accept.js';
import type { AcceptStats } from '../tls/listener-accept.js';

/**
 * One listening socket and the connections it accepted. `runtime` and `compiled` are
 * replaced by a listener update on the same address: the socket stays bound (Node has no
 * working reusePort, spec/xds.md §5.2), new connections take the new runtime, and the ones
 * accepted before keep theirs until they are drained.
 */
export class Listener {
  runtime: ListenerRuntime;
  compiled: CompiledListener;
  readonly server: net.Server;
  readonly connections = new Set<DownstreamConnection>();
  /** Idle, frame-read and drain timers of every connection: one periodic sweep. */
  readonly #sweeper = new ConnectionSweeper(this.connections);
  /** The port bound by listen(), kept so that it can be shown after the socket closed. */
  #port: number;
  /** Called when the last connection of a closed listener ends (drains wait for it). */
  #onEmpty: (() => void) | undefined;
  /** False once the socket stopped accepting (drain, removal, close). */
  #accepting = false;
  /** Set by a graceful drain: connections accepted from now on are told to drain at once. */
  #drainingNew = false;
  /** Handshakes, refusals and unmatched connections (Envoy's `listener.<name>.ssl.*`, `no_filter_chain_match`). */
  readonly acceptStats: AcceptStats = { ...newTlsAcceptStats(), noFilterChainMatch: 0 };

  constructor(compiled: CompiledListener, runtime: ListenerRuntime, overload: OverloadManager) {
    this.compiled = compiled;
    this.runtime = runtime;
    this.#port = compiled.port;
    // One callback for every connection's end, not a closure per connection.
    const forget = (c: DownstreamConnection): void => {
      if (this.connections.delete(c)) overload.activeConnections--;
      if (this.connections.size === 0) this.#onEmpty?.();
    };
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const refusal = overload.admit(this.connections.size);
      if (refusal !== undefined) {
        this.#refuse(socket, refusal);
        return;
      }
      const runtime = this.runtime;
      const serve = (served: net.Socket, peer: DownstreamPeer): void => {
        overload.activeConnections++;
        const c = new DownstreamConnection(served, runtime, forget, peer);
        this.connections.add(c);
        // A gracefully draining listener still accepts (Envoy), but tells each newcomer to go at once.
        if (this.#drainingNew) c.drain();
      };
      if (runtime.chainSelection === undefined) {
        serve(socket, plaintextPeer(socket));
        return;
      }
      // TLS or a chain to pick: the connection is served once the handshake (if any) is done.
      socket.on('error', ignore);
      acceptConnection(socket, runtime.chainSelection, this.acceptStats, serve);
    });
    this.retime();
  }

  /** Closes a connection over a limit at once (Envoy accepts, counts and closes it too). */
  #refuse(socket: net.Socket, refusal: Refusal): void {
    const stats = this.runtime.stats;
    if (refusal === 'listener_limit') stats.downstream_cx_overflow++;
    else if (refusal === 'global_limit') stats.downstream_global_cx_overflow++;
    else stats.downstream_cx_overload_reject++;
    socket.on('error', ignore);
    socket.destroy();
  }

  /** Sets the sweep interval from the timeouts of the current runtime. */
  retime(): void {
    const r = this.runtime;
    this.#sweeper.start(sweepIntervalMs([r.idleTimeoutMs, r.frameReadTimeoutMs, r.drainGraceMs]));
  }

  async listen(): Promise<void> {
    // Envoy's init manager: a TLS listener binds once its certificates are here (SDS).
    await whenChainsReady(this.runtime);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.compiled.port, this.compiled.host, () => {
        this.server.off('error', reject);
        this.#port = (this.server.address() as AddressInfo).port;
        this.#accepting = true;
        resolve();
      });
    });
  }

  /** Stops accepting new connections; those open keep being served. */
  stopAccepting(): void {
    this.#accepting = false;
    this.server.close();
  }

  /** Tells every open connection to drain (no new request; close once nothing is in flight). */
  drainConnections(): void {
    for (const c of [...this.connections]) c.drain();
  }

  /**
   * Envoy's graceful listener drain with the immediate strategy: every connection, open or
   * accepted later, is told to drain; the socket keeps accepting until stopAccepting().
   */
  drainGracefully(): void {
    this.#drainingNew = true;
    this.drainConnections();
  }

  /**
   * Stops accepting and drains every connection (drain-state.ts); resolves once the last one
   * closed, and stops the sweep then. Connections accepted under an older runtime drain the
   * same way.
   */
  async closeAndDrain(): Promise<void> {
    this.stopAccepting();
    this.drainConnections();
    await this.whenEmpty();
    this.#sweeper.stop();
  }

  /** Resolves once no connection is open (at once when there is none). */
  whenEmpty(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.#onEmpty;
      this.#onEmpty = () => {
        this.#onEmpty = undefined;
        previous?.();
        resolve();
      };
    });
  }

  /** Closes the socket and every connection now. */
  close(): void {
    this.stopAccepting();
    for (const c of [...this.connections]) c.close();
    this.#sweeper.stop();
  }

  get port(): number {
    return this.#port;
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  /** Envoy's traffic_direction; UNSPECIFIED when the config says nothing. */
  get direction(): 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED' {
    return this.compiled.source.traffic_direction ?? 'UNSPECIFIED';
  }

  /** `host:port` as bound (the real port when the config said 0). */
  get address(): string {
    return `${this.compiled.host}:${this.#port}`;
  }
}

function ignore(): void {}

/** Resolves once the certificates of every chain of `r` are here (at once for plaintext). */
export async function whenChainsReady(r: ListenerRuntime): Promise<void> {
  await Promise.all((r.chainSelection?.chains ?? []).map((c) => c.tls?.whenReady()));
}
