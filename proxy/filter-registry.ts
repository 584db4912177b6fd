import type { FilterFactory } from '../filters/api/index.js';
import { routerFilterFactory } from '../filters/router/index.js';

/** Built-in filters by registry name (Aeraki's names where they exist). */
const builtins = new Map<string, FilterFactory>([[routerFilterFactory.name, routerFilterFactory]]);

export function registerFilter(factory: FilterFactory): void {
  builtins.set(factory.name, factory);
}

export function findFilter(name: string): FilterFactory | undefined {
  return builtins.get(name);
}

export function filterNames(): string[] {
  return [...builtins.keys()];
}
