/**
 * A throw-away PKI made with openssl for TLS tests: two trust domains (each its own CA) and
 * workload certificates with SPIFFE URI SANs, as Istio issues them; plus an expired one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'meltemi-pki-'));
  #serial = 1;

  #openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: 'ignore' });
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  /** A self-signed CA for a trust domain. */
  ca(name: string): Pem {
    const f = (x: string): string => this.file(`${name}.${x}`);
    this.#openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('key'), '-out', f('pem'), '-days', '2', '-subj', `/O=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    return this.#read(f('pem'), f('key'));
  }

  /**
   * A workload certificate signed by `ca` with `uri` as its URI SAN (server and client use).
   * `expired`: valid until a day before it was made (openssl x509 -days -1).
   */
  workload(name: string, ca: Pem, uri: string, opts: { expired?: boolean } = {}): Pem {
    const f = (x: string): string => this.file(`${name}.${x}`);
    this.#openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('key'), '-out', f('csr'), '-subj', `/O=${name}`);
    writeFileSync(f('ext'), `subjectAltName=URI:${uri}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
    const validity = ['-days', opts.expired === true ? '-1' : '2'];
    this.#openssl('x509', '-req', '-in', f('csr'), '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(this.#serial++), '-out', f('pem'), ...validity, '-extfile', f('ext'));
    return this.#read(f('pem'), f('key'));
  }

  #read(certFile: string, keyFile: string): Pem {
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  }
}
