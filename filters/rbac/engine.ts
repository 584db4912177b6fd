/**
 * Envoy's RBAC engine, compiled from config into predicates: a policy matches when one of
 * its permissions and one of its principals match; ALLOW lets a request through when some
 * policy matches, DENY when none does, LOG always (Envoy's LOG only sets an access-log hint,
 * which nothing in Meltemi reads). Policies are tried in lexicographic order of their names,
 * as Envoy does, so the policy reported is the one Envoy would report.
 *
 * Pure: it reads a ConnectionInfo and, per request, MetaProtocol metadata; both filters
 * (`envoy.filters.network.rbac` in proxy/, `meltemi.filters.rbac` here) use it.
 */
import type { Metadata } from '../../codecs/api/index.js';
import { compileHeaderMatcher, compileStringMatcher } from '../../config/index.js';
import type { ConnectionInfo, PeerIdentity } from '../api/index.js';
import { compileCidr } from './cidr.js';
import type { CidrRangeConfig, PermissionConfig, PolicyConfig, PrincipalConfig, RbacAction, RbacRulesConfig } from './rbac-schema.js';

/** What a decision reads: the connection, and the request's metadata when there is a request. */
export interface RbacRequest {
  readonly connection: ConnectionInfo;
  readonly metadata: Metadata | undefined;
}

type Check = (r: RbacRequest) => boolean;

export interface RbacDecision {
  readonly allowed: boolean;
  /** The first policy (by name) that matched; undefined when none did. */
  readonly policy: string | undefined;
}

interface CompiledPolicy {
  readonly name: string;
  readonly matches: Check;
}

export class RbacEngine {
  readonly action: RbacAction;
  readonly #policies: readonly CompiledPolicy[];

  constructor(action: RbacAction, policies: readonly CompiledPolicy[]) {
    this.action = action;
    this.#policies = policies;
  }

  get policyNames(): readonly string[] {
    return this.#policies.map((p) => p.name);
  }

  evaluate(r: RbacRequest): RbacDecision {
    let policy: string | undefined;
    for (const p of this.#policies) {
      if (p.matches(r)) {
        policy = p.name;
        break;
      }
    }
    const allowed = this.action === 'ALLOW' ? policy !== undefined : this.action === 'DENY' ? policy === undefined : true;
    return { allowed, policy };
  }
}

/** Compiles `rules`; problems go to `errors` as "<path>: <problem>" and the result is then undefined. */
export function compileRbacRules(rules: RbacRulesConfig, path: string, errors: string[]): RbacEngine | undefined {
  const start = errors.length;
  const names = Object.keys(rules.policies ?? {}).sort();
  const policies = names.map((name) => ({ name, matches: compilePolicy(rules.policies![name]!, `${path}.policies.${name}`, errors) }));
  return errors.length > start ? undefined : new RbacEngine(rules.action ?? 'ALLOW', policies);
}

function compilePolicy(p: PolicyConfig, path: string, errors: string[]): Check {
  const permissions = p.permissions.map((x, i) => compilePermission(x, `${path}.permissions[${i}]`, errors));
  const principals = p.principals.map((x, i) => compilePrincipal(x, `${path}.principals[${i}]`, errors));
  return (r) => anyOf(permissions, r) && anyOf(principals, r);
}

function anyOf(checks: readonly Check[], r: RbacRequest): boolean {
  for (const c of checks) if (c(r)) return true;
  return false;
}

function allOf(checks: readonly Check[], r: RbacRequest): boolean {
  for (const c of checks) if (!c(r)) return false;
  return true;
}

const never: Check = () => false;

function cidr(c: CidrRangeConfig, path: string, errors: string[]): ((address: string) => boolean) | undefined {
  try {
    return compileCidr(c);
  } catch (err) {
    errors.push(`${path}.${(err as Error).message}`);
    return undefined;
  }
}

