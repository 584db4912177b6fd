import type { StructValue } from './peer-metadata.js';

/** The workload attributes Istio's labels are made of (a FlatNode's fields). */
export interface Workload {
  readonly workload: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
}

const UNKNOWN = 'unknown';

function str(v: StructValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads Istio node metadata (NAME, NAMESPACE, WORKLOAD_NAME, CLUSTER_ID, LABELS). */
export function workloadOf(meta: { readonly [k: string]: StructValue } | undefined): Workload {
  const m = meta ?? {};
  const labelsRaw = m['LABELS'];
  const labels = typeof labelsRaw === 'object' && labelsRaw !== null && !Array.isArray(labelsRaw) ? labelsRaw : {};
  const app = str(labels['app']) ?? str(labels['app.kubernetes.io/name']);
  const version = str(labels['version']) ?? str(labels['app.kubernetes.io/version']);
  const workload = str(m['WORKLOAD_NAME']);
  return {
    workload: workload ?? UNKNOWN,
    namespace: str(m['NAMESPACE']) ?? UNKNOWN,
    cluster: str(m['CLUSTER_ID']) ?? UNKNOWN,
    app: app ?? UNKNOWN,
    version: version ?? UNKNOWN,
    canonicalService: str(labels['service.istio.io/canonical-name']) ?? app ?? workload ?? UNKNOWN,
    canonicalRevision: str(labels['service.istio.io/canonical-revision']) ?? version ?? 'latest',
  };
}

/** Traffic direction of the listener: inbound proxies report as destination. */
export type Reporter = 'source' | 'destination';

/** The mTLS facts of a request's connection (Istio's principal and security policy labels). */
export interface ConnectionSecurity {
  readonly sourcePrincipal: string;
  readonly destinationPrincipal: string;
  /** `mutual_tls`, `none` or `unknown` (outbound: Istio reports unknown). */
  readonly policy: string;
}

const UNKNOWN_SECURITY: ConnectionSecurity = { sourcePrincipal: 'unknown', destinationPrincipal: 'unknown', policy: 'unknown' };

/**
 * The labels of `istio_requests_total` and the three histograms, in Istio's order
 * (spec/metaprotocol.md §7.5). Missing values are `unknown`.
 */
export function istioLabels(
  reporter: Reporter,
  source: Workload,
  destination: Workload,
  destinationService: string,
  responseCode: number,
  security: ConnectionSecurity = UNKNOWN_SECURITY,
): [string, string][] {
  const svc = destinationService === '' ? UNKNOWN : destinationService;
  const svcName = svc === UNKNOWN ? UNKNOWN : svc.split('.')[0]!;
  return [
    ['reporter', reporter],
    ['source_workload', source.workload],
    ['source_workload_namespace', source.namespace],
    ['source_cluster', source.cluster],
    ['source_app', source.app],
    ['source_version', source.version],
    ['source_canonical_service', source.canonicalService],
    ['source_canonical_revision', source.canonicalRevision],
    ['source_principal', security.sourcePrincipal],
    ['destination_workload', destination.workload],
    ['destination_workload_namespace', destination.namespace],
    ['destination_service', svc],
    ['destination_service_name', svcName],
    ['destination_service_namespace', destination.namespace],
    ['destination_cluster', destination.cluster],
    ['destination_app', destination.app],
    ['destination_version', destination.version],
    ['destination_canonical_service', destination.canonicalService],
    ['destination_canonical_revision', destination.canonicalRevision],
    ['destination_principal', security.destinationPrincipal],
    ['response_code', String(responseCode)],
    ['connection_security_policy', security.policy],
  ];
}

/** OUTBOUND: the service is what follows the last `|` of the cluster name (`outbound|20880||svc.ns.svc.cluster.local`). */
export function serviceFromCluster(cluster: string | undefined): string {
  if (cluster === undefined) return '';
  const i = cluster.lastIndexOf('|');
  return i < 0 ? cluster : cluster.slice(i + 1);
}
