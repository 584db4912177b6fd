/**
 * A custom filter, `example.tern.filters.guard`, written against `meltemi/filter`: it refuses
 * the methods listed in `deny_methods` with an Unauthorized error reply, and stamps every
 * forwarded request with the headers in `add_headers`. Loaded as
 * `--filter example.tern.filters.guard=meltemi-codec-tern/filter`.
 */
import { ErrorType } from 'meltemi/codec';
import { FILTER_API_VERSION, FilterStatus } from 'meltemi/filter';
import type { Filter, FilterExchange, FilterFactory } from 'meltemi/filter';

export const GUARD_FILTER_NAME = 'example.tern.filters.guard';

interface GuardConfig {
  readonly denyMethods: ReadonlySet<string>;
  readonly addHeaders: readonly (readonly [string, string])[];
}

/** Validates the filter's `config`; the thrown message ends up in the config error. */
function parseConfig(config: unknown): GuardConfig {
  const c = (config ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (key !== '@type' && key !== 'deny_methods' && key !== 'add_headers') throw new Error(`unknown setting '${key}' (deny_methods, add_headers)`);
  }
  const deny = c['deny_methods'] ?? [];
  if (!Array.isArray(deny) || !deny.every((m) => typeof m === 'string')) throw new Error('deny_methods: expected a list of method names');
  const add = c['add_headers'] ?? {};
  if (typeof add !== 'object' || add === null || Array.isArray(add) || !Object.values(add).every((v) => typeof v === 'string')) {
    throw new Error('add_headers: expected a map of header names to strings');
  }
  return { denyMethods: new Set(deny as string[]), addHeaders: Object.entries(add as Record<string, string>) };
}

const guardFilterFactory: FilterFactory = {
  name: GUARD_FILTER_NAME,
  apiVersion: FILTER_API_VERSION,
  create(config: unknown): () => Filter {
    const cfg = parseConfig(config);
    // Stateless, so one instance serves every exchange.
    const filter: Filter = {
      onRequest(ex: FilterExchange): FilterStatus {
        const method = ex.metadata.get('method') ?? '';
        if (cfg.denyMethods.has(method)) {
          ex.sendLocalReply(ErrorType.Unauthorized, `method ${method} is not allowed through this proxy`);
          return FilterStatus.Stop;
        }
        for (const [k, v] of cfg.addHeaders) ex.setRequestHeader(k, v);
        return FilterStatus.Continue;
      },
    };
    return () => filter;
  },
};

export default guardFilterFactory;
