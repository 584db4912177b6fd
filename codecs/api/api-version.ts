/**
 * API version checks for extension packages (codecs and filters). A package declares the
 * version of the SPI it was written for; Meltemi loads it only when it still speaks that
 * version, so a package built for a newer or retired SPI fails at start-up with a clear
 * message instead of misbehaving on live traffic.
 */
import { CODEC_API_VERSION } from './codec.js';

/** The oldest codec API version this Meltemi still loads. */
export const MIN_CODEC_API_VERSION = 1;

/** The range of versions of one SPI that a Meltemi build loads (both ends included). */
export interface ApiVersionRange {
  readonly min: number;
  readonly max: number;
}

/** Codec API versions this build loads. */
export const CODEC_API_VERSIONS: ApiVersionRange = { min: MIN_CODEC_API_VERSION, max: CODEC_API_VERSION };

/**
 * Why `declared` (an extension's `apiVersion`) cannot be loaded, or `undefined` when it can.
 * `what` names the SPI in the message, e.g. `codec API`.
 */
export function apiVersionProblem(declared: unknown, supported: ApiVersionRange, what: string): string | undefined {
  if (typeof declared !== 'number' || !Number.isInteger(declared)) {
    return `declares no ${what} version (apiVersion is ${declared === undefined ? 'missing' : JSON.stringify(declared)}; set it to the exported API version constant)`;
  }
  const range = supported.min === supported.max ? `${supported.max}` : `${supported.min} to ${supported.max}`;
  if (declared > supported.max) return `targets ${what} version ${declared}, newer than this Meltemi supports (${range}): upgrade Meltemi`;
  if (declared < supported.min) return `targets ${what} version ${declared}, which this Meltemi no longer supports (${range}): upgrade the package`;
  return undefined;
}
