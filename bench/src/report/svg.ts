// Tiny inline-SVG charts for the HTML report: a line chart and a grouped bar chart, drawn here
// so the report needs no script, library or network to open.

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  /** Groups along the x axis (e.g. targets). */
  readonly groups: readonly string[];
  /** Bars within each group (e.g. percentiles), with one value per group. */
  readonly bars: readonly { readonly name: string; readonly values: readonly number[] }[];
}

const W = 640;
const H = 300;
const M = { left: 64, right: 16, top: 28, bottom: 56 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function colorOf(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A "nice" upper bound and tick step for an axis from 0 to max. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(2));
}

function frame(title: string, yLabel: string, xLabel: string, yTop: number, yStep: number, body: string, xTicks: string): string {
  const plotH = H - M.top - M.bottom;
  const y = (v: number): number => M.top + plotH - (v / yTop) * plotH;
  let grid = '';
  for (let v = 0; v <= yTop + yStep / 2; v += yStep) {
    grid += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`;
    grid += `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${tickLabel(v)}</text>`;
  }
  return (
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">` +
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>` +
    grid +
    `<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>` +
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(xLabel)}</text>` +
    xTicks +
    body +
    `</svg>`
  );
}

function legend(names: readonly string[]): string {
  return names
    .map((n, i) => `<rect x="${M.left + i * 110}" y="${H - 34}" width="10" height="10" fill="${colorOf(i)}"/><text x="${M.left + 14 + i * 110}" y="${H - 25}">${escapeHtml(n)}</text>`)
    .join('');
}

export function lineChart(c: LineChart): string {
  const all = c.series.flatMap((s) => s.points);
  if (all.length === 0) return `<p><em>${escapeHtml(c.title)}: no data</em></p>`;
  const xMin = Math.min(...all.map((p) => p[0]));
  const xMax = Math.max(...all.map((p) => p[0]));
  const { top, step } = niceScale(Math.max(...all.map((p) => p[1])));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (v: number): number => M.left + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW);
  const y = (v: number): number => M.top + plotH - (v / top) * plotH;
  let xTicks = '';
  for (let i = 0; i <= 5; i++) {
    const v = xMin + ((xMax - xMin) * i) / 5;
    xTicks += `<text x="${x(v)}" y="${M.top + plotH + 14}" text-anchor="middle">${tickLabel(v)}</text>`;
  }
  const lines = c.series
    .map((s, i) => {
      if (s.points.length === 0) return '';
      const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join(' ');
      const dots = s.points.length <= 40 ? s.points.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5" fill="${colorOf(i)}"/>`).join('') : '';
      return `<path d="${d}" fill="none" stroke="${colorOf(i)}" stroke-width="1.5"/>${dots}`;
    })
    .join('');
  return frame(c.title, c.yLabel, c.xLabel, top, step, lines + legend(c.series.map((s) => s.name)), xTicks);
}

export function barChart(c: BarChart): string {
  const values = c.bars.flatMap((b) => b.values).filter((v) => Number.isFinite(v));
  if (values.length === 0 || c.groups.length === 0) return `<p><em>${escapeHtml(c.title)}: no data</em></p>`;
  const { top, step } = niceScale(Math.max(...values));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const groupW = plotW / c.groups.length;
  const barW = (groupW * 0.8) / c.bars.length;
  const y = (v: number): number => M.top + plotH - (v / top) * plotH;
  let body = '';
  let xTicks = '';
  c.groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW + groupW * 0.1;
    xTicks += `<text x="${gx + groupW * 0.4}" y="${M.top + plotH + 14}" text-anchor="middle">${escapeHtml(g)}</text>`;
    c.bars.forEach((b, bi) => {
      const v = b.values[gi] ?? 0;
      if (!Number.isFinite(v)) return;
      body += `<rect x="${(gx + bi * barW).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(M.top + plotH - y(v)).toFixed(1)}" fill="${colorOf(bi)}"><title>${escapeHtml(`${g} ${b.name}: ${tickLabel(v)}`)}</title></rect>`;
    });
  });
  return frame(c.title, c.yLabel, '', top, step, body + legend(c.bars.map((b) => b.name)), xTicks);
}
