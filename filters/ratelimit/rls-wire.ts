/**
 * The two messages of envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit, written
 * and read by hand (spec/xds.md §4.1): the request has three fields, and of the response
 * the filter needs only the overall code and the tightest limit left. A generic protobuf
 * encoder would build an object graph per call for the same bytes.
 */

/** RateLimitResponse.Code. */
export const enum RlsCode {
  Unknown = 0,
  Ok = 1,
  OverLimit = 2,
}

/** What the filter reads from a RateLimitResponse. */
export interface RlsAnswer {
  readonly code: RlsCode;
  /** The smallest `limit_remaining` over the descriptor statuses (undefined: none given). */
  readonly remaining: number | undefined;
  /** The smallest `current_limit.requests_per_unit` (undefined: none given). */
  readonly limit: number | undefined;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/**
 * Encodes the constant part of a request: field 1, the domain. Built once per filter config.
 */
export function encodeDomain(domain: string): Buffer {
  const len = Buffer.byteLength(domain);
  const out = Buffer.allocUnsafe(1 + varintSize(len) + len);
  let at = writeVarint(out, 0, (1 << 3) | 2);
  at = writeVarint(out, at, len);
  out.write(domain, at);
  return out;
}

/**
 * A RateLimitRequest: `domainField` (from encodeDomain), one descriptor per key with the
 * single entry {keys[i], values[i]}, and hits_addend when more than 1.
 */
export function encodeRequest(domainField: Buffer, keys: readonly string[], values: readonly string[], hits: number): Buffer {
  let size = domainField.length;
  const entrySizes: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = Buffer.byteLength(keys[i]!);
    const v = Buffer.byteLength(values[i]!);
    const entry = 1 + varintSize(k) + k + 1 + varintSize(v) + v;
    const descriptor = 1 + varintSize(entry) + entry;
    entrySizes.push(entry);
    size += 1 + varintSize(descriptor) + descriptor;
  }
  if (hits > 1) size += 1 + varintSize(hits);
  const out = Buffer.allocUnsafe(size);
  let at = domainField.copy(out, 0);
  for (let i = 0; i < keys.length; i++) {
    const entry = entrySizes[i]!;
    at = writeVarint(out, at, (2 << 3) | 2);
    at = writeVarint(out, at, 1 + varintSize(entry) + entry);
    at = writeVarint(out, at, (1 << 3) | 2);
    at = writeVarint(out, at, entry);
    at = writeString(out, at, 1, keys[i]!);
    at = writeString(out, at, 2, values[i]!);
  }
  if (hits > 1) {
    at = writeVarint(out, at, 3 << 3);
    writeVarint(out, at, hits);
  }
  return out;
}

function writeString(out: Buffer, at: number, field: number, s: string): number {
  at = writeVarint(out, at, (field << 3) | 2);
  at = writeVarint(out, at, Buffer.byteLength(s));
  return at + out.write(s, at);
}

/** A protobuf reader over one message's bytes; throws on truncated input. */
class Reader {
  at: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }

  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.at >= this.end) throw new Error('RateLimitResponse: truncated varint');
      const b = this.buf[this.at++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error('RateLimitResponse: varint too long');
    }
  }

  /** Skips a field of `wireType`. */
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.at += 8;
    else if (wireType === 2) {
      // Read the length first: `this.at += this.varint()` would add it to the old offset.
      const len = this.varint();
      this.at += len;
    }
    else if (wireType === 5) this.at += 4;
    else throw new Error(`RateLimitResponse: unsupported wire type ${wireType}`);
    if (this.at > this.end) throw new Error('RateLimitResponse: truncated field');
  }

  /** Reads a length prefix and returns the end of the sub-message. */
  sub(): number {
    const len = this.varint();
    const end = this.at + len;
    if (end > this.end) throw new Error('RateLimitResponse: truncated message');
    return end;
  }
}

/** Reads overall_code (1) and, of each DescriptorStatus (2), current_limit (2) and limit_remaining (3). */
export function decodeResponse(buf: Uint8Array): RlsAnswer {
  const r = new Reader(buf, 0, buf.length);
  let code = RlsCode.Unknown;
  let remaining: number | undefined;
  let limit: number | undefined;
  while (r.at < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1 && wt === 0) code = r.varint() as RlsCode;
    else if (field === 2 && wt === 2) {
      const end = r.sub();
      const s = new Reader(buf, r.at, end);
      // proto3 leaves out a zero limit_remaining: a status with a limit and no remaining has 0 left.
      let left = 0;
      let limited = false;
      while (s.at < s.end) {
        const t = s.varint();
        const f = Math.floor(t / 8);
        if (f === 3 && (t & 7) === 0) {
          left = s.varint();
          limited = true;
        } else if (f === 2 && (t & 7) === 2) {
          limited = true;
          const limitEnd = s.sub();
          const l = new Reader(buf, s.at, limitEnd);
          while (l.at < l.end) {
            const lt = l.varint();
            if (lt === 1 << 3) {
              const perUnit = l.varint();
              limit = limit === undefined ? perUnit : Math.min(limit, perUnit);
            } else l.skip(lt & 7);
          }
          s.at = limitEnd;
        } else s.skip(t & 7);
      }
      if (limited) remaining = remaining === undefined ? left : Math.min(remaining, left);
      r.at = end;
    } else r.skip(wt);
  }
  return { code, remaining, limit };
}
