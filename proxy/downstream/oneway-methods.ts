import type { Message } from '../../codecs/api/index.js';

/** The codec config key that declares one-way methods (`codec.config.onewayMethods`). */
export const ONEWAY_METHODS_KEY = 'onewayMethods';

/**
 * Methods a listener treats as one-way although their frames say "call": Go's Thrift
 * library sends `oneway` methods as CALL messages and never reads an answer, so the proxy
 * must not wait for one (it would time out, count a failure against a healthy host, and
 * write an unsolicited error reply that breaks the client's next call).
 *
 * An entry is a method name (`ping`, matched against the `method` metadata key) or a
 * qualified one (`Logger:log`, matched against `service:method`, the Thrift multiplexed
 * name). Only listeners that declare entries pay for the check.
 */
export class OnewayMethods {
  readonly #names: ReadonlySet<string>;
  readonly #qualified: boolean;

  private constructor(names: readonly string[]) {
    this.#names = new Set(names);
    this.#qualified = names.some((n) => n.includes(':'));
  }

  /**
   * Reads `onewayMethods` from a codec config; undefined when absent or empty. A value that
   * is not a list of non-empty strings is an error naming `path`.
   */
  static fromCodecOptions(options: Readonly<Record<string, unknown>>, path: string, errors: string[]): OnewayMethods | undefined {
    const v = options[ONEWAY_METHODS_KEY];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((n): n is string => typeof n === 'string' && n.length > 0 && n.trim() === n)) {
      errors.push(`${path}: expected a list of method names ('method' or 'service:method'), got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v.length === 0 ? undefined : new OnewayMethods(v);
  }

  /** True when `request` calls a declared one-way method. */
  matches(request: Message): boolean {
    const md = request.metadata;
    const method = md.get('method');
    if (method === undefined) return false;
    if (this.#names.has(method)) return true;
    if (!this.#qualified) return false;
    const service = md.get('service');
    return service !== undefined && this.#names.has(`${service}:${method}`);
  }
}
