import { cidrContains, ipValue, parseCidr } from '../net/cidr.js';
import type { Cidr } from '../net/cidr.js';

/**
 * Envoy's FilterChainMatch (spec/istio-sidecar.md §4.4): which of a listener's filter chains
 * a new connection gets. Candidates are narrowed one criterion at a time, in Envoy's order:
 * destination port, destination IP (`prefix_ranges`), server name, transport protocol,
 * application protocols, source type, source IP, source port. At each step the chains that
 * name the connection's value (the most specific: the longest prefix, the exact server name
 * before a wildcard) go on; if none names it, the chains that leave the field unset go on.
 * There is no backtracking: a step that leaves nothing is no match, and the listener's
 * `default_filter_chain` (or a close) follows.
 */
export interface FilterChainMatchConfig {
  readonly destination_port?: number | undefined;
  readonly prefix_ranges?: readonly CidrRangeConfig[] | undefined;
  readonly server_names?: readonly string[] | undefined;
  readonly transport_protocol?: string | undefined;
  readonly application_protocols?: readonly string[] | undefined;
  readonly source_type?: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL' | undefined;
  readonly source_prefix_ranges?: readonly CidrRangeConfig[] | undefined;
  readonly source_ports?: readonly number[] | undefined;
}

export interface CidrRangeConfig {
  readonly address_prefix: string;
  readonly prefix_len?: number | undefined;
}

/** What is known of a connection when its filter chain is chosen. */
export interface ConnectionFacts {
  /** The (original) destination. */
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly sourceIp: string;
  readonly sourcePort: number;
  /** `raw_buffer`, or `tls` when a TLS inspector saw a ClientHello. */
  readonly transportProtocol: string;
  /** ALPN values of the ClientHello (empty without TLS). */
  readonly applicationProtocols: readonly string[];
  /** SNI of the ClientHello ('' without). */
  readonly serverName: string;
}

interface CompiledMatch {
  readonly destinationPort: number | undefined;
  readonly prefixRanges: readonly Cidr[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string | undefined;
  readonly applicationProtocols: readonly string[];
  readonly sourceType: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';
  readonly sourcePrefixRanges: readonly Cidr[];
  readonly sourcePorts: readonly number[];
}

/** Compiles a match; problems are pushed to `errors` with their field path. */
export function compileChainMatch(m: FilterChainMatchConfig | undefined, path: string, errors: string[]): CompiledMatch {
  const ranges = (list: readonly CidrRangeConfig[] | undefined, field: string): Cidr[] =>
    (list ?? []).flatMap((r, i) => {
      const c = parseCidr(r.address_prefix, r.prefix_len);
      if (typeof c === 'string') {
        errors.push(`${path}.${field}[${i}]: ${c}`);
        return [];
      }
      return [c];
    });
  return {
    destinationPort: m?.destination_port,
    prefixRanges: ranges(m?.prefix_ranges, 'prefix_ranges'),
    serverNames: (m?.server_names ?? []).map((s) => s.toLowerCase()),
    transportProtocol: m?.transport_protocol === '' ? undefined : m?.transport_protocol,
    applicationProtocols: m?.application_protocols ?? [],
    sourceType: m?.source_type ?? 'ANY',
    sourcePrefixRanges: ranges(m?.source_prefix_ranges, 'source_prefix_ranges'),
    sourcePorts: m?.source_ports ?? [],
  };
}

/** A key equal for two matches that accept the same connections (Envoy refuses such duplicates). */
export function matchKey(m: CompiledMatch): string {
  return JSON.stringify({ ...m, prefixRanges: m.prefixRanges.map((c) => c.text).sort(), sourcePrefixRanges: m.sourcePrefixRanges.map((c) => c.text).sort() }, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
}

type Ip = { family: 4 | 6; value: bigint };

/** Keeps the candidates whose `score` is highest (> 0); else those scoring 0 (field unset). -1: excluded. */
function narrow<T>(cands: readonly T[], score: (c: T) => number): T[] {
  let best = 0;
  for (const c of cands) best = Math.max(best, score(c));
  return cands.filter((c) => score(c) === best);
}

/** Longest prefix containing `ip` + 1, 0 when the chain has no ranges, -1 when none contains it. */
function prefixScore(ranges: readonly Cidr[], ip: Ip | undefined): number {
  if (ranges.length === 0) return 0;
  let best = -1;
  if (ip !== undefined) for (const r of ranges) if (cidrContains(r, ip)) best = Math.max(best, r.bits + 1);
  return best;
}

/** Exact name 3, the longest wildcard `*.suffix` 2 + length fraction, unset 0, else -1. */
function serverNameScore(names: readonly string[], sni: string): number {
  if (names.length === 0) return 0;
  if (sni === '') return -1;
  let best = -1;
  for (const n of names) {
    if (n === sni) return 3;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1))) best = Math.max(best, 2 + n.length / 1024);
  }
  return best;
}

function isLoopback(ip: Ip | undefined): boolean {
  if (ip === undefined) return false;
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/** The chains of a listener, each with its match, and how one is chosen for a connection. */
export class FilterChainSelector<T> {
  readonly #chains: readonly { readonly match: CompiledMatch; readonly value: T }[];
  readonly #default: T | undefined;

  constructor(chains: readonly { readonly match: CompiledMatch; readonly value: T }[], defaultChain: T | undefined) {
    this.#chains = chains;
    this.#default = defaultChain;
  }

  /** The chain for a connection: a matching one, else the default chain, else undefined (close it). */
  select(f: ConnectionFacts): T | undefined {
    let c = this.#chains as readonly { readonly match: CompiledMatch; readonly value: T }[];
    if (c.length === 0) return this.#default;
    const dst = ipValue(f.destinationIp);
    const src = ipValue(f.sourceIp);
    const local = isLoopback(src) || (src !== undefined && dst !== undefined && src.family === dst.family && src.value === dst.value);
    const steps: ((m: CompiledMatch) => number)[] = [
      (m) => (m.destinationPort === undefined ? 0 : m.destinationPort === f.destinationPort ? 1 : -1),
      (m) => prefixScore(m.prefixRanges, dst),
      (m) => serverNameScore(m.serverNames, f.serverName.toLowerCase()),
      (m) => (m.transportProtocol === undefined ? 0 : m.transportProtocol === f.transportProtocol ? 1 : -1),
      (m) => (m.applicationProtocols.length === 0 ? 0 : m.applicationProtocols.some((p) => f.applicationProtocols.includes(p)) ? 1 : -1),
      (m) => (m.sourceType === 'ANY' ? 0 : (m.sourceType === 'SAME_IP_OR_LOOPBACK') === local ? 1 : -1),
      (m) => prefixScore(m.sourcePrefixRanges, src),
      (m) => (m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(f.sourcePort) ? 1 : -1),
    ];
    for (const step of steps) {
      c = narrow(c, (x) => step(x.match));
      if (c.length === 0) return this.#default;
    }
    return c[0]!.value;
  }
}
