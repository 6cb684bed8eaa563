import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { probit, type DetPoint, type OperatingPoint } from '../calibration/index.ts';
import { SCORE_GROUPS, type ScoreDistribution, type ThroughputSeries } from './aggregate.ts';

/** The page's colours, one per group, shared by charts and tables. */
export const COLORS = {
  genuine: '#1b9e77',
  deepfake: '#d95f02',
  unlabelled: '#7a7f87',
  threshold: '#1f2328',
  det: '#3b5bdb',
  rate: '#b6d0ee',
  cumulative: '#1c4e80',
} as const;

const FONT = 'system-ui, Segoe UI, Roboto, Helvetica Neue, Arial, DejaVu Sans, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: null },
  axis: {
    gridColor: '#eceef1',
    domainColor: '#9aa0a6',
    tickColor: '#9aa0a6',
    labelColor: '#3c4043',
    titleColor: '#3c4043',
    labelFontSize: 11,
    titleFontSize: 11,
    titleFontWeight: 'normal',
  },
  title: { anchor: 'start', fontSize: 13, fontWeight: 600, subtitleColor: '#5f6368', subtitleFontSize: 11 },
} as const;

/**
 * Compiles a Vega-Lite spec to Vega and renders it to an SVG string in Node (no browser, no
 * canvas). The result carries no URL but the SVG namespace: the unused xlink namespace that Vega
 * declares is dropped, and element ids (clip paths) get `idPrefix` so that several SVGs can share
 * a page.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    let svg = await view.toSVG();
    if (!svg.includes('xlink:')) svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', '');
    // Every SVG numbers its clip paths from 1; inline in one page, the ids must not collide.
    return svg
      .replace(/\sid="([^"]+)"/g, ` id="${idPrefix}-$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`);
  } finally {
    view.finalize();
  }
}

const fmt = (x: number): string => String(Number(x.toPrecision(6)));

/**
 * Score histograms, one panel per label group on a shared score axis, with the threshold drawn as
 * a dashed rule and the deepfake side shaded.
 */
export function scoreHistogramSpec(scores: ScoreDistribution, threshold: number): TopLevelSpec {
  const groups = SCORE_GROUPS.filter((g) => scores.scored[g] > 0);
  const [lo, hi] = scores.domain;
  const scale = { domain: [lo, hi], nice: false, zero: false };
  const names = { genuine: 'Genuine pairs', deepfake: 'Deepfake pairs', unlabelled: 'Unlabelled pairs' };
  const panels = groups.map((group, index) => {
    const last = index === groups.length - 1;
    const notes = [`${scores.scored[group]} scored`];
    if (scores.inconclusive[group] > 0)
      notes.push(`${scores.inconclusive[group]} inconclusive (no score, not drawn)`);
    const x = {
      type: 'quantitative' as const,
      scale,
      axis: last ? { title: 'score (LLR of deepfake vs genuine)' } : { title: null, labels: false },
    };
    return {
      width: 860,
      height: groups.length > 2 ? 90 : 120,
      title: { text: names[group], subtitle: notes.join(' · '), color: COLORS[group] },
      layer: [
        {
          data: { values: [{ from: Math.max(threshold, lo), to: hi }] },
          mark: { type: 'rect' as const, color: COLORS.deepfake, opacity: 0.07 },
          encoding: { x: { field: 'from', ...x }, x2: { field: 'to' } },
        },
        {
          data: { values: scores.bins.filter((b) => b.group === group) },
          mark: { type: 'bar' as const, color: COLORS[group], stroke: 'white', strokeWidth: 0.5 },
          encoding: {
            x: { field: 'start', bin: 'binned' as const, ...x },
            x2: { field: 'end' },
            y: {
              field: 'count',
              type: 'quantitative' as const,
              title: 'pairs',
              axis: { tickCount: 3, format: 'd', tickMinStep: 1 },
            },
          },
        },
        {
          data: { values: [{ t: threshold }] },
          mark: { type: 'rule' as const, color: COLORS.threshold, strokeWidth: 1.5, strokeDash: [5, 3] },
          encoding: { x: { field: 't', ...x } },
        },
        ...(index === 0
          ? [
              {
                data: { values: [{ t: threshold, text: `threshold ${fmt(threshold)} → called deepfake` }] },
                mark: {
                  type: 'text' as const,
                  align: 'left' as const,
                  baseline: 'top' as const,
                  dx: 5,
                  y: 2,
                  fontSize: 11,
                  color: COLORS.threshold,
                },
                encoding: { x: { field: 't', ...x }, text: { field: 'text' } },
              },
              {
                data: { values: [{ t: threshold, text: 'called genuine ←' }] },
                mark: {
                  type: 'text' as const,
                  align: 'right' as const,
                  baseline: 'top' as const,
                  dx: -5,
                  y: 2,
                  fontSize: 11,
                  color: COLORS.threshold,
                },
                encoding: { x: { field: 't', ...x }, text: { field: 'text' } },
              },
            ]
          : []),
      ],
    };
  });
  return { config: CONFIG, vconcat: panels, spacing: 14 };
}

const DET_TICKS = [0.00001, 0.0001, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4] as const;

function percentLabel(p: number): string {
  return `${String(Number((p * 100).toPrecision(3)))} %`;
}

/**
 * A Vega expression that labels the probit ticks in percent: a chain of comparisons against the
 * midpoints between ticks (no lookup of floating-point keys).
 */
function tickLabelExpr(ticks: readonly number[]): string {
  const z = ticks.map(probit);
  let expr = `'${percentLabel(ticks.at(-1)!)}'`;
  for (let i = ticks.length - 2; i >= 0; i--) {
    expr = `datum.value < ${(z[i]! + z[i + 1]!) / 2} ? '${percentLabel(ticks[i]!)}' : ${expr}`;
  }
  return expr;
}

