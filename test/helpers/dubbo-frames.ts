/**
 * Dubbo frames for raw-socket tests, with bodies encoded by hessian.js (an independent
 * hessian2 implementation), so the tests do not check the codec against itself.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
interface HessianDecoder {
  read(): unknown;
  byteBuffer: { position(): number };
}
const hessian = require('hessian.js') as {
  encode(value: unknown, version: '2.0'): Buffer;
  decode(buf: Buffer, version: '2.0'): unknown;
  DecoderV2: new (buf: Buffer) => HessianDecoder;
};

export function hessianEncode(value: unknown): Buffer {
  return hessian.encode(value, '2.0');
}

export function hessianDecode(buf: Buffer): unknown {
  return hessian.decode(buf, '2.0');
}

/** Every hessian2 value of a Dubbo body, in order. */
export function hessianDecodeAll(buf: Buffer): unknown[] {
  const d = new hessian.DecoderV2(buf);
  const out: unknown[] = [];
  while (d.byteBuffer.position() < buf.length) out.push(d.read());
  return out;
}

export interface RequestSpec {
  id: number | bigint;
  interface?: string;
  version?: string;
  method?: string;
  /** JVM descriptor of the arguments. */
  desc?: string;
  /** The dubbo protocol version string (default 2.0.2). */
  dubboVersion?: string;
  args?: unknown[];
  attachments?: Record<string, string>;
  twoWay?: boolean;
}

export function dubboHeader(flag: number, status: number, id: number | bigint, bodyLength: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0xdabb, 0);
  h[2] = flag;
  h[3] = status;
  h.writeBigUInt64BE(BigInt(id), 4);
  h.writeUInt32BE(bodyLength, 12);
  return h;
}

export function dubboRequest(spec: RequestSpec): Buffer {
  const iface = spec.interface ?? 'com.example.DemoService';
  const parts = [
    hessianEncode(spec.dubboVersion ?? '2.0.2'),
    hessianEncode(iface),
    hessianEncode(spec.version ?? '1.0.0'),
    hessianEncode(spec.method ?? 'sayHello'),
    hessianEncode(spec.desc ?? 'Ljava/lang/String;'),
    ...(spec.args ?? ['world']).map(hessianEncode),
    hessianEncode({ path: iface, interface: iface, version: spec.version ?? '1.0.0', ...spec.attachments }),
  ];
  const body = Buffer.concat(parts);
  const flag = 0x80 | (spec.twoWay === false ? 0 : 0x40) | 2;
  return Buffer.concat([dubboHeader(flag, 0, spec.id, body.length), body]);
}

export function heartbeatRequest(id: number): Buffer {
  return Buffer.concat([dubboHeader(0xe2, 0, id, 1), Buffer.from([0x4e])]);
}

export interface ParsedResponse {
  flag: number;
  status: number;
  id: bigint;
  body: Buffer;
}

/** Splits a byte stream into Dubbo frames (complete ones only). */
export function splitFrames(buf: Buffer): { frames: ParsedResponse[]; rest: Buffer } {
  const frames: ParsedResponse[] = [];
  let off = 0;
  while (buf.length - off >= 16) {
    const len = buf.readUInt32BE(off + 12);
    if (buf.length - off < 16 + len) break;
    frames.push({ flag: buf[off + 2]!, status: buf[off + 3]!, id: buf.readBigUInt64BE(off + 4), body: buf.subarray(off + 16, off + 16 + len) });
    off += 16 + len;
  }
  return { frames, rest: buf.subarray(off) };
}
