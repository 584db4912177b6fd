import type { RequestId } from '../../codecs/api/index.js';

/**
 * Upstream ids for protocols whose request ids are varints (bRPC correlation_id, tRPC
 * request_id). An id of another encoded length than the client's forces the codec to
 * rebuild the frame twice (request and reply); an id of the same length is patched in
 * place. So ids are drawn from the band of the client's id length: 1..127, 128..16383,
 * ..., and 2^28..2^31-1 for 5 bytes and longer (and negative) ids.
 */
const BAND_START = [1, 128, 16_384, 2_097_152, 268_435_456];
const BAND_END = [127, 16_383, 2_097_151, 268_435_455, 0x7fffffff];
/** Draws tried in a band before giving up on matching the length (a band nearly full). */
const MAX_PROBES = 64;

function bandOf(id: RequestId): number {
  const n = typeof id === 'bigint' ? (id < 0n || id >= 268_435_456n ? -1 : Number(id)) : id;
  if (n < 0 || n >= 268_435_456) return 4;
  if (n < 128) return 0;
  if (n < 16_384) return 1;
  if (n < 2_097_152) return 2;
  return 3;
}

export class VarintIdAllocator {
  readonly #next = [...BAND_START];

  /** An id of the same varint length as `clientId` that `inUse` does not know, or of the longest band. */
  next(clientId: RequestId, inUse: (id: number) => boolean): number {
    const first = bandOf(clientId);
    for (let band = first; band < BAND_START.length; band++) {
      for (let probe = 0; probe < MAX_PROBES; probe++) {
        const id = this.#next[band]!;
        this.#next[band] = id === BAND_END[band] ? BAND_START[band]! : id + 1;
        if (!inUse(id)) return id;
      }
    }
    // Every band nearly full: a 2^31 space of ids in flight cannot happen; keep counting.
    const id = this.#next[4]!;
    this.#next[4] = id === BAND_END[4] ? BAND_START[4]! : id + 1;
    return id;
  }
}