/** What the DET plot marks besides the curve. */
export interface DetMarks {
  readonly eer: number;
  readonly atThreshold: OperatingPoint;
}

/**
 * Whether an operating point can be drawn on the DET axes: both rates strictly between 0 and 50 %
 * (a rate of 0 is −∞ on a probit axis; above 50 % is off the plotted quadrant). Pure.
 * @example onDetAxes({ threshold: 0, pMiss: 0, pFa: 0.1 }) // false
 */
export function onDetAxes(op: Pick<OperatingPoint, 'pMiss' | 'pFa'>): boolean {
  return op.pMiss > 0 && op.pMiss < 0.5 && op.pFa > 0 && op.pFa < 0.5;
}

/**
 * The DET curve on normal-deviate axes (P_fa across, P_miss up, both in percent at 0.1, 1, 2, 5,
 * 10, 20, 40 %), the P_miss = P_fa diagonal, the EER point and the operating point at the
 * threshold.
 */
export function detSpec(det: readonly DetPoint[], marks: DetMarks): TopLevelSpec {
  const zMin = Math.min(
    probit(0.0005),
    ...det.map((p) => Math.min(p.zFa, p.zMiss) - 0.1),
    ...(marks.eer > 0 ? [probit(marks.eer) - 0.3] : []),
  );
  const lo = Math.max(zMin, probit(0.000005));
  const hi = probit(0.5);
  const ticks = DET_TICKS.filter((p) => probit(p) >= lo);
  const axis = (title: string) => ({
    title,
    values: ticks.map(probit),
    labelExpr: tickLabelExpr(ticks),
    grid: true,
  });
  const scale = { domain: [lo, hi], nice: false, zero: false };
  const x = { type: 'quantitative' as const, scale, axis: axis('false acceptance rate (deepfake accepted)') };
  const y = { type: 'quantitative' as const, scale, axis: axis('miss rate (genuine called deepfake)') };
  const layers: object[] = [
    {
      data: {
        values: [
          { x: lo, y: lo },
          { x: hi, y: hi },
        ],
      },
      mark: { type: 'line', color: '#c4c8cd', strokeDash: [3, 3], clip: true },
      encoding: { x: { field: 'x', ...x }, y: { field: 'y', ...y } },
    },
    {
      data: { values: det.map((p, i) => ({ i, x: p.zFa, y: p.zMiss })) },
      mark: { type: 'line', color: COLORS.det, strokeWidth: 2.5, clip: true },
      encoding: { x: { field: 'x', ...x }, y: { field: 'y', ...y }, order: { field: 'i' } },
    },
  ];
  const points: { x: number; y: number; text: string; color: string; shape: string }[] = [];
  if (marks.eer > 0 && marks.eer < 0.5) {
    const z = probit(marks.eer);
    points.push({
      x: z,
      y: z,
      text: `EER ${percentLabel(marks.eer)}`,
      color: COLORS.deepfake,
      shape: 'circle',
    });
  }
  const op = marks.atThreshold;
  if (onDetAxes(op)) {
    points.push({
      x: probit(op.pFa),
      y: probit(op.pMiss),
      text: `at threshold ${op.threshold === null ? '±∞' : fmt(op.threshold)}`,
      color: COLORS.threshold,
      shape: 'diamond',
    });
  }
  if (points.length > 0) {
    layers.push(
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 90, opacity: 1, stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: { field: 'x', ...x },
          y: { field: 'y', ...y },
          color: { field: 'color', type: 'nominal', scale: null, legend: null },
          shape: { field: 'shape', type: 'nominal', scale: null, legend: null },
        },
      },
      {
        data: { values: points },
        mark: { type: 'text', align: 'left', dx: 8, dy: -8, fontSize: 11, fontWeight: 600 },
        encoding: {
          x: { field: 'x', ...x },
          y: { field: 'y', ...y },
          text: { field: 'text' },
          color: { field: 'color', type: 'nominal', scale: null, legend: null },
        },
      },
    );
  }
  return {
    config: CONFIG,
    width: 340,
    height: 340,
    title: { text: 'DET curve', subtitle: 'normal-deviate axes; lower left is better' },
    layer: layers,
  } as TopLevelSpec;
}

/** Completions over time: pairs per second per bucket (bars) and completed pairs so far (line). */
export function throughputSpec(series: ThroughputSeries): TopLevelSpec {
  const buckets = series.points
    .slice(1)
    .map((p, i) => ({ from: series.points[i]!.t, to: p.t, perSecond: p.perSecond }));
  const x = {
    type: 'quantitative' as const,
    title: `time since start (${series.unit})`,
    scale: { nice: false },
    axis: { format: '~g' },
  };
  return {
    config: CONFIG,
    width: 860,
    height: 170,
    layer: [
      {
        data: { values: buckets },
        mark: { type: 'bar', color: COLORS.rate },
        encoding: {
          x: { field: 'from', bin: 'binned', ...x },
          x2: { field: 'to' },
          y: {
            field: 'perSecond',
            type: 'quantitative',
            title: 'pairs per second (bars)',
            axis: { titleColor: '#5b87b8', tickCount: 4 },
          },
        },
      },
      {
        data: { values: series.points },
        mark: { type: 'line', color: COLORS.cumulative, strokeWidth: 2.5 },
        encoding: {
          x: { field: 't', ...x },
          y: {
            field: 'completed',
            type: 'quantitative',
            title: 'pairs completed (line)',
            axis: { orient: 'right', titleColor: COLORS.cumulative, tickCount: 4, grid: false },
          },
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}
