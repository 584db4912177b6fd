// Tiny inline-SVG charts for the HTML report: a line chart and a grouped bar chart, drawn here
// so the report needs no script, library or network to open.

export interface Series {
  readonly name: string;
  /** A point whose y is NaN ends a line: the next point starts a new one (a gap, not a drop to 0). */
  readonly points: readonly (readonly [number, number])[];
  /** Defaults to the series' place in the chart; reports give each target its own colour. */
  readonly color?: string;
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
  /**
   * One colour per group (e.g. per target): bars take their group's colour, told apart within
   * the group by shade, and the legend names the groups. Without it, bars are coloured by name.
   */
  readonly groupColors?: readonly string[];
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

function legend(entries: readonly { name: string; color: string; opacity?: number }[]): string {
  return entries
    .map(
      (e, i) =>
        `<rect x="${M.left + i * 110}" y="${H - 34}" width="10" height="10" fill="${e.color}"${e.opacity === undefined ? '' : ` fill-opacity="${e.opacity}"`}/>` +
        `<text x="${M.left + 14 + i * 110}" y="${H - 25}">${escapeHtml(e.name)}</text>`,
    )
    .join('');
}

/** Shade of the bi-th bar of a group when bars are coloured by group: first full, later lighter. */
function shade(bi: number, bars: number): number {
  return bars <= 1 ? 1 : +(1 - (0.65 * bi) / (bars - 1)).toFixed(2);
}

export function lineChart(c: LineChart): string {
  const all = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  if (all.length === 0) return `<p><em>${escapeHtml(c.title)}: no data</em></p>`;
  const colors = c.series.map((s, i) => s.color ?? colorOf(i));
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
      const shown = s.points.filter((p) => Number.isFinite(p[1]));
      if (shown.length === 0) return '';
      // A NaN point breaks the line: the next point moves there instead of drawing to it.
      let d = '';
      let pen = false;
      for (const p of s.points) {
        if (!Number.isFinite(p[1])) {
          pen = false;
          continue;
        }
        d += `${d === '' ? '' : ' '}${pen ? 'L' : 'M'}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`;
        pen = true;
      }
      const dots = shown.length <= 40 ? shown.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5" fill="${colors[i]}"/>`).join('') : '';
      return `<path d="${d}" fill="none" stroke="${colors[i]}" stroke-width="1.5"/>${dots}`;
    })
    .join('');
  return frame(c.title, c.yLabel, c.xLabel, top, step, lines + legend(c.series.map((s, i) => ({ name: s.name, color: colors[i]! }))), xTicks);
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
      const groupColor = c.groupColors?.[gi];
      const fill = groupColor === undefined ? `fill="${colorOf(bi)}"` : `fill="${groupColor}" fill-opacity="${shade(bi, c.bars.length)}"`;
      body += `<rect x="${(gx + bi * barW).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(M.top + plotH - y(v)).toFixed(1)}" ${fill}><title>${escapeHtml(`${g} ${b.name}: ${tickLabel(v)}`)}</title></rect>`;
    });
  });
  const keys =
    c.groupColors === undefined
      ? c.bars.map((b, bi) => ({ name: b.name, color: colorOf(bi) }))
      : c.bars.length > 1
        ? c.bars.map((b, bi) => ({ name: b.name, color: '#555555', opacity: shade(bi, c.bars.length) }))
        : [];
  return frame(c.title, c.yLabel, '', top, step, body + legend(keys), xTicks);
}
