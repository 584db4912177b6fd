/** The public filter API (`meltemi/filter`). */
export { FilterStatus } from './filter.js';
export type { Filter, FilterExchange, FilterFactory, FilterResult, RouteView } from './filter.js';
