import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { CompiledChain, CompiledListener } from '../config/compile-listener.js';
import { logger } from '../logger.js';
import { reportFault } from '../net/fault.js';
import { originalDestination, setTransparent } from '../net/original-dst.js';
import type { OriginalDestination } from '../net/original-dst.js';
import type { OverloadManager, Refusal } from '../overload/overload-manager.js';
import { TcpProxySession } from '../tcp-proxy/tcp-proxy-session.js';
import type { TcpProxyRuntime } from '../tcp-proxy/tcp-proxy-session.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import { connectionInfoOf } from './connection-info.js';
import { ConnectionSweeper, sweepIntervalMs } from './connection-sweeper.js';
import { DownstreamConnection } from './downstream-connection.js';
import { connectionFacts } from './listener-hand-off.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { DownstreamPeer } from '../tls/downstream-peer.js';
import { newTlsAcceptStats } from '../tls/downstream-tls.js';
import type { TlsAcceptStats } from '../tls/downstream-tls.js';
import { inspectTls, RAW_FACTS, terminate } from '../tls/listener-accept.js';
import type { TlsFacts } from '../tls/listener-accept.js';
import type { TlsContext } from '../tls/tls-runtime.js';

/**
 * The runtime of one filter chain: a MetaProtocol proxy, or tcp_proxy; `tls` terminates its
 * connections (the chain's DownstreamTlsContext), undefined for plaintext.
 */
export type ChainRuntime =
  | { readonly kind: 'meta'; readonly runtime: ListenerRuntime; readonly tls?: TlsContext | undefined }
  | { readonly kind: 'tcp'; readonly runtime: TcpProxyRuntime; readonly tls?: TlsContext | undefined; readonly networkRbac?: readonly RbacAuthorizer[] | undefined };

/** What a listener needs beyond its own config. */
export interface ListenerContext {
  readonly overload: OverloadManager;
  /** The listener of an original destination (the use_original_dst hand-off), or undefined. */
  handOffTarget(dest: OriginalDestination, from: Listener): Listener | undefined;
}

/**
 * One listener and the connections it serves, on the filter chain each connection's facts
 * select (filter-chain-match.ts). It owns a socket unless `bind_to_port` is false: then it
 * only takes connections handed off by a `use_original_dst` listener (Istio's
 * virtualOutbound hands `<vip>_<port>` its connections). `compiled` and the chain runtimes are
 * replaced by a listener update on the same address: the socket stays bound (Node has no
 * working reusePort, spec/xds.md §5.2), new connections take the new runtimes, and the ones
 * accepted before keep theirs until they are drained.
 */
export class Listener {
  compiled: CompiledListener;
  chains: Map<CompiledChain, ChainRuntime>;
  readonly server: net.Server | undefined;
  readonly connections = new Set<DownstreamConnection>();
  readonly tcpSessions = new Set<TcpProxySession>();
  /** Connections no filter chain took (Envoy's no_filter_chain_match). */
  noFilterChainMatch = 0;
  /** TLS handshakes and refusals of this listener's chains (Envoy's `listener.<address>.ssl.*`). */
  readonly tlsStats: TlsAcceptStats = newTlsAcceptStats();
  /** Idle, frame-read and drain timers of every MetaProtocol connection: one periodic sweep. */
  readonly #sweeper = new ConnectionSweeper(this.connections);
  /** The port bound by listen(), kept so that it can be shown after the socket closed. */
  #port: number;
  /** Called when the last connection of a closed listener ends (drains wait for it). */
  #onEmpty: (() => void) | undefined;
  /** False once the socket stopped accepting (drain, removal, close). */
  #accepting = false;
  /** Set by a graceful drain: connections accepted from now on are told to drain at once. */
  #drainingNew = false;
  readonly #ctx: ListenerContext;
  readonly #forget: (c: DownstreamConnection) => void;
  readonly #forgetTcp: (s: TcpProxySession) => void;

