import type { Completion, RuntimeCompleter } from '../completion.js';
import { observerFailed } from '../listener-observer.js';
import type { AccessLogger } from './access-logger.js';

/**
 * A listener's access logs as an end-of-exchange hook of its filter chain, after the
 * filters' own onComplete: the exchange has no path of its own for them. A log that fails
 * (a codec's lazy metadata parse, say) is logged and never touches the exchange.
 */
export class AccessLogHook implements RuntimeCompleter {
  readonly #logs: readonly AccessLogger[];

  constructor(logs: readonly AccessLogger[]) {
    this.#logs = logs;
  }

  onComplete(c: Completion): void {
    try {
      const logs = this.#logs;
      for (let i = 0; i < logs.length; i++) logs[i]!.log(c.exchange, c.durationMs);
    } catch (err) {
      observerFailed('end', err);
    }
  }
}
