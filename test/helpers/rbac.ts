/** Builders for RBAC tests: connections, metadata, and compiled filter configs. */
import type { Metadata } from '../../codecs/api/index.js';
import type { ConnectionInfo, PeerIdentity } from '../../filters/api/index.js';
import { compileRbacFilter, metaRbacConfig, networkRbacConfig } from '../../filters/rbac/index.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';

let counter = 0;
/** A stat prefix no other test uses (RBAC counters are per process, by name). */
export function freshPrefix(): string {
  return `t${process.pid}_${++counter}.`;
}

export function conn(over: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    remoteAddress: '10.0.0.1',
    remotePort: 40000,
    directRemoteAddress: over.remoteAddress ?? '10.0.0.1',
    localAddress: '10.0.0.2',
    localPort: 20880,
    peer: undefined,
    requestedServerName: '',
    ...over,
  };
}

export function peer(uriSans: string[], dnsSans: string[] = [], subject = ''): PeerIdentity {
  return { principal: uriSans[0], uriSans, dnsSans, subject };
}

export function metadataOf(entries: Record<string, string>): Metadata {
  const m = new Map(Object.entries(entries));
  return { get: (k) => m.get(k), entries: () => m.entries() };
}

/** Parses and compiles a filter config; returns the authorizer or the problems. */
export function compileRbac(flavour: 'network' | 'meta', config: object): { rbac: RbacAuthorizer | undefined; errors: string[] } {
  const errors: string[] = [];
  const cfg = (flavour === 'network' ? networkRbacConfig : metaRbacConfig).parse(config, 'rbac', errors);
  if (cfg === undefined || errors.length > 0) return { rbac: undefined, errors };
  return { rbac: compileRbacFilter(cfg, cfg.stat_prefix, 'rbac', errors), errors };
}

/** A compiled authorizer, or a thrown Error listing the problems. */
export function mustCompile(flavour: 'network' | 'meta', config: object): RbacAuthorizer {
  const { rbac, errors } = compileRbac(flavour, config);
  if (rbac === undefined) throw new Error(errors.join('\n'));
  return rbac;
}

/** A one-policy ALLOW (or other action) config: `permissions` and `principals` as given. */
export function onePolicy(permissions: object[], principals: object[], action = 'ALLOW', extra: object = {}): object {
  return { stat_prefix: freshPrefix(), rules: { action, policies: { p: { permissions, principals } } }, ...extra };
}
