import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { Filter, FilterExchange, FilterResult } from '../../filters/api/index.js';

/**
 * Turns the listener's filter makers into a per-exchange chain builder, once per config.
 * When every maker hands out one shared instance (the router, the rate limiter, the fault
 * filter do), all exchanges share one array and the data path allocates no chain per
 * request; otherwise each exchange gets fresh filters.
 */
export function filterChainBuilder(makers: readonly (() => Filter)[]): () => readonly Filter[] {
  const first = makers.map((make) => make());
  if (makers.every((make, i) => make() === first[i])) {
    const shared = Object.freeze(first);
    return () => shared;
  }
  return () => makers.map((make) => make());
}

/** What the chain runner needs beyond the filters' view: whether to keep going. */
export interface ChainSubject extends FilterExchange {
  /** False once the exchange (or stream) ended or left the filter stage. */
  filterChainOpen(): boolean;
  /** An exception in a filter or after it: counted, logged, answered with the error reply. */
  onFault(where: string, err: unknown): void;
}

/**
 * Runs `filters` from index `from` on. It stays synchronous until a filter returns a promise
 * (a global rate limit or auth call), and pays for the promise only then. A throwing or
 * rejecting filter answers with the protocol's error reply (through `onFault`, which counts
 * and logs it); a chain that ends without a terminal filter answers too. Nothing thrown in
 * a promise callback is left to become an unhandled rejection, which would end the process.
 */
export function runRequestFilters(filters: readonly Filter[], subject: ChainSubject, from = 0): void {
  for (let i = from; i < filters.length; i++) {
    if (!subject.filterChainOpen()) return;
    let r: FilterResult;
    try {
      r = filters[i]!.onRequest(subject);
    } catch (err) {
      subject.onFault('filter', err);
      return;
    }
    if (r === FilterStatus.Continue) continue;
    if (r === FilterStatus.Stop) return;
    r.then(
      (s) => {
        try {
          if (s === FilterStatus.Continue) runRequestFilters(filters, subject, i + 1);
        } catch (err) {
          subject.onFault('filter chain', err);
        }
      },
      (err: unknown) => subject.onFault('filter', err),
    );
    return;
  }
  // The router is always added last, so this is a chain whose terminal filter let it through.
  if (subject.filterChainOpen()) subject.sendLocalReply(ErrorType.Unspecified, 'meta protocol: no terminal filter handled the request');
}
