/**
 * Envoy's SecretsConfigDump. Meltemi has no secrets of its own; the TLS/SDS code registers
 * a provider that lists the secrets it holds, and this section shows them.
 *
 * For the provider's author: entries are Envoy's `SecretsConfigDump.StaticSecret`
 * (`{name, last_updated, secret}`) and `DynamicSecret` (`{name, version_info, last_updated,
 * secret, error_state, client_status}`) in proto JSON with proto field names; build
 * `secret` with `packAny('envoy.extensions.transport_sockets.tls.v3.Secret', ...)` and
 * times with `timestamp()` (proto-json.ts). Never put a private key in it: Envoy prints
 * `[redacted]` in its place.
 */
import { logger } from '../../logger.js';
import { compact } from './section.js';
import type { DumpSection, NameFilter } from './section.js';
import { SECRETS_DUMP } from './type-names.js';

type Json = Record<string, unknown>;

export interface SecretsDumpParts {
  readonly static_secrets?: readonly Json[];
  readonly dynamic_active_secrets?: readonly Json[];
  readonly dynamic_warming_secrets?: readonly Json[];
}

export type SecretsProvider = () => SecretsDumpParts;

const providers = new Set<SecretsProvider>();

/**
 * Adds secrets to every /config_dump of this process. Returns the function that takes them
 * away again (call it when the TLS context that owns them closes).
 */
export function registerSecretsProvider(provider: SecretsProvider): () => void {
  providers.add(provider);
  return () => providers.delete(provider);
}

export function secretsSection(keep: NameFilter): DumpSection {
  const parts = { static_secrets: [] as Json[], dynamic_active_secrets: [] as Json[], dynamic_warming_secrets: [] as Json[] };
  const named = (e: Json): boolean => keep(typeof e['name'] === 'string' ? e['name'] : '');
  for (const p of providers) {
    let got: SecretsDumpParts;
    try {
      got = p();
    } catch (err) {
      // One provider's bug must not take the whole dump down.
      logger.error({ err: (err as Error).stack }, 'config_dump: a secrets provider threw');
      continue;
    }
    parts.static_secrets.push(...(got.static_secrets ?? []).filter(named));
    parts.dynamic_active_secrets.push(...(got.dynamic_active_secrets ?? []).filter(named));
    parts.dynamic_warming_secrets.push(...(got.dynamic_warming_secrets ?? []).filter(named));
  }
  return { key: 'secrets', typeName: SECRETS_DUMP, body: compact(parts) };
}
