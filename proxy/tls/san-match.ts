/**
 * The subject alternative names of a peer certificate, and Envoy's SAN matching
 * (`match_subject_alt_names` / `match_typed_subject_alt_names`) on them.
 */
import type { PeerCertificate } from 'node:tls';
import { compileRegex } from '../../config/regex.js';
import type { SanType } from '../config/tls-schema.js';
import type { SanMatcherSpec } from './tls-spec.js';

export interface SubjectAltNames {
  readonly uri: readonly string[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
}

const EMPTY: SubjectAltNames = { uri: [], dns: [], email: [], ip: [] };
/** One entry of node's `subjectaltname` text: `URI:spiffe://…`, `DNS:"a,b"` (quoted when it holds a comma). */
const ENTRY = /(DNS|URI|email|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;

/** The SANs of a certificate, from node's `subjectaltname` text. */
export function subjectAltNames(cert: PeerCertificate | undefined): SubjectAltNames {
  const text = cert?.subjectaltname;
  if (text === undefined || text === '') return EMPTY;
  const out = { uri: [] as string[], dns: [] as string[], email: [] as string[], ip: [] as string[] };
  for (const m of text.matchAll(ENTRY)) {
    const raw = m[2]!;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (m[1] === 'URI') out.uri.push(value);
    else if (m[1] === 'DNS') out.dns.push(value);
    else if (m[1] === 'email') out.email.push(value);
    else out.ip.push(value);
  }
  return out;
}

function valuesOf(sans: SubjectAltNames, type: SanType | undefined): readonly string[] {
  switch (type) {
    case 'URI':
      return sans.uri;
    case 'DNS':
      return sans.dns;
    case 'EMAIL':
      return sans.email;
    case 'IP_ADDRESS':
      return sans.ip;
    default:
      return [...sans.dns, ...sans.uri, ...sans.email, ...sans.ip];
  }
}

export type SanPredicate = (sans: SubjectAltNames) => boolean;

/** Compiles the matchers of a context; no matcher accepts any certificate (trust is the CA's). */
export function compileSanMatchers(specs: readonly SanMatcherSpec[]): SanPredicate {
  if (specs.length === 0) return () => true;
  const tests = specs.map((s) => {
    const fold = (v: string): string => (s.ignoreCase ? v.toLowerCase() : v);
    let test: (v: string) => boolean;
    if (s.exact !== undefined) {
      const want = fold(s.exact);
      test = (v) => fold(v) === want;
    } else if (s.prefix !== undefined) {
      const want = fold(s.prefix);
      test = (v) => fold(v).startsWith(want);
    } else if (s.suffix !== undefined) {
      const want = fold(s.suffix);
      test = (v) => fold(v).endsWith(want);
    } else if (s.contains !== undefined) {
      const want = fold(s.contains);
      test = (v) => fold(v).includes(want);
    } else {
      const re = compileRegex(s.regex ?? '', { fullMatch: true, ignoreCase: s.ignoreCase });
      test = (v) => re.test(v);
    }
    return (sans: SubjectAltNames): boolean => valuesOf(sans, s.sanType).some(test);
  });
  return (sans) => tests.some((t) => t(sans));
}
