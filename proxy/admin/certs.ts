/**
 * GET /certs in the shape of Envoy's `envoy.admin.v3.Certificates`: `{certificates: [...]}`,
 * each `{ca_cert: [CertificateDetails], cert_chain: [CertificateDetails]}` in proto JSON
 * with proto field names. Empty until TLS code registers a provider of the certificates it
 * holds.
 */
import { logger } from '../logger.js';

type Json = Record<string, unknown>;

export type CertificatesProvider = () => readonly Json[];

const providers = new Set<CertificatesProvider>();

/** Adds certificates to /certs; returns the function that takes them away again. */
export function registerCertificatesProvider(provider: CertificatesProvider): () => void {
  providers.add(provider);
  return () => providers.delete(provider);
}

export function certificates(): { certificates: Json[] } {
  return {
    certificates: [...providers].flatMap((p) => {
      try {
        return [...p()];
      } catch (err) {
        logger.error({ err: (err as Error).stack }, '/certs: a certificates provider threw');
        return [];
      }
    }),
  };
}
