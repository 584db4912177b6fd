/**
 * An SDS Secret resource (envoy.extensions.transport_sockets.tls.v3.Secret, decoded to plain
 * JSON) → a Secret, with the PEM checked by node:crypto, so a bad push is NACKed and the
 * certificate in use stays.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from './secret-store.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function pemOf(ds: unknown, path: string, errors: string[]): string | undefined {
  if (!isObj(ds)) {
    errors.push(`${path}: required`);
    return undefined;
  }
  if (typeof ds['inline_bytes'] === 'string') return Buffer.from(ds['inline_bytes'], 'base64').toString('utf8');
  if (typeof ds['inline_string'] === 'string') return ds['inline_string'];
  // Files named by SDS (pilot-agent's file-cert: names) would be read at every handshake: not supported.
  errors.push(`${path}: only inline_bytes or inline_string is supported by Meltemi in an SDS secret`);
  return undefined;
}

export function decodeSecret(res: Obj, errors: string[]): Secret | undefined {
  const name = typeof res['name'] === 'string' ? res['name'] : '';
  const p = `secret ${name}`;
  const start = errors.length;
  if (isObj(res['tls_certificate'])) {
    const tc = res['tls_certificate'];
    const certPem = pemOf(tc['certificate_chain'], `${p}: tls_certificate.certificate_chain`, errors);
    const keyPem = pemOf(tc['private_key'], `${p}: tls_certificate.private_key`, errors);
    if (certPem === undefined || keyPem === undefined) return undefined;
    try {
      new X509Certificate(certPem);
      createPrivateKey(keyPem);
    } catch (err) {
      errors.push(`${p}: tls_certificate is not a PEM certificate and key: ${(err as Error).message}`);
    }
    return errors.length > start ? undefined : { kind: 'certificate', certPem, keyPem };
  }
  if (isObj(res['validation_context'])) {
    const vc = res['validation_context'];
    for (const k of Object.keys(vc)) if (k !== 'trusted_ca') errors.push(`${p}: validation_context.${k} is not supported by Meltemi`);
    const pem = pemOf(vc['trusted_ca'], `${p}: validation_context.trusted_ca`, errors);
    if (pem === undefined) return undefined;
    try {
      new X509Certificate(pem);
    } catch (err) {
      errors.push(`${p}: validation_context.trusted_ca is not a PEM certificate: ${(err as Error).message}`);
    }
    return errors.length > start ? undefined : { kind: 'ca', pem };
  }
  errors.push(`${p}: only tls_certificate and validation_context secrets are supported by Meltemi`);
  return undefined;
}
