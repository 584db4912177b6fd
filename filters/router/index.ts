/** The router room: route selection, the one forward path, tries, retries, timeouts, mirrors. */
export { routerFilterFactory } from './router.js';
export { UpstreamRequest } from './upstream-request.js';
export type { Outcome } from './upstream-request.js';
export { admitTo, chooseHost, pickAndBind } from './forward.js';
export type { Answerable, Bindable } from './forward.js';
export { MAX_MIRRORS_IN_FLIGHT, mirrorsInFlight, sendMirrors } from './mirror.js';
export type { MirrorSource } from './mirror.js';
export { backOffMs, mayRetry, retryOnFor } from './retry.js';
