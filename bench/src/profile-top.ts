// `node dist/profile-top.js <file.cpuprofile>... [--top N]`: the functions a V8 CPU profile
// (`--cpu-prof`) spent the most self time in, with their share, so a missed bench target can be
// traced to its cause without a browser. Open the file in Chrome DevTools for a flame graph.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionCost {
  readonly name: string;
  readonly selfUs: number;
  readonly share: number;
}

/** Self time per function (name + file:line), largest first. */
export function selfTimes(profile: CpuProfile): FunctionCost[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    const n = byId.get(id);
    if (n === undefined) return;
    const f = n.callFrame;
    const file = f.url === '' ? '' : ` ${f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const key = `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()]
    .map(([name, selfUs]) => ({ name, selfUs, share: total > 0 ? selfUs / total : 0 }))
    .sort((a, b) => b.selfUs - a.selfUs);
}

function main(): number {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  if (topAt >= 0) args.splice(topAt, 2);
  if (args.length === 0) {
    console.error('usage: node dist/profile-top.js <file.cpuprofile>... [--top N]');
    return 2;
  }
  for (const file of args) {
    const costs = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    console.log(`${file}:`);
    for (const c of costs.slice(0, top)) console.log(`${(c.share * 100).toFixed(1).padStart(6)}%  ${(c.selfUs / 1000).toFixed(0).padStart(7)} ms  ${c.name}`);
  }
  return 0;
}

if (process.argv[1]?.endsWith('profile-top.js') === true) process.exitCode = main();
