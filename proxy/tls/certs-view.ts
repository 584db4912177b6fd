/**
 * What the admin shows of TLS: Envoy's `/certs` (every certificate in use: serial, SANs,
 * validity, days left) and the SecretsConfigDump of `/config_dump` (SDS secrets with their
 * version; private keys never leave the process: shown as `[redacted]`, as Envoy does).
 */
import { X509Certificate } from 'node:crypto';
import { packAny, timestamp } from '../admin/config-dump/proto-json.js';
import type { SecretsDumpParts } from '../admin/config-dump/secrets-section.js';
import type { SecretStore } from './secret-store.js';
import type { TlsContext } from './tls-runtime.js';

export interface CertificateDetails {
  readonly serial_number: string;
  readonly subject_alt_names: readonly Record<string, string>[];
  readonly days_until_expiration: string;
  readonly valid_from: string;
  readonly expiration_time: string;
}

const SECRET_TYPE = 'envoy.extensions.transport_sockets.tls.v3.Secret';
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const DAY_MS = 86_400_000;
const SAN_FIELDS: Readonly<Record<string, string>> = { URI: 'uri', DNS: 'dns', 'IP Address': 'ip_address' };

function details(pem: string): CertificateDetails[] {
  return (pem.match(PEM) ?? []).map((p) => {
    const c = new X509Certificate(p);
    const sans = (c.subjectAltName ?? '')
      .split(', ')
      .filter((s) => s !== '')
      .map((s) => {
        const i = s.indexOf(':');
        const field = SAN_FIELDS[s.slice(0, i)];
        // Envoy's SubjectAlternateName has uri, dns and ip_address only; others are not shown.
        return field === undefined ? undefined : { [field]: s.slice(i + 1) };
      })
      .filter((e): e is Record<string, string> => e !== undefined);
    const to = Date.parse(c.validTo);
    return {
      serial_number: c.serialNumber.toLowerCase(),
      subject_alt_names: sans,
      days_until_expiration: String(Math.max(0, Math.floor((to - Date.now()) / DAY_MS))),
      valid_from: timestamp(new Date(Date.parse(c.validFrom))),
      expiration_time: timestamp(new Date(to)),
    };
  });
}

/** Envoy's /certs body: one entry per TLS context in use, with its CA and certificate chain(s). */
export function certsView(contexts: Iterable<TlsContext>): { certificates: { ca_cert: CertificateDetails[]; cert_chain: CertificateDetails[] }[] } {
  const out: { ca_cert: CertificateDetails[]; cert_chain: CertificateDetails[] }[] = [];
  for (const ctx of contexts) {
    const used = ctx.inUse;
    out.push({ ca_cert: used.ca === undefined ? [] : details(used.ca), cert_chain: used.certificates.flatMap(details) });
  }
  return { certificates: out };
}

/**
 * The SDS secrets for the SecretsConfigDump of /config_dump (proxy/admin's secrets section),
 * private keys redacted.
 */
export function secretsDumpParts(store: SecretStore): SecretsDumpParts {
  const dynamic_active_secrets = [...store.entries()].map(([key, s]) => {
    const name = key.slice(key.indexOf('/') + 1);
    const secret =
      s.secret.kind === 'certificate'
        ? { name, tls_certificate: { certificate_chain: { inline_bytes: Buffer.from(s.secret.certPem).toString('base64') }, private_key: { inline_string: '[redacted]' } } }
        : { name, validation_context: { trusted_ca: { inline_bytes: Buffer.from(s.secret.pem).toString('base64') } } };
    return { name, version_info: s.version, last_updated: timestamp(new Date(s.updatedAt)), secret: packAny(SECRET_TYPE, secret) };
  });
  return { dynamic_active_secrets };
}