  constructor(compiled: CompiledListener, chains: Map<CompiledChain, ChainRuntime>, ctx: ListenerContext) {
    this.compiled = compiled;
    this.chains = chains;
    this.#ctx = ctx;
    this.#port = compiled.port;
    const overload = ctx.overload;
    // One callback for every connection's end, not a closure per connection.
    this.#forget = (c: DownstreamConnection): void => {
      if (this.connections.delete(c)) overload.activeConnections--;
      this.#checkEmpty();
    };
    this.#forgetTcp = (t: TcpProxySession): void => {
      if (this.tcpSessions.delete(t)) overload.activeConnections--;
      this.#checkEmpty();
    };
    // allowHalfOpen: tcp_proxy passes a client's FIN on and keeps the other direction open;
    // MetaProtocol connections switch it off again (serve()).
    this.server = compiled.bindToPort ? net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket)) : undefined;
    // A listener without a socket takes hand-offs as soon as it exists.
    this.#accepting = !compiled.bindToPort;
    this.retime();
  }

  #checkEmpty(): void {
    if (this.size === 0) this.#onEmpty?.();
  }

  /** Connections open now, of both kinds. */
  get size(): number {
    return this.connections.size + this.tcpSessions.size;
  }

  #accept(socket: net.Socket): void {
    const refusal = this.#ctx.overload.admit(this.size);
    if (refusal !== undefined) {
      this.#refuse(socket, refusal);
      return;
    }
    try {
      let dest: OriginalDestination | undefined;
      if (this.compiled.recoversOriginalDst) {
        const d = originalDestination(socket, this.compiled.transparent);
        // Not intercepted (ENOENT: a direct connection to 15001): the local address stands.
        if (d instanceof Error) logger.debug({ listener: this.compiled.name, err: d.message }, 'no original destination');
        else dest = d;
      }
      if (dest !== undefined && this.compiled.useOriginalDst) {
        const target = this.#ctx.handOffTarget(dest, this);
        if (target !== undefined && target.accepting) {
          target.serve(socket, dest);
          return;
        }
      }
      this.serve(socket, dest);
    } catch (err) {
      reportFault('accept', err, { listener: this.compiled.name });
      socket.on('error', ignore);
      socket.destroy();
    }
  }

  /**
   * Serves a connection accepted here or handed off to this listener, on the chain its facts
   * select. With a tls_inspector the ClientHello is read first (without consuming it), so the
   * selection sees transport_protocol, SNI and ALPN.
   */
  serve(socket: net.Socket, dest: OriginalDestination | undefined): void {
    if (!this.compiled.inspectTls) {
      this.#serveOn(socket, dest, RAW_FACTS, false);
      return;
    }
    socket.on('error', ignore);
    inspectTls(socket, (tls) => {
      try {
        this.#serveOn(socket, dest, tls, true);
      } catch (err) {
        reportFault('accept', err, { listener: this.compiled.name });
        socket.destroy();
      }
    });
  }

  #serveOn(socket: net.Socket, dest: OriginalDestination | undefined, tls: TlsFacts, paused: boolean): void {
    const chain = this.compiled.selector.select(connectionFacts(socket, dest, tls));
    const rt = chain === undefined ? undefined : this.chains.get(chain);
    if (rt === undefined) {
      this.noFilterChainMatch++;
      logger.debug({ listener: this.compiled.name, client: `${socket.remoteAddress}:${socket.remotePort}` }, 'no filter chain matches the connection; closed');
      socket.on('error', ignore);
      socket.destroy();
      return;
    }
    // A MetaProtocol connection closes its side when the client ends (Node's default);
    // tcp_proxy passes a FIN on.
    if (rt.kind === 'meta') socket.allowHalfOpen = false;
    if (rt.tls !== undefined) socket.on('error', ignore);
    // The TLS handshake (if any) and peer checks first; a refused client is closed there.
    terminate(socket, rt.tls, this.tlsStats, paused && rt.kind === 'meta', (served, peer) => this.#start(served, rt, dest, peer));
  }

  #start(socket: net.Socket, rt: ChainRuntime, dest: OriginalDestination | undefined, peer: DownstreamPeer): void {
    this.#ctx.overload.activeConnections++;
    if (rt.kind === 'tcp') {
      if (rt.networkRbac !== undefined && !tcpAuthorized(socket, rt.networkRbac, peer, dest)) {
        // Denied before any byte goes upstream: closed at once, as Envoy's network RBAC does.
        this.#ctx.overload.activeConnections--;
        logger.debug({ listener: this.compiled.name, client: `${socket.remoteAddress}:${socket.remotePort}` }, 'closing tcp_proxy connection: denied by network RBAC');
        socket.destroy();
        return;
      }
      this.tcpSessions.add(new TcpProxySession(socket, rt.runtime, dest, this.#forgetTcp));
      return;
    }
    const c = new DownstreamConnection(socket, rt.runtime, this.#forget, dest, peer);
    this.connections.add(c);
    // A gracefully draining listener still accepts (Envoy), but tells each newcomer to go at once.
    if (this.#drainingNew) c.drain();
  }

  /** Closes a connection over a limit at once (Envoy accepts, counts and closes it too). */
  #refuse(socket: net.Socket, refusal: Refusal): void {
    const stats = this.metaRuntimes()[0]?.stats;
    if (stats !== undefined) {
      if (refusal === 'listener_limit') stats.downstream_cx_overflow++;
      else if (refusal === 'global_limit') stats.downstream_global_cx_overflow++;
      else stats.downstream_cx_overload_reject++;
    }
    socket.on('error', ignore);
    socket.destroy();
  }

  /** The runtimes of the MetaProtocol chains, in chain order. */
  metaRuntimes(): ListenerRuntime[] {
    return [...this.chains.values()].flatMap((c) => (c.kind === 'meta' ? [c.runtime] : []));
  }

  tcpRuntimes(): TcpProxyRuntime[] {
    return [...this.chains.values()].flatMap((c) => (c.kind === 'tcp' ? [c.runtime] : []));
  }

  /** Sets the sweep interval from the timeouts of the current runtimes. */
  retime(): void {
    this.#sweeper.start(sweepIntervalMs(this.metaRuntimes().flatMap((r) => [r.idleTimeoutMs, r.frameReadTimeoutMs, r.drainGraceMs])));
  }

  async listen(): Promise<void> {
    // Envoy's listener warming: a TLS chain's certificates (SDS) are here before the socket binds.
    await whenChainsReady(this.chains.values());
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.compiled.port, this.compiled.host, () => {
        server.off('error', reject);
        this.#port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
    if (this.compiled.transparent) {
      try {
        setTransparent(server);
      } catch (err) {
        server.close();
        throw new Error(`listener ${this.compiled.name}: transparent: cannot set IP_TRANSPARENT (needs CAP_NET_ADMIN): ${(err as Error).message}`, { cause: err });
      }
    }
    this.#accepting = true;
  }

  /** Stops accepting new connections (and hand-offs); those open keep being served. */
  stopAccepting(): void {
    this.#accepting = false;
    this.server?.close();
  }

  /**
   * Tells every open connection to drain (no new request; close once nothing is in flight).
   * A tcp_proxy connection has no request boundary: it closes at the drain timeout.
   */
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
    if (this.size === 0) return Promise.resolve();
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
    for (const t of [...this.tcpSessions]) t.close();
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

/** Resolves once the certificates of every TLS chain of `chains` are here (at once for plaintext). */
export async function whenChainsReady(chains: Iterable<ChainRuntime>): Promise<void> {
  await Promise.all([...chains].map((c) => c.tls?.whenReady()));
}

/**
 * Runs a pass-through chain's network RBAC filters on the connection's facts (addresses, the
 * original destination, the verified TLS peer): tcp_proxy has no first request to wait for,
 * so they decide before the upstream connection is made.
 */
function tcpAuthorized(socket: net.Socket, rbac: readonly RbacAuthorizer[], peer: DownstreamPeer, dest: OriginalDestination | undefined): boolean {
  const request = { connection: connectionInfoOf(socket, peer, dest), metadata: undefined };
  for (const r of rbac) if (!r.check(request)) return false;
  return true;
}
