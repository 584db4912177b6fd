// A self-contained HTML report of one run: the table, the ratios, and inline SVG charts of
// throughput, latency percentiles, latency over time, and the proxy's CPU and RSS over time.
// No scripts, styles or fonts from the network: it opens from a file on an offline machine.
import type { BenchReport, WindowRecord } from './document.ts';
import { barChart, escapeHtml, lineChart, type Series } from './svg.ts';
import { targetColor } from './target-colors.ts';
import { describeLoad, fmtInt, latency, ratioLines, summaryCells } from './table.ts';

const STYLE = `body{font-family:sans-serif;max-width:1340px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:12px}
.note{color:#555;font-size:12px}pre{background:#f7f7f7;padding:8px;font-size:12px}`;

export function renderHtml(r: BenchReport): string {
  const o = r.options;
  const sweep = o.mode === 'sweep';
  const targets = [...new Set(r.summary.map((s) => s.target))];
  const parts: string[] = [];
  parts.push(`<h1>Meltemi bench: ${escapeHtml(o.name)}</h1>`);
  parts.push(
    `<p>${escapeHtml(r.protocol.name)} (codec <code>${escapeHtml(r.protocol.codecName)}</code>, route on ` +
      `${r.protocol.routeMatch.map((m) => `<code>${escapeHtml(m.name)}=${escapeHtml(m.exact_match)}</code>`).join(' + ')}); ` +
      `${escapeHtml(describeLoad(o))}; ${o.payload} B request frames; ${o.rounds} round(s) of ${o.durationS} s per target, interleaved.</p>`,
  );
  parts.push(
    `<p class="note">${escapeHtml(r.startedAt)} &ndash; ${escapeHtml(r.finishedAt)}; node ${escapeHtml(r.machine.node)}, ` +
      `${r.machine.cpus} x ${escapeHtml(r.machine.cpuModel)}, ${escapeHtml(r.machine.platform)}; load average at the end ` +
      `${r.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}. ${escapeHtml(o.description)}</p>`,
  );
  parts.push(summaryTable(r));
  const lines = ratioLines(r.ratios, sweep);
  if (r.knees !== null) {
    for (const [t, k] of Object.entries(r.knees)) lines.push(`knee of ${t}: ${k === null ? 'below the lowest rate' : `${fmtInt(k)} req/s`} (p99 <= ${latency(o.sweep.p99BoundUs)} µs)`);
  }
  if (lines.length > 0) parts.push(`<pre>${escapeHtml(lines.join('\n'))}</pre>`);

  const charts: string[] = [];
  if (sweep) {
    const perTarget = (f: (s: BenchReport['summary'][number]) => number): Series[] =>
      targets.map((t) => ({ name: t, color: targetColor(t), points: r.summary.filter((s) => s.target === t).map((s) => [s.rate, f(s)] as const) }));
    charts.push(lineChart({ title: 'p99 latency vs offered rate', xLabel: 'offered req/s', yLabel: 'p99 µs', series: perTarget((s) => s.latencyUs.p99) }));
    charts.push(lineChart({ title: 'Answered vs offered rate', xLabel: 'offered req/s', yLabel: 'answered req/s', series: perTarget((s) => s.rps) }));
    charts.push(lineChart({ title: 'Proxy CPU per request vs rate', xLabel: 'offered req/s', yLabel: 'µs/req', series: perTarget((s) => s.proxyCpuUsPerReq ?? Number.NaN).filter((s) => s.points.every((p) => Number.isFinite(p[1]))) }));
  } else {
    const rows = r.summary;
    const colorsOf = (rs: readonly { target: string }[]): string[] => rs.map((s) => targetColor(s.target));
    charts.push(barChart({ title: 'Throughput', yLabel: 'req/s', groups: rows.map((s) => s.target), groupColors: colorsOf(rows), bars: [{ name: 'req/s', values: rows.map((s) => s.rps) }] }));
    charts.push(
      barChart({
        title: 'Latency percentiles',
        yLabel: 'µs',
        groups: rows.map((s) => s.target),
        groupColors: colorsOf(rows),
        bars: (['p50', 'p90', 'p99', 'p999'] as const).map((p) => ({ name: p === 'p999' ? 'p99.9' : p, values: rows.map((s) => s.latencyUs[p]) })),
      }),
    );
    const proxies = rows.filter((s) => s.proxyCpuUsPerReq !== null);
    if (proxies.length > 0 && o.mode !== 'idle') {
      charts.push(barChart({ title: 'Proxy CPU per request', yLabel: 'µs/req', groups: proxies.map((s) => s.target), groupColors: colorsOf(proxies), bars: [{ name: 'cpu µs/req', values: proxies.map((s) => s.proxyCpuUsPerReq ?? 0) }] }));
    }
  }
  if (o.mode !== 'idle') {
    charts.push(lineChart({ title: 'p99 latency over time (rounds back to back)', xLabel: 's', yLabel: 'p99 µs', series: overTime(r, targets, (w) => measured(w).map((p) => [p.tMs, p.p99Us])) }));
    charts.push(lineChart({ title: 'Throughput over time', xLabel: 's', yLabel: 'req/s', series: overTime(r, targets, (w) => timelineRate(w)) }));
  }
  const proxyTargets = targets.filter((t) => r.windows.some((w) => w.target === t && w.samples.length > 0));
  charts.push(lineChart({ title: 'Proxy CPU over time', xLabel: 's', yLabel: 'cores', series: overTime(r, proxyTargets, (w) => cpuCores(w, r.machine.cpuTickUs)) }));
  charts.push(lineChart({ title: 'Proxy RSS over time', xLabel: 's', yLabel: 'MiB', series: overTime(r, proxyTargets, (w) => w.samples.map((s) => [s.tMs, s.rss / 2 ** 20])) }));
  parts.push(`<div class="charts">${charts.join('\n')}</div>`);
  parts.push(
    `<p class="note">Over-time charts put each target's measured windows back to back (round 1, round 2, ...); the other ` +
      `targets ran in between, so a line breaks between rounds. CPU is utime+stime of the proxy process and its children from /proc, in ticks of ` +
      `${r.machine.cpuTickUs / 1000} ms; RSS is VmRSS summed over the same processes. Latency is HdrHistogram, ` +
      `microseconds${o.mode === 'open' || sweep ? ', counted from each request\'s due time (no coordinated omission)' : ''}.</p>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Meltemi bench: ${escapeHtml(o.name)}</title><style>${STYLE}</style></head><body>\n${parts.join('\n')}\n</body></html>\n`;
}

function summaryTable(r: BenchReport): string {
  const head = ['target', 'rate', 'req/s', '±', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'errors', 'cpu µs/req', 'cores', 'sys', 'rss MB', 'rss Δ MB'];
  const rows = r.summary.map((s) => summaryCells(s).map((c) => `<td>${escapeHtml(c)}</td>`));
  return `<table><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows.map((c) => `<tr>${c.join('')}</tr>`).join('')}</table>`;
}

/**
 * One series per target, its windows laid end to end; x in seconds. Between two windows the
 * other targets ran, so the line breaks there (a NaN point) instead of joining or dropping to 0.
 */
export function overTime(r: BenchReport, targets: readonly string[], points: (w: WindowRecord) => (readonly [number, number])[]): Series[] {
  return targets.map((t) => {
    let offsetMs = 0;
    const out: [number, number][] = [];
    for (const w of r.windows.filter((x) => x.target === t)) {
      if (out.length > 0) out.push([offsetMs / 1000, Number.NaN]);
      for (const [ms, v] of points(w)) out.push([(offsetMs + ms) / 1000, v]);
      offsetMs += w.elapsedMs;
    }
    return { name: t, color: targetColor(t), points: out };
  });
}

/**
 * The timeline points of the measured window. A point past its end holds only the requests
 * that were still in flight when the load stopped: a rate over it reads as a drop to ~0.
 */
function measured(w: WindowRecord): WindowRecord['timeline'] {
  return w.timeline.filter((p) => p.tMs <= w.elapsedMs + 1);
}

export function timelineRate(w: WindowRecord): [number, number][] {
  let prev = 0;
  const out: [number, number][] = [];
  for (const p of measured(w)) {
    const dt = (p.tMs - prev) / 1000;
    prev = p.tMs;
    if (dt > 0) out.push([p.tMs, p.completed / dt]);
  }
  return out;
}

/**
 * Cores used between resource samples. /proc counts CPU in ticks (10 ms), so an interval of a
 * few milliseconds (the last sample is taken right after the window ends) reads 0 or a whole
 * tick: intervals shorter than ten ticks are merged into the next one rather than drawn.
 */
export function cpuCores(w: WindowRecord, tickUs: number): [number, number][] {
  const minMs = (10 * tickUs) / 1000;
  const out: [number, number][] = [];
  let a = w.samples[0];
  for (let i = 1; a !== undefined && i < w.samples.length; i++) {
    const b = w.samples[i]!;
    if (b.tMs - a.tMs < minMs) continue;
    out.push([b.tMs, (b.cpuUs - a.cpuUs) / ((b.tMs - a.tMs) * 1000)]);
    a = b;
  }
  return out;
}
