import type { Metadata } from '../../../codecs/api/index.js';

/** A trace context received from the client in W3C or B3 metadata keys. */
export interface RemoteContext {
  readonly traceId: string;
  readonly spanId: string;
  /** undefined when the sender left the decision to us. */
  readonly sampled: boolean | undefined;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

function validIds(traceId: string, spanId: string): boolean {
  return HEX32.test(traceId) && HEX16.test(spanId) && traceId !== ZERO32 && spanId !== ZERO16;
}

/** W3C Trace Context `traceparent`: `00-<trace id>-<span id>-<flags>`. */
export function parseTraceparent(v: string): RemoteContext | undefined {
  const parts = v.trim().toLowerCase().split('-');
  if (parts.length < 4) return undefined;
  const [version, traceId, spanId, flags] = parts as [string, string, string, string];
  if (!/^[0-9a-f]{2}$/.test(version) || version === 'ff' || (version === '00' && parts.length !== 4)) return undefined;
  if (!validIds(traceId, spanId) || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** B3 trace ids may have 64 bits; OpenTelemetry wants 128 (left-padded with zeros). */
function b3TraceId(v: string): string {
  const t = v.trim().toLowerCase();
  return t.length === 16 ? ZERO16 + t : t;
}

function b3Sampled(v: string | undefined, flags: string | undefined): boolean | undefined {
  if (flags === '1') return true; // debug implies sampled
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  return s === '1' || s === 'true' || s === 'd' ? true : s === '0' || s === 'false' ? false : undefined;
}

/** B3 single header `b3: <trace id>-<span id>[-<sampled>[-<parent span id>]]`. */
export function parseB3Single(v: string): RemoteContext | undefined {
  const parts = v.trim().toLowerCase().split('-');
  if (parts.length < 2) return undefined;
  const traceId = b3TraceId(parts[0]!);
  const spanId = parts[1]!;
  if (!validIds(traceId, spanId)) return undefined;
  return { traceId, spanId, sampled: b3Sampled(parts[2], undefined) };
}

/**
 * The client's trace context, from `traceparent`, else B3 (multi keys, then `b3`), else
 * undefined. Keys are the codec's lower-cased metadata keys (Dubbo attachments, tRPC
 * trans_info, THeader headers...).
 */
export function extractContext(md: Metadata): RemoteContext | undefined {
  const tp = md.get('traceparent');
  if (tp !== undefined) {
    const c = parseTraceparent(tp);
    if (c !== undefined) return c;
  }
  const tid = md.get('x-b3-traceid');
  const sid = md.get('x-b3-spanid');
  if (tid !== undefined && sid !== undefined) {
    const traceId = b3TraceId(tid);
    const spanId = sid.trim().toLowerCase();
    if (validIds(traceId, spanId)) return { traceId, spanId, sampled: b3Sampled(md.get('x-b3-sampled'), md.get('x-b3-flags')) };
  }
  const single = md.get('b3');
  return single === undefined ? undefined : parseB3Single(single);
}

/**
 * Writes a span's context into the forwarded request, in both W3C and B3 (multi) keys, so
 * an upstream on either convention continues the trace.
 */
export function injectContext(set: (key: string, value: string) => void, traceId: string, spanId: string, parentSpanId: string | undefined, sampled: boolean): void {
  set('traceparent', `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`);
  set('x-b3-traceid', traceId);
  set('x-b3-spanid', spanId);
  if (parentSpanId !== undefined) set('x-b3-parentspanid', parentSpanId);
  set('x-b3-sampled', sampled ? '1' : '0');
}
