/**
 * The SDS secrets this process holds, by server and name. A push replaces a secret and bumps
 * the store's version: secure-contexts.ts rebuilds the contexts that use it for the next
 * handshake, and the connections already up keep theirs (Envoy's rotation semantics).
 */

/** A `tls_certificate` secret (Istio: `default`) or a `validation_context` one (`ROOTCA`). */
export type Secret = { readonly kind: 'certificate'; readonly certPem: string; readonly keyPem: string } | { readonly kind: 'ca'; readonly pem: string };

export interface StoredSecret {
  readonly secret: Secret;
  /** The SDS version_info it came with, and when (for /certs and the config dump). */
  readonly version: string;
  readonly updatedAt: string;
}

export class SecretStore {
  readonly #secrets = new Map<string, StoredSecret>();
  readonly #waiters = new Set<() => void>();
  /** Bumped by every change: a cheap "did anything change" for cached secure contexts. */
  version = 0;

  static keyOf(sourceKey: string, name: string): string {
    return `${sourceKey}/${name}`;
  }

  get(sourceKey: string, name: string): StoredSecret | undefined {
    return this.#secrets.get(SecretStore.keyOf(sourceKey, name));
  }

  set(sourceKey: string, name: string, secret: Secret, version: string): void {
    this.#secrets.set(SecretStore.keyOf(sourceKey, name), { secret, version, updatedAt: new Date().toISOString() });
    this.version++;
    for (const w of [...this.#waiters]) w();
  }

  /** Every secret held, by `<server>/<name>`. */
  entries(): IterableIterator<[string, StoredSecret]> {
    return this.#secrets.entries();
  }

  /** Calls `fn` after every change until the returned function is called. */
  onChange(fn: () => void): () => void {
    this.#waiters.add(fn);
    return () => this.#waiters.delete(fn);
  }
}
