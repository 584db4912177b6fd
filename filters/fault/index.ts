import { ErrorType } from '../../codecs/api/index.js';
import type { Metadata } from '../../codecs/api/index.js';
import { FilterStatus } from '../api/index.js';
import type { Filter, FilterExchange, FilterFactory, FilterResult } from '../api/index.js';
import { compileHeaderMatcher, ConfigError, duration, headerMatcher, int, list, object, oneOfValues, optional, str } from '../../config/index.js';

const percentage = object({ numerator: int({ min: 0 }), denominator: optional(oneOfValues(['HUNDRED', 'TEN_THOUSAND', 'MILLION'])) });
const ERROR_TYPES = ['RouteNotFound', 'ClusterNotFound', 'NoHealthyUpstream', 'BadResponse', 'Unspecified', 'OverLimit', 'Timeout', 'BadRequest', 'Unauthorized', 'UpstreamReset'] as const;

/**
 * Envoy's HTTP fault filter semantics on metadata: `headers` (HeaderMatchers on metadata
 * keys) select the requests; `delay` holds a selected request for `fixed_delay` with the
 * given percentage; `abort` answers it with the protocol's error reply for `error_type`.
 */
export const faultConfig = object({
  '@type': optional(str()),
  headers: optional(list(headerMatcher)),
  delay: optional(object({ fixed_delay: duration(), percentage: optional(percentage) })),
  abort: optional(object({ error_type: optional(oneOfValues(ERROR_TYPES)), message: optional(str()), percentage: optional(percentage) })),
  max_active_faults: optional(int({ min: 0 })),
});

const DENOMINATOR = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

function fraction(p: { numerator: number; denominator?: keyof typeof DENOMINATOR } | undefined): number {
  // Envoy's default for a fault without percentage is 100%.
  return p === undefined ? 1 : Math.min(1, p.numerator / DENOMINATOR[p.denominator ?? 'HUNDRED']);
}

export interface FaultStats {
  delays_injected: number;
  aborts_injected: number;
  active_faults: number;
}

export class FaultInjection implements Filter {
  readonly stats: FaultStats = { delays_injected: 0, aborts_injected: 0, active_faults: 0 };
  readonly #matches: (md: Metadata) => boolean;
  readonly #delayMs: number | undefined;
  readonly #delayFraction: number;
  readonly #abortType: ErrorType | undefined;
  readonly #abortMessage: string;
  readonly #abortFraction: number;
  readonly #maxActive: number;
  readonly #random: () => number;

  constructor(config: unknown, random: () => number = Math.random) {
    const errors: string[] = [];
    const cfg = faultConfig.parse(config ?? {}, 'config', errors);
    if (cfg === undefined || errors.length > 0) throw new ConfigError(errors, 'fault config');
    if (cfg.delay === undefined && cfg.abort === undefined) throw new ConfigError(['config: needs delay or abort'], 'fault config');
    const matchers = (cfg.headers ?? []).map(compileHeaderMatcher);
    this.#matches = (md) => matchers.every((m) => m(md));
    this.#delayMs = cfg.delay?.fixed_delay;
    this.#delayFraction = fraction(cfg.delay?.percentage);
    this.#abortType = cfg.abort === undefined ? undefined : ErrorType[cfg.abort.error_type ?? 'Unspecified'];
    this.#abortMessage = cfg.abort?.message ?? 'fault filter abort';
    this.#abortFraction = fraction(cfg.abort?.percentage);
    this.#maxActive = cfg.max_active_faults ?? Infinity;
    this.#random = random;
  }

  onRequest(ex: FilterExchange): FilterResult {
    if (!this.#matches(ex.metadata) || this.stats.active_faults >= this.#maxActive) return FilterStatus.Continue;
    const delay = this.#delayMs !== undefined && this.#random() < this.#delayFraction;
    const abort = this.#abortType !== undefined && this.#random() < this.#abortFraction;
    if (!delay && !abort) return FilterStatus.Continue;
    // As in Envoy, a delayed request may then be aborted.
    const finish = (): FilterStatus => {
      if (abort) {
        this.stats.aborts_injected++;
        ex.sendLocalReply(this.#abortType!, this.#abortMessage);
        return FilterStatus.Stop;
      }
      return FilterStatus.Continue;
    };
    if (!delay) return finish();
    this.stats.delays_injected++;
    this.stats.active_faults++;
    return new Promise<FilterStatus>((resolve) =>
      setTimeout(() => {
        this.stats.active_faults--;
        resolve(finish());
      }, this.#delayMs),
    );
  }
}

/** `meltemi.filters.fault` (Aeraki has no fault filter; the name says whose it is). */
export const faultFilterFactory: FilterFactory = {
  name: 'meltemi.filters.fault',
  create(config: unknown): () => Filter {
    const f = new FaultInjection(config);
    return () => f;
  },
};
