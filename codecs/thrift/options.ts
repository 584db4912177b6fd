import type { ThriftProtocol } from './message-header.js';
import type { ThriftTransport } from './transport-detect.js';
import { DEFAULT_MAX_DEPTH } from './constants.js';

/** The codec's own settings, from `codec.config` (ctx.options). */
export interface ThriftCodecOptions {
  /** Fixed transport, or undefined to detect it per connection. */
  transport: ThriftTransport | undefined;
  /** Fixed protocol for framed/unframed, or undefined to detect it. THeader reads it per frame. */
  protocol: ThriftProtocol | undefined;
  /** Nesting limit of the unframed struct skipper. */
  maxDepth: number;
}

const TRANSPORTS: Readonly<Record<string, ThriftTransport | undefined>> = {
  auto: undefined,
  framed: 'framed',
  unframed: 'unframed',
  buffered: 'unframed',
  header: 'header',
  theader: 'header',
};

const PROTOCOLS: Readonly<Record<string, ThriftProtocol | undefined>> = {
  auto: undefined,
  binary: 'binary',
  compact: 'compact',
};

/**
 * Validates ctx.options: `transport` (auto | framed | unframed | buffered | header),
 * `protocol` (auto | binary | compact), `maxDepth` (1..1000). Throws a TypeError naming the
 * bad setting, so a bad config is rejected when it is loaded, not on the first request.
 */
export function parseThriftOptions(options: Readonly<Record<string, unknown>>): ThriftCodecOptions {
  const t = options['transport'] ?? 'auto';
  const p = options['protocol'] ?? 'auto';
  const d = options['maxDepth'] ?? DEFAULT_MAX_DEPTH;
  if (typeof t !== 'string' || !Object.hasOwn(TRANSPORTS, t.toLowerCase())) {
    throw new TypeError(`thrift codec: transport must be auto|framed|unframed|buffered|header, got ${String(t)}`);
  }
  if (typeof p !== 'string' || !Object.hasOwn(PROTOCOLS, p.toLowerCase())) {
    throw new TypeError(`thrift codec: protocol must be auto|binary|compact, got ${String(p)}`);
  }
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 1000) {
    throw new TypeError(`thrift codec: maxDepth must be an integer in 1..1000, got ${String(d)}`);
  }
  return { transport: TRANSPORTS[t.toLowerCase()], protocol: PROTOCOLS[p.toLowerCase()], maxDepth: d };
}
