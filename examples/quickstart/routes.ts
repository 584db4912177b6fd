/**
 * The routes of the quickstart's bootstrap, read from the file Meltemi runs with, so the screen
 * describes the configuration as it is (a changed weight shows up) and labels each call with
 * the route its metadata matches there. Only what the quickstart's bootstrap uses is read:
 * exact and prefix matches on metadata, a cluster or weighted clusters.
 */
import { parse } from 'yaml';

interface Matcher {
  name: string;
  exact_match?: string;
  prefix_match?: string;
}
interface RouteEntry {
  name?: string;
  match?: { metadata?: Matcher[] };
  route?: { cluster?: string; weighted_clusters?: { clusters?: { name: string; weight: number }[] } };
}
interface BootstrapShape {
  static_resources?: { listeners?: { filter_chains?: { filters?: { typed_config?: { route_config?: { routes?: RouteEntry[] } } }[] }[] }[] };
}

export interface QuickstartRoute {
  readonly name: string;
  readonly matches: (metadata: Readonly<Record<string, string>>) => boolean;
  /** e.g. "demo-v1 80%, demo-v2 20%" */
  readonly destination: string;
}

export function readRoutes(bootstrapYaml: string): QuickstartRoute[] {
  const doc = parse(bootstrapYaml) as BootstrapShape;
  const routes = doc.static_resources?.listeners?.[0]?.filter_chains?.[0]?.filters?.[0]?.typed_config?.route_config?.routes ?? [];
  return routes.map((r, i) => ({
    name: r.name ?? `route #${i + 1}`,
    matches: (md) =>
      (r.match?.metadata ?? []).every((m) => {
        const v = md[m.name];
        if (v === undefined) return false;
        if (m.exact_match !== undefined) return v === m.exact_match;
        if (m.prefix_match !== undefined) return v.startsWith(m.prefix_match);
        return true;
      }),
    destination: destinationOf(r),
  }));
}

function destinationOf(r: RouteEntry): string {
  if (r.route?.cluster !== undefined) return r.route.cluster;
  const clusters = r.route?.weighted_clusters?.clusters ?? [];
  const total = clusters.reduce((s, c) => s + c.weight, 0);
  return clusters.map((c) => `${c.name} ${total > 0 ? Math.round((100 * c.weight) / total) : 0}%`).join(', ');
}

/** The name of the first route whose match the call's metadata meets ("no route" if none). */
export function routeOf(routes: readonly QuickstartRoute[], metadata: Readonly<Record<string, string>>): string {
  return routes.find((r) => r.matches(metadata))?.name ?? 'no route';
}
