/**
 * The fixed-header fields a tRPC client wrote (version byte @14, u32 @10), kept so that every
 * reply Meltemi sends back carries them, whatever the upstream or the id rewrite wrote there.
 * A v1 client (trpc-go) puts its request id @10, a v0 one (trpc-cpp) 0, and a client may
 * write anything else: a reply echoes its own value, or the request id where it sent that.
 */
import { Offset } from './constants.js';

/** Per-request entries kept at most for connections that mix clients' conventions. */
const MAX_MIXED_ENTRIES = 4096;

/** Whether `field10` is the echo of the request id (the v1 convention). */
export function echoesId(field10: number, requestId: number): boolean {
  return field10 === requestId && requestId !== 0;
}

/** Writes the client's version and its @10 into a reply for request id `id`. */
export function writeClientFields(frame: Buffer, version: number, field10: number, echo: boolean, id: number): void {
  frame[Offset.Version] = version;
  frame.writeUInt32BE(echo ? id : field10, Offset.StreamId);
}

/**
 * The downstream side's record. One client implementation per connection is the rule, so
 * the connection's first request sets the convention with no per-request cost; a request
 * that differs switches the connection to a bounded per-request map keyed by request id.
 */
export class ClientFieldMemory {
  #version = -1;
  #field10 = 0;
  #echo = false;
  #mixed: Map<number, number> | undefined;

  /** Records a unary request the client sent. */
  remember(version: number, field10: number, requestId: number): void {
    const echo = echoesId(field10, requestId);
    if (this.#version < 0) {
      this.#version = version;
      this.#field10 = field10;
      this.#echo = echo;
      return;
    }
    if (this.#mixed === undefined && version === this.#version && echo === this.#echo && (echo || field10 === this.#field10)) return;
    this.#mixed ??= new Map();
    if (this.#mixed.size >= MAX_MIXED_ENTRIES) this.#mixed.delete(this.#mixed.keys().next().value!);
    // version (8 bits), echo flag, field10 (32 bits): 41 bits, exact in a double.
    this.#mixed.set(requestId, (version * 2 + (echo ? 1 : 0)) * 0x1_0000_0000 + field10);
  }

  /** Writes the fields of the request with id `id` into its reply; false when nothing is known. */
  restore(frame: Buffer, id: number): boolean {
    if (this.#version < 0) return false;
    const packed = this.#mixed?.get(id);
    if (packed !== undefined) {
      this.#mixed!.delete(id);
      const high = Math.floor(packed / 0x1_0000_0000);
      writeClientFields(frame, high >>> 1, packed % 0x1_0000_0000, (high & 1) === 1, id);
      return true;
    }
    writeClientFields(frame, this.#version, this.#field10, this.#echo, id);
    return true;
  }
}
