/**
 * Hand-written SVG charts for bench/charts/: a grouped bar chart (optionally on
 * a log scale, for results that span orders of magnitude) and a line chart.
 * Self-contained files: no script, no external font, readable on GitHub.
 */

export type BarChart = {
  title: string;
  yLabel: string;
  /** Log scale: for values from fractions of a millisecond to seconds side by side. */
  log?: boolean;
  groups: string[];
  /** One bar per group each; undefined leaves a gap (not measured). */
  series: { name: string; values: (number | undefined)[] }[];
  /** Formats the value printed above each bar. */
  format: (value: number) => string;
};

export type LineChart = {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: [number, number][] }[];
};

const width = 960;
const height = 480;
const margin = { left: 78, right: 24, bottom: 64 };
type Plot = { x: number; y: number; w: number; h: number };

/** Colour-blind-safe (Okabe–Ito); roomcast is always the first series, in blue. */
const palette = ["#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442"];

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function text(x: number, y: number, content: string, attrs = "") {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escape(content)}</text>`;
}

function frame(title: string, body: string[]) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(width / 2, 26, title, 'text-anchor="middle" font-size="16" font-weight="bold"'),
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/** Legend items flowed into centred rows under the title; returns them and the plot area left below. */
function layout(names: string[]): { legend: string[]; plot: Plot } {
  const available = width - margin.left - margin.right;
  // Helvetica at 12 px averages about 6.2 px a character.
  const itemWidth = (name: string) => 17 + name.length * 6.2 + 24;
  const rows: string[][] = [[]];
  for (const name of names) {
    const row = rows[rows.length - 1];
    if (row.length && row.reduce((w, n) => w + itemWidth(n), 0) + itemWidth(name) > available)
      rows.push([name]);
    else row.push(name);
  }
  let index = 0;
  const legend = rows.flatMap((row, r) => {
    let x = margin.left + (available - row.reduce((w, n) => w + itemWidth(n), 0)) / 2;
    const y = 42 + r * 18;
    return row.flatMap((name) => {
      const item = [
        `<rect x="${x.toFixed(1)}" y="${y}" width="12" height="12" fill="${palette[index++ % palette.length]}"/>`,
        text(x + 17, y + 10, name),
      ];
      x += itemWidth(name);
      return item;
    });
  });
  const top = 42 + rows.length * 18 + 20;
  return { legend, plot: { x: margin.left, y: top, w: available, h: height - top - margin.bottom } };
}

/** Round step (1, 2 or 5 × 10^k) giving about `count` ticks up to `max`. */
function linearTicks(max: number, count = 5): number[] {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, i) => i * step);
}

function yAxis(
  plot: Plot,
  ticks: number[],
  y: (value: number) => number,
  label: string,
  format: (v: number) => string,
) {
  return [
    ...ticks.flatMap((tick) => [
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e4e4e4"/>`,
      text(plot.x - 8, y(tick) + 4, format(tick), 'text-anchor="end" fill="#444"'),
    ]),
    `<line x1="${plot.x}" x2="${plot.x}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="#888"/>`,
    `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${plot.y + plot.h}" y2="${plot.y + plot.h}" stroke="#888"/>`,
    text(
      18,
      plot.y + plot.h / 2,
      label,
      `text-anchor="middle" transform="rotate(-90 18 ${plot.y + plot.h / 2})"`,
    ),
  ];
}

const compact = (value: number) =>
  value >= 1000 ? `${+(value / 1000).toPrecision(3)}k` : `${+value.toPrecision(3)}`;

export function barChartSvg(chart: BarChart): string {
  const { legend, plot } = layout(chart.series.map((s) => s.name));
  const values = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && v > 0);
  const top = Math.max(...values);
  let y: (value: number) => number;
  let ticks: number[];
  if (chart.log) {
    // Below the smallest value, so even it gets a visible bar.
    const low = Math.floor(Math.log10(Math.min(...values) * 0.9));
    const high = Math.max(low + 1, Math.ceil(Math.log10(top)));
    ticks = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
    y = (value) => plot.y + plot.h - ((Math.log10(value) - low) / (high - low)) * plot.h;
  } else {
    ticks = linearTicks(top);
    const max = ticks[ticks.length - 1];
    y = (value) => plot.y + plot.h - (value / max) * plot.h;
  }
  const groupWidth = plot.w / chart.groups.length;
  const barWidth = Math.min(48, (groupWidth * 0.8) / chart.series.length);
  const bars = chart.groups.flatMap((group, g) => {
    const left = plot.x + g * groupWidth + (groupWidth - barWidth * chart.series.length) / 2;
    return [
      text(plot.x + (g + 0.5) * groupWidth, plot.y + plot.h + 20, group, 'text-anchor="middle"'),
      ...chart.series.flatMap((series, s) => {
        const value = series.values[g];
        if (value === undefined || value <= 0) return [];
        const x = left + s * barWidth;
        const barTop = y(value);
        const label =
          barWidth >= 16
            ? [
                text(
                  x + barWidth / 2,
                  barTop - 4,
                  chart.format(value),
                  'text-anchor="middle" font-size="9" fill="#333"',
                ),
              ]
            : [];
        return [
          `<rect x="${x.toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plot.y + plot.h - barTop).toFixed(1)}" fill="${palette[s % palette.length]}"><title>${escape(`${series.name}, ${group}: ${chart.format(value)}`)}</title></rect>`,
          ...label,
        ];
      }),
    ];
  });
  return frame(chart.title, [...yAxis(plot, ticks, y, chart.yLabel, compact), ...bars, ...legend]);
}

export function lineChartSvg(chart: LineChart): string {
  const { legend, plot } = layout(chart.series.map((s) => s.name));
  const points = chart.series.flatMap((s) => s.points);
  const xMax = Math.max(...points.map(([x]) => x));
  const yTicks = linearTicks(Math.max(...points.map(([, y]) => y)));
  const yMax = yTicks[yTicks.length - 1];
  const xTicks = linearTicks(xMax, 8);
  const px = (x: number) => plot.x + (x / xTicks[xTicks.length - 1]) * plot.w;
  const py = (y: number) => plot.y + plot.h - (y / yMax) * plot.h;
  return frame(chart.title, [
    ...yAxis(plot, yTicks, py, chart.yLabel, compact),
    ...xTicks.map((tick) =>
      text(px(tick), plot.y + plot.h + 18, compact(tick), 'text-anchor="middle" fill="#444"'),
    ),
    text(plot.x + plot.w / 2, height - 18, chart.xLabel, 'text-anchor="middle"'),
    ...chart.series.map(
      (series, s) =>
        `<polyline fill="none" stroke="${palette[s % palette.length]}" stroke-width="2" points="${series.points
          .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
          .join(" ")}"/>`,
    ),
    ...legend,
  ]);
}
