/**
 * Puts this process's TLS state into the admin: /certs (every TLS context in use) and the
 * SecretsConfigDump of /config_dump (SDS secrets), through the admin's registration
 * functions. The returned function takes both away again (server close).
 */
import { registerCertificatesProvider } from '../admin/certs.js';
import { registerSecretsProvider } from '../admin/config-dump/secrets-section.js';
import { certsView, secretsDumpParts } from './certs-view.js';
import type { TlsRuntime } from './tls-runtime.js';

export function registerTlsAdmin(tls: TlsRuntime): () => void {
  const dropCerts = registerCertificatesProvider(() => certsView(tls.contexts()).certificates);
  const dropSecrets = registerSecretsProvider(() => secretsDumpParts(tls.store));
  return () => {
    dropCerts();
    dropSecrets();
  };
}
