/**
 * XXH64 (the xxHash 64-bit algorithm, from its public specification), used for consistent
 * hashing so that hash keys agree with Envoy and Aeraki: Aeraki's hash policy is
 * `seed = 0; for v of sorted(values): seed = XXH64(v, seed)`.
 * BigInt keeps the code short; it runs only for routes with a hash policy.
 */
const MASK = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * P2) & MASK, 31n) * P1) & MASK;
const mergeRound = (acc: bigint, val: bigint): bigint => (((acc ^ round(0n, val)) * P1) & MASK) + P4 & MASK;

export function xxhash64(data: Uint8Array, seed: bigint = 0n): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & MASK;
    let v2 = (seed + P2) & MASK;
    let v3 = seed & MASK;
    let v4 = (seed - P1) & MASK;
    while (p + 32 <= len) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
      p += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = (seed + P5) & MASK;
  }
  h = (h + BigInt(len)) & MASK;
  while (p + 8 <= len) {
    h ^= round(0n, view.getBigUint64(p, true));
    h = ((rotl(h, 27n) * P1) & MASK) + P4 & MASK;
    p += 8;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(view.getUint32(p, true)) * P1) & MASK;
    h = ((rotl(h, 23n) * P2) & MASK) + P3 & MASK;
    p += 4;
  }
  while (p < len) {
    h ^= (BigInt(data[p]!) * P5) & MASK;
    h = (rotl(h, 11n) * P1) & MASK;
    p++;
  }
  h ^= h >> 33n;
  h = (h * P2) & MASK;
  h ^= h >> 29n;
  h = (h * P3) & MASK;
  h ^= h >> 32n;
  return h;
}

/** Aeraki's request hash: the values sorted, then chained XXH64 with the previous hash as seed. */
export function hashOfValues(values: string[]): bigint {
  let seed = 0n;
  for (const v of [...values].sort()) seed = xxhash64(Buffer.from(v, 'utf8'), seed);
  return seed;
}
