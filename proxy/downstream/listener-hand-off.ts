import type net from 'node:net';
import type { OriginalDestination } from '../net/original-dst.js';
import type { ConnectionFacts } from './filter-chain-match.js';
import { RAW_FACTS } from '../tls/listener-accept.js';
import type { TlsFacts } from '../tls/listener-accept.js';

/**
 * The hand-off of a `use_original_dst` listener (Istio's virtualOutbound) to the listener
 * of a connection's original destination (spec/istio-sidecar.md §3.3): the listener whose
 * address is exactly `ip:port` first, then the wildcard `0.0.0.0:port` (`[::]:port` for
 * IPv6). The accepting listener itself is never a target, so a connection whose original
 * destination is the accepting listener stays on its own chains (Istio's blackhole chain).
 */
export class ListenerAddressIndex<L> {
  readonly #byAddress = new Map<string, L>();

  /** Rebuilds the index from every listener now known, with its address. */
  rebuild(listeners: Iterable<{ readonly host: string; readonly port: number; readonly listener: L }>): void {
    this.#byAddress.clear();
    for (const l of listeners) {
      const key = addressKey(l.host, l.port);
      // Two listeners on one address: the first keeps it (Envoy refuses the second).
      if (!this.#byAddress.has(key)) this.#byAddress.set(key, l.listener);
    }
  }

  /** The listener to hand a connection to, or undefined to keep it on `from`. */
  find(dest: OriginalDestination, from: L): L | undefined {
    const exact = this.#byAddress.get(addressKey(dest.address, dest.port));
    if (exact !== undefined && exact !== from) return exact;
    const wildcard = this.#byAddress.get(addressKey(dest.address.includes(':') ? '::' : '0.0.0.0', dest.port));
    if (wildcard !== undefined && wildcard !== from) return wildcard;
    return undefined;
  }
}

function addressKey(host: string, port: number): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return `${h.toLowerCase()}|${port}`;
}

/**
 * What filter chain matching sees of a connection; `dest` replaces the local address when
 * known, `tls` is what the tls_inspector read of the ClientHello (raw_buffer without one).
 */
export function connectionFacts(socket: net.Socket, dest: OriginalDestination | undefined, tls: TlsFacts = RAW_FACTS): ConnectionFacts {
  return {
    destinationIp: dest?.address ?? socket.localAddress ?? '',
    destinationPort: dest?.port ?? socket.localPort ?? 0,
    sourceIp: socket.remoteAddress ?? '',
    sourcePort: socket.remotePort ?? 0,
    transportProtocol: tls.transportProtocol,
    applicationProtocols: tls.applicationProtocols,
    serverName: tls.serverName,
  };
}
