/**
 * The accepted resources of one type, with what Envoy's /config_dump shows of each: the
 * version it came with, when it last changed, and the last rejected update of it
 * (`error_state`). Shared by every stream that carries the type.
 */
import { sameContent } from './resource-equality.js';

/** One accepted resource. */
export interface CachedResource<T> {
  readonly name: string;
  /** The owner's value; the same object as long as the content does not change. */
  readonly value: T;
  /** The response's version_info (SotW) or the resource's own version (delta). */
  readonly version: string;
  /** When the value last changed (ISO 8601). */
  readonly lastUpdated: string;
}

/** The last rejected update of one resource (Envoy's UpdateFailureState). */
export interface RejectedResource {
  /** The resource as received (decoded from its Any), for /config_dump's failed_configuration. */
  readonly failedConfiguration: unknown;
  /** When it was received (ISO 8601). */
  readonly lastUpdateAttempt: string;
  /** Why it was rejected (the NACK's errors about it). */
  readonly details: string;
  /** The version it came with. */
  readonly version: string;
}

export class ResourceCache<T> {
  readonly #accepted = new Map<string, CachedResource<T>>();
  /** The resource each accepted value was decoded from, to skip decoding a resend of it. */
  readonly #raw = new Map<string, unknown>();
  readonly #rejected = new Map<string, RejectedResource>();
  /** Names a subscription asked for and the server never sent (does-not-exist). */
  readonly #missing = new Set<string>();

  get accepted(): ReadonlyMap<string, CachedResource<T>> {
    return this.#accepted;
  }

  get rejected(): ReadonlyMap<string, RejectedResource> {
    return this.#rejected;
  }

  get missing(): ReadonlySet<string> {
    return this.#missing;
  }

  /**
   * Stores an accepted value. When `equal` says it is the cached content, the cached object
   * stays (only the version moves), so owners can tell "unchanged" by identity.
   */
  accept(name: string, value: T, version: string, equal: (a: T, b: T) => boolean, now: string, raw?: unknown): void {
    const prev = this.#accepted.get(name);
    this.#rejected.delete(name);
    this.#missing.delete(name);
    if (raw !== undefined) this.#raw.set(name, raw);
    if (prev !== undefined && (prev.value === value || equal(prev.value, value))) {
      if (prev.version !== version) this.#accepted.set(name, { ...prev, version });
      return;
    }
    this.#accepted.set(name, { name, value, version, lastUpdated: now });
  }

  /**
   * The accepted value of `name` when `raw` has the same content as the resource it was
   * decoded from (a control plane re-sending what it sent): decoding it again would only
   * build the same value a second time.
   */
  unchanged(name: string, raw: unknown): { readonly value: T } | undefined {
    const prev = this.#accepted.get(name);
    return prev !== undefined && this.#raw.has(name) && sameContent(this.#raw.get(name), raw) ? { value: prev.value } : undefined;
  }

  reject(name: string, entry: RejectedResource): void {
    this.#rejected.set(name, entry);
  }

  delete(name: string): void {
    this.#accepted.delete(name);
    this.#raw.delete(name);
    this.#rejected.delete(name);
    this.#missing.delete(name);
  }

  markMissing(name: string): void {
    this.#missing.add(name);
  }

  names(): string[] {
    return [...new Set([...this.#accepted.keys(), ...this.#rejected.keys(), ...this.#missing])];
  }
}
