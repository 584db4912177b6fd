import { ErrorType } from '../../codecs/api/index.js';
import { ConfigError } from '../../config/index.js';
import { FilterStatus } from '../api/index.js';
import type { ConnectionInfo, Filter, FilterContext, FilterExchange, FilterFactory } from '../api/index.js';
import { compileRbacFilter } from './authorizer.js';
import type { RbacAuthorizer } from './authorizer.js';
import { metaRbacConfig } from './rbac-schema.js';

export { compileRbacFilter, RbacAuthorizer } from './authorizer.js';
export { compileRbacRules, RbacEngine } from './engine.js';
export type { RbacDecision, RbacRequest } from './engine.js';
export { metaRbacConfig, networkRbacConfig } from './rbac-schema.js';
export type { RbacFilterConfig } from './rbac-schema.js';
export { collectRbacStats, statPrefixJoin } from './rbac-stats.js';
export type { RbacStats } from './rbac-stats.js';

export const RBAC_FILTER_NAME = 'meltemi.filters.rbac';

/** The reply text of a denial: Envoy's HTTP RBAC body, so logs read the same. */
export const DENIED_TEXT = 'RBAC: access denied';

/** What a request is checked against when its exchange gives no connection (a test double). */
const NO_CONNECTION: ConnectionInfo = {
  remoteAddress: '',
  remotePort: 0,
  directRemoteAddress: '',
  localAddress: '',
  localPort: 0,
  peer: undefined,
  requestedServerName: '',
};

/**
 * `meltemi.filters.rbac`: Envoy's RBAC per request. A denied request is answered with the
 * protocol's own "unauthorized" error reply (ErrorType.Unauthorized: Dubbo SERVICE_ERROR,
 * TApplicationException, bRPC ERPCAUTH, tRPC SERVER_AUTH_ERR) and counted; the connection
 * stays open for the next request.
 */
export class MetaRbacFilter implements Filter {
  readonly authorizer: RbacAuthorizer;

  constructor(authorizer: RbacAuthorizer) {
    this.authorizer = authorizer;
  }

  onRequest(ex: FilterExchange): FilterStatus {
    if (this.authorizer.check({ connection: ex.connection ?? NO_CONNECTION, metadata: ex.metadata })) return FilterStatus.Continue;
    ex.sendLocalReply(ErrorType.Unauthorized, DENIED_TEXT);
    return FilterStatus.Stop;
  }
}

export const rbacFilterFactory: FilterFactory = {
  name: RBAC_FILTER_NAME,
  create(config: unknown, context?: FilterContext): () => Filter {
    const errors: string[] = [];
    const cfg = metaRbacConfig.parse(config, 'config', errors);
    if (cfg === undefined || errors.length > 0) throw new ConfigError(errors, `${RBAC_FILTER_NAME} config`);
    const authorizer = compileRbacFilter(cfg, `${context?.statPrefix ?? ''}${cfg.stat_prefix}`, 'config', errors);
    if (authorizer === undefined) throw new ConfigError(errors, `${RBAC_FILTER_NAME} config`);
    // Stateless per request: one filter serves every exchange of the listener.
    const filter = new MetaRbacFilter(authorizer);
    return () => filter;
  },
};
