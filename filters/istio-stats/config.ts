/** The IstioStats config: on an inbound listener, the service the proxy stands for. */
export interface IstioStatsConfig {
  readonly destinationService: string;
}

/** Validates the filter's config (`destination_service`, optional). */
export function parseIstioStatsConfig(config: unknown): IstioStatsConfig {
  if (config === undefined || config === null) return { destinationService: '' };
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error('expected an object');
  const c = config as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (k !== '@type' && k !== 'destination_service' && k !== 'destinationService') throw new Error(`unknown field ${k}`);
  }
  const svc = c['destination_service'] ?? c['destinationService'] ?? '';
  if (typeof svc !== 'string') throw new Error('destination_service: expected a string');
  return { destinationService: svc };
}
