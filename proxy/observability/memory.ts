import type { StatsSnapshot } from './stats-snapshot.js';

/**
 * What a Meltemi process holds in memory, in bytes, for sizing a sidecar: the admin
 * `/memory` endpoint and the `server.memory_*` gauges, on Envoy's names. With workers, the
 * primary adds every worker's latest report to its own.
 */
export interface MemoryReport {
  /** Bytes in use by JavaScript objects and the buffers they hold (V8 heap used + external). */
  allocated: number;
  /** Bytes V8 has reserved for its heap. */
  heapSize: number;
  /** Resident set size: what the process costs the machine. */
  physical: number;
}

export function processMemory(): MemoryReport {
  const m = process.memoryUsage();
  return { allocated: m.heapUsed + m.external, heapSize: m.heapTotal, physical: m.rss };
}

export function addMemory(reports: readonly MemoryReport[]): MemoryReport {
  const total: MemoryReport = { allocated: 0, heapSize: 0, physical: 0 };
  for (const r of reports) {
    total.allocated += r.allocated;
    total.heapSize += r.heapSize;
    total.physical += r.physical;
  }
  return total;
}

/** Envoy's `server.memory_*` gauges. */
export function addMemoryGauges(into: StatsSnapshot, m: MemoryReport): void {
  into.gauges['server.memory_allocated'] = m.allocated;
  into.gauges['server.memory_heap_size'] = m.heapSize;
  into.gauges['server.memory_physical_size'] = m.physical;
}

/** The body of `/memory`, with Envoy's field names (64-bit values as strings, as protobuf JSON writes them). */
export function renderMemoryJson(m: MemoryReport, processes: number): Record<string, string | number> {
  return {
    allocated: String(m.allocated),
    heap_size: String(m.heapSize),
    total_physical_bytes: String(m.physical),
    processes,
  };
}
