import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { Filter, FilterExchange, FilterResult } from '../../filters/api/index.js';
import { Completion } from '../observability/completion.js';
import type { RuntimeCompleter } from '../observability/completion.js';
import type { ObservedExchange } from '../observability/observed-exchange.js';

/**
 * The filters of one exchange, with what the exchange needs of them at its other stages
 * worked out once: the response order and the end-of-exchange hooks.
 */
export interface FilterChain {
  /** Request order; the router (terminal) last. */
  readonly filters: readonly Filter[];
  /** The filters with onResponse, in reverse order (Envoy's encoder order). */
  readonly responders: readonly Filter[];
  /** undefined when no filter and no runtime hook wants onComplete: the exchange checks that once. */
  readonly completion: ChainCompletion | undefined;
}

/** The end-of-exchange hooks of a chain. */
export interface ChainCompletion {
  /** The filters with onComplete, in reverse order. */
  readonly filters: readonly Filter[];
  /** The runtime's own hooks (access logs), after the filters'. */
  readonly runtime: readonly RuntimeCompleter[];
}

function chainOf(filters: readonly Filter[], runtime: readonly RuntimeCompleter[], wantsResponse: boolean, wantsComplete: boolean): FilterChain {
  const responders = wantsResponse ? filters.filter((f) => f.onResponse !== undefined).reverse() : [];
  const completers = wantsComplete ? filters.filter((f) => f.onComplete !== undefined).reverse() : [];
  const completion = completers.length > 0 || runtime.length > 0 ? { filters: completers, runtime } : undefined;
  return { filters, responders, completion };
}

/**
 * Turns the listener's filter makers into a per-exchange chain builder, once per config.
 * When every maker hands out one shared instance (the router, the rate limiter, the fault
 * filter do), all exchanges share one chain and the data path allocates nothing per
 * request; otherwise each exchange gets fresh filters, and whether they have onResponse or
 * onComplete is read from the first instances (a maker makes filters of one shape).
 * `runtime` are the listener's own end-of-exchange hooks (access logs).
 */
export function filterChainBuilder(makers: readonly (() => Filter)[], runtime: readonly RuntimeCompleter[] = []): () => FilterChain {
  const first = makers.map((make) => make());
  const wantsResponse = first.some((f) => f.onResponse !== undefined);
  const wantsComplete = first.some((f) => f.onComplete !== undefined);
  if (makers.every((make, i) => make() === first[i])) {
    const shared = chainOf(Object.freeze(first), runtime, wantsResponse, wantsComplete);
    return () => shared;
  }
  return () => chainOf(makers.map((make) => make()), runtime, wantsResponse, wantsComplete);
}

/** Runs the response side of a chain (the exchange catches what a filter throws). */
export function runResponseFilters(chain: FilterChain, subject: FilterExchange): void {
  const rs = chain.responders;
  for (let i = 0; i < rs.length; i++) rs[i]!.onResponse!(subject);
}

/**
 * Calls the chain's end-of-exchange hooks once the exchange ended. Each hook is isolated: a
 * throw is reported through the exchange's `onFault` (counted and logged; the exchange is
 * over, so no reply is sent) and the other hooks still run. The runtime's hooks log their
 * own failures (an observer never counts as the request's error); onFault is their last resort.
 * `withRuntime` false: the filters' hooks only (a tRPC stream, which the access log leaves out).
 */
export function runCompletion(completion: ChainCompletion, ex: ObservedExchange & { onFault(where: string, err: unknown): void }, withRuntime = true): void {
  const info = new Completion(ex, performance.now());
  const fs = completion.filters;
  for (let i = 0; i < fs.length; i++) {
    try {
      fs[i]!.onComplete!(info);
    } catch (err) {
      ex.onFault('filter onComplete', err);
    }
  }
  if (!withRuntime) return;
  const rs = completion.runtime;
  for (let i = 0; i < rs.length; i++) {
    try {
      rs[i]!.onComplete(info);
    } catch (err) {
      ex.onFault('access log', err);
    }
  }
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