function compilePermission(p: PermissionConfig, path: string, errors: string[]): Check {
  if (p.any === true) return () => true;
  if (p.and_rules !== undefined) {
    const rules = p.and_rules.rules.map((x, i) => compilePermission(x, `${path}.and_rules.rules[${i}]`, errors));
    return (r) => allOf(rules, r);
  }
  if (p.or_rules !== undefined) {
    const rules = p.or_rules.rules.map((x, i) => compilePermission(x, `${path}.or_rules.rules[${i}]`, errors));
    return (r) => anyOf(rules, r);
  }
  if (p.not_rule !== undefined) {
    const inner = compilePermission(p.not_rule, `${path}.not_rule`, errors);
    return (r) => !inner(r);
  }
  if (p.destination_port !== undefined) {
    const port = p.destination_port;
    return (r) => r.connection.localPort === port;
  }
  if (p.destination_port_range !== undefined) {
    // Int32Range is half-open: [start, end).
    const { start, end } = p.destination_port_range;
    if (start < 0 || end > 65536 || start > end) {
      errors.push(`${path}.destination_port_range: [${start}, ${end}) is not a port range (0 <= start <= end <= 65536)`);
      return never;
    }
    return (r) => r.connection.localPort >= start && r.connection.localPort < end;
  }
  if (p.destination_ip !== undefined) {
    const m = cidr(p.destination_ip, `${path}.destination_ip`, errors);
    return m === undefined ? never : (r) => m(r.connection.localAddress);
  }
  if (p.requested_server_name !== undefined) {
    const m = stringMatcher(p.requested_server_name, `${path}.requested_server_name`, errors);
    return (r) => m(r.connection.requestedServerName);
  }
  const header = p.metadata ?? p.header;
  if (header !== undefined) {
    const m = compileHeaderMatcher(header);
    return (r) => r.metadata !== undefined && m(r.metadata);
  }
  // The schema requires exactly one rule, so this is a config that got past it.
  errors.push(`${path}: no rule set`);
  return never;
}

function compilePrincipal(p: PrincipalConfig, path: string, errors: string[]): Check {
  if (p.any === true) return () => true;
  if (p.and_ids !== undefined) {
    const ids = p.and_ids.ids.map((x, i) => compilePrincipal(x, `${path}.and_ids.ids[${i}]`, errors));
    return (r) => allOf(ids, r);
  }
  if (p.or_ids !== undefined) {
    const ids = p.or_ids.ids.map((x, i) => compilePrincipal(x, `${path}.or_ids.ids[${i}]`, errors));
    return (r) => anyOf(ids, r);
  }
  if (p.not_id !== undefined) {
    const inner = compilePrincipal(p.not_id, `${path}.not_id`, errors);
    return (r) => !inner(r);
  }
  if (p.authenticated !== undefined) return authenticated(p.authenticated.principal_name, `${path}.authenticated.principal_name`, errors);
  // source_ip is Envoy's deprecated spelling of remote_ip.
  const remote = p.remote_ip ?? p.source_ip;
  if (remote !== undefined) {
    const m = cidr(remote, `${path}.${p.remote_ip !== undefined ? 'remote_ip' : 'source_ip'}`, errors);
    return m === undefined ? never : (r) => m(r.connection.remoteAddress);
  }
  if (p.direct_remote_ip !== undefined) {
    const m = cidr(p.direct_remote_ip, `${path}.direct_remote_ip`, errors);
    return m === undefined ? never : (r) => m(r.connection.directRemoteAddress);
  }
  if (p.header !== undefined) {
    const m = compileHeaderMatcher(p.header);
    return (r) => r.metadata !== undefined && m(r.metadata);
  }
  errors.push(`${path}: no identifier set`);
  return never;
}

/**
 * Envoy's `authenticated`: only a TLS connection matches. Without `principal_name` any TLS
 * peer does; with it, the URI SANs are tried, then the DNS SANs, then the subject.
 */
function authenticated(name: Parameters<typeof compileStringMatcher>[0] | undefined, path: string, errors: string[]): Check {
  if (name === undefined) return (r) => r.connection.peer !== undefined;
  const m = stringMatcher(name, path, errors);
  const matches = (peer: PeerIdentity): boolean => {
    for (const uri of peer.uriSans) if (m(uri)) return true;
    for (const dns of peer.dnsSans) if (m(dns)) return true;
    return m(peer.subject);
  };
  // A connection's requests carry the same identity object: a regex runs once per connection.
  let lastPeer: PeerIdentity | undefined;
  let lastResult = false;
  return (r) => {
    const peer = r.connection.peer;
    if (peer === undefined) return false;
    if (peer !== lastPeer) {
      lastResult = matches(peer);
      lastPeer = peer;
    }
    return lastResult;
  };
}

function stringMatcher(s: Parameters<typeof compileStringMatcher>[0], path: string, errors: string[]): (v: string) => boolean {
  try {
    return compileStringMatcher(s);
  } catch (err) {
    errors.push(`${path}: ${(err as Error).message}`);
    return () => false;
  }
}
