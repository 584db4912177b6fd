/**
 * Envoy's command-line flags that pilot-agent (istio-agent) passes to the proxy it starts
 * (istio's pkg/envoy/proxy.go), checked and turned into what they mean for Meltemi. Flags
 * that have no meaning in Meltemi are accepted with their values checked, so a typo still
 * stops the start, and do nothing (README "Command line").
 */
import type { BootstrapOverride } from './config/load-bootstrap.js';
import { pinoLevelOf } from './logger.js';

/** The raw values of the flags, as node:util parseArgs returns them. */
export interface EnvoyFlagValues {
  'drain-time-s'?: string;
  'drain-strategy'?: string;
  'local-address-ip-version'?: string;
  'file-flush-interval-msec'?: string;
  'component-log-level'?: string;
  'service-cluster'?: string;
  'service-node'?: string;
}

/** parseArgs options of the flags above and of the valueless ones. */
export const ENVOY_FLAG_OPTIONS = {
  'drain-time-s': { type: 'string' },
  'drain-strategy': { type: 'string' },
  'local-address-ip-version': { type: 'string' },
  'file-flush-interval-msec': { type: 'string' },
  'component-log-level': { type: 'string' },
  'service-cluster': { type: 'string' },
  'service-node': { type: 'string' },
  'disable-hot-restart': { type: 'boolean' },
  'skip-deprecated-logs': { type: 'boolean' },
} as const;

export interface EnvoyFlags {
  /** --drain-time-s in ms: replaces the bootstrap's meltemi.drain_timeout. */
  drainTimeoutMs?: number;
  /** --service-cluster / --service-node: node.cluster and node.id, over the bootstrap's. */
  node?: { cluster?: string; id?: string };
}

function nonNegativeInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`--${flag} must be a non-negative integer, got '${v}'`);
  return Number(v);
}

/** Checks the flags; throws an Error naming the flag for a value Meltemi cannot honour. */
export function parseEnvoyFlags(v: EnvoyFlagValues): EnvoyFlags {
  const out: EnvoyFlags = {};
  if (v['drain-time-s'] !== undefined) {
    const s = nonNegativeInt('drain-time-s', v['drain-time-s']);
    // A Node timer holds at most 2^31-1 ms (the drain timeout is one).
    if (s * 1000 > 2 ** 31 - 1) throw new Error(`--drain-time-s ${s} is over the longest timer (2147483 s)`);
    out.drainTimeoutMs = s * 1000;
  }
  const strategy = v['drain-strategy'];
  if (strategy !== undefined && strategy !== 'immediate') {
    throw new Error(
      strategy === 'gradual'
        ? `--drain-strategy gradual is not supported: Meltemi drains every connection at once (immediate)`
        : `--drain-strategy must be immediate, got '${strategy}'`,
    );
  }
  const ipVersion = v['local-address-ip-version'];
  if (ipVersion !== undefined && ipVersion !== 'v4' && ipVersion !== 'v6') throw new Error(`--local-address-ip-version must be v4 or v6, got '${ipVersion}'`);
  if (v['file-flush-interval-msec'] !== undefined) nonNegativeInt('file-flush-interval-msec', v['file-flush-interval-msec']);
  if (v['component-log-level'] !== undefined) {
    for (const pair of v['component-log-level'].split(',')) {
      const m = /^([a-z0-9_]+):([a-z]+)$/.exec(pair);
      if (m === null) throw new Error(`--component-log-level: '${pair}' is not <component>:<level>`);
      if (pinoLevelOf(m[2]!) === undefined) throw new Error(`--component-log-level: unknown level '${m[2]}' for ${m[1]}`);
    }
  }
  if (v['service-cluster'] !== undefined || v['service-node'] !== undefined) {
    out.node = {};
    if (v['service-cluster'] !== undefined) out.node.cluster = v['service-cluster'];
    if (v['service-node'] !== undefined) out.node.id = v['service-node'];
  }
  return out;
}

/**
 * What is merged over the bootstrap file, in order: --config-yaml, then
 * --service-cluster/--service-node as node.cluster/node.id. Envoy applies the flags after
 * the merge, so they win over both the file and --config-yaml.
 */
export function bootstrapOverrides(configYaml: string | undefined, flags: EnvoyFlags): BootstrapOverride[] {
  const out: BootstrapOverride[] = [];
  if (configYaml !== undefined) out.push({ yaml: configYaml, source: '--config-yaml' });
  if (flags.node !== undefined) out.push({ yaml: JSON.stringify({ node: flags.node }), source: '--service-cluster/--service-node' });
  return out;
}
