import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus } from '../api/index.js';
import type { Filter, FilterExchange, FilterFactory } from '../api/index.js';

/**
 * The terminal filter: select the route, apply its request mutation, choose the target
 * cluster (weighted clusters) and forward. The forwarding itself (admission, host choice,
 * tries, retries, timeouts, mirrors) is the request's UpstreamRequest (upstream-request.ts).
 */
const router: Filter = {
  onRequest(ex: FilterExchange): FilterStatus {
    const route = ex.route();
    if (route === undefined) {
      ex.sendLocalReply(ErrorType.RouteNotFound, `meta protocol router: no matched route for request '${ex.downstreamRequestId}'`);
      return FilterStatus.Stop;
    }
    if (route.requestMutation !== null) for (const [k, v] of route.requestMutation) ex.setRequestHeader(k, v);
    ex.forward(route.pickCluster(Math.random()));
    return FilterStatus.Stop;
  },
  onResponse(ex: FilterExchange): void {
    const route = ex.route();
    if (route?.responseMutation != null) for (const [k, v] of route.responseMutation) ex.setResponseHeader(k, v);
  },
};

export const routerFilterFactory: FilterFactory = {
  name: 'aeraki.meta_protocol.filters.router',
  terminal: true,
  create(config: unknown): () => Filter {
    if (config !== undefined && config !== null) {
      const extra = Object.keys(config as object).filter((k) => k !== '@type');
      if (extra.length > 0) throw new Error(`the router takes no settings (got ${extra.join(', ')})`);
    }
    return () => router;
  },
};
