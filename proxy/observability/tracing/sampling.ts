import type { Metadata } from '../../../codecs/api/index.js';
import type { RemoteContext } from './propagation.js';

/** Sampling percentages in [0, 100] (Aeraki's Tracing message). */
export interface SamplingConfig {
  readonly client: number;
  readonly random: number;
  readonly overall: number;
}

/** Why a request is traced, as Envoy names it. */
export enum SamplingReason {
  NotTraceable = 0,
  Sampling = 1,
  ServiceForced = 2,
  ClientForced = 3,
  /** The client sent a context with its own decision. */
  Inherited = 4,
}

/**
 * Envoy's decision for the first hop (spec §8.1): `x-client-trace-id` with client
 * sampling, then `x-envoy-force-trace`, then the random percentage, then the overall cap.
 * A client context that carries a decision is followed as is: later hops inherit it.
 */
export function decideSampling(md: Metadata, parent: RemoteContext | undefined, cfg: SamplingConfig, random: () => number = Math.random): SamplingReason {
  if (md.get('x-client-trace-id') !== undefined && cfg.client > 0 && random() * 100 < cfg.client) return SamplingReason.ClientForced;
  if (md.get('x-envoy-force-trace') !== undefined) return SamplingReason.ServiceForced;
  if (parent?.sampled !== undefined) return parent.sampled ? SamplingReason.Inherited : SamplingReason.NotTraceable;
  if (!(random() * 100 < cfg.random)) return SamplingReason.NotTraceable;
  return random() * 100 < cfg.overall ? SamplingReason.Sampling : SamplingReason.NotTraceable;
}
