// One colour per target name, the same in every chart of every report: a reader who learnt
// "meltemi is green" in the throughput chart must find it green in the latency-over-time one,
// whatever other targets ran or which of them a chart leaves out.
import { meltemiWorkers } from '../runner/target-names.ts';

const FIXED: Readonly<Record<string, string>> = {
  direct: '#1f77b4', // blue
  pipe: '#7f7f7f', // grey
  meltemi: '#2ca02c', // green
  external: '#9467bd', // purple
};
/** meltemi-2, meltemi-3, ...: warm colours, none of them a fixed target's. */
const WORKERS = ['#ff7f0e', '#d62728', '#8c564b', '#e377c2', '#bcbd22', '#17becf'];

export function targetColor(name: string): string {
  const fixed = FIXED[name];
  if (fixed !== undefined) return fixed;
  const n = meltemiWorkers(name);
  if (n !== null) return WORKERS[(n - 2 + WORKERS.length) % WORKERS.length]!;
  return '#000000';
}
