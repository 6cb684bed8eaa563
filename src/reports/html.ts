import { aggregateRows, OUTCOMES, SCORE_GROUPS, type ReportAggregates } from './aggregate.ts';
import { COLORS, detSpec, onDetAxes, renderSvg, scoreHistogramSpec, throughputSpec } from './charts.ts';
import { CONVENTION_TEXT, type MetricsReport } from './metrics-json.ts';
import type { BatchReportRow, BatchReportSummary } from './types.ts';
import type { DcfFigures, OperatingPoint } from '../calibration/index.ts';

/** What {@link renderReportHtml} draws from. Give `rows`, or `aggregates` made by `aggregateRows`. */
export interface ReportHtmlInput {
  readonly summary: BatchReportSummary;
  readonly rows?: readonly BatchReportRow[];
  readonly aggregates?: ReportAggregates;
  /** `buildMetricsReport(rows)`; `null` (or no labelled pair) leaves the calibration section out. */
  readonly metrics: MetricsReport | null;
  readonly threshold: number;
  /** The page title (default `Batch <batchId>`). */
  readonly title?: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML content and quoted attributes. Every string that came from a manifest, an
 * S3 key or an error message goes through it.
 *
 * @example
 * escapeHtml('<script>'); // '&lt;script&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const integer = new Intl.NumberFormat('en-US');
const count = (n: number): string => integer.format(n);

function pct(p: number): string {
  if (p === 0) return '0 %';
  const v = p * 100;
  return `${v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)} %`;
}

function num(x: number | null, digits = 3): string {
  if (x === null) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '+∞' : '−∞';
  return x.toFixed(digits).replace('-', '−');
}

/** A threshold from the calibration module: `null` there means −∞ or +∞ (see the convention). */
const threshold = (t: number | null, digits = 3): string => (t === null ? '±∞' : num(t, digits));

function duration(summary: BatchReportSummary): string | null {
  if (summary.startedAt === null || summary.finishedAt === null) return null;
  let s = Math.max(0, Math.round((Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1f2328; --muted: #5f6368; --line: #e3e6ea; --bg: #f6f7f9;
  --genuine: ${COLORS.genuine}; --deepfake: ${COLORS.deepfake}; --unlabelled: ${COLORS.unlabelled}; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 22px; margin: 0 0 4px; font-weight: 650; }
header .meta { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  vertical-align: 3px; margin-left: 8px; background: #e6f4ea; color: #1e7b34; }
.badge.cancelled { background: #fdecea; color: #a50e0e; }
section { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px;
  margin-top: 18px; }
section h2 { font-size: 16px; margin: 0 0 4px; font-weight: 650; }
section > p.lead { margin: 0 0 14px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; margin-top: 18px; }
.card { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .n { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card.deepfake .n { color: var(--deepfake); } .card.genuine .n { color: var(--genuine); }
.card.failed .n { color: #a50e0e; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.r, th.r { text-align: right; white-space: nowrap; }
td.miss { background: #fdf0e8; color: #a0410a; font-weight: 600; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; vertical-align: 0; }
.split { display: flex; gap: 28px; flex-wrap: wrap; align-items: flex-start; }
.split > * { flex: 1 1 480px; min-width: 0; }
.split > .det { flex: 0 1 400px; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 6px; }
.bar { height: 8px; border-radius: 4px; background: #e8711a; min-width: 2px; }
.msg { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; color: #3c4043;
  word-break: break-word; }
.convention { margin-top: 14px; padding: 10px 12px; background: #f1f3f5; border-radius: 8px; font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; margin-top: 22px; text-align: center; }
`;

function cards(summary: BatchReportSummary): string {
  const c = summary.counts;
  const items: [string, number, string][] = [
    ['pairs', c.total, ''],
    ['deepfake', c.deepfake, 'deepfake'],
    ['genuine', c.genuine, 'genuine'],
    ['inconclusive', c.inconclusive, ''],
    ['failed', c.failed, c.failed > 0 ? 'failed' : ''],
  ];
  // Older summaries (rdd calibrate on an old report) have no `cancelled`.
  const cancelled = c.cancelled ?? 0;
  if (cancelled > 0 || summary.status === 'cancelled') items.push(['cancelled', cancelled, '']);
  items.push(['from cache', c.cached, '']);
  if (c.duplicates > 0) items.push(['repeated pairs', c.duplicates, '']);
  return `<div class="cards">${items
    .map(
      ([k, n, cls]) =>
        `<div class="card ${cls}"><div class="n">${count(n)}</div><div class="k">${k}</div></div>`,
    )
    .join('')}</div>`;
}

function outcomesTable(aggregates: ReportAggregates): string {
  // Cancelled and invalid-line columns only when a row has them; an invalid line keeps its label.
  const outcomes = OUTCOMES.filter(
    (o) => (o !== 'cancelled' && o !== 'invalid') || SCORE_GROUPS.some((g) => aggregates.outcomes[g][o] > 0),
  );
  const names: Record<string, string> = { invalid: 'invalid line' };
  const groups = SCORE_GROUPS.filter((g) => outcomes.some((o) => aggregates.outcomes[g][o] > 0));
  const head = `<tr><th>label \\ outcome</th>${outcomes.map((o) => `<th class="r">${names[o] ?? o}</th>`).join('')}<th class="r">total</th></tr>`;
  const body = groups
    .map((g) => {
      const row = aggregates.outcomes[g];
      const total = outcomes.reduce((s, o) => s + row[o], 0);
      return `<tr><td><span class="dot" style="background:var(--${g})"></span>${g}</td>${outcomes
        .map((o) => {
          // A labelled pair called the other way: the errors a reader looks for first.
          const wrong = g !== 'unlabelled' && (o === 'deepfake' || o === 'genuine') && o !== g && row[o] > 0;
          return `<td class="r${wrong ? ' miss' : ''}">${count(row[o])}</td>`;
        })
        .join('')}<td class="r">${count(total)}</td></tr>`;
    })
    .join('');
  return `<table>${head}${body}</table>`;
}

async function distributionSection(aggregates: ReportAggregates): Promise<string> {
  const scores = aggregates.scores;
  const body =
    scores === null
      ? '<p class="empty">No pair has a score.</p>'
      : `<figure>${await renderSvg(scoreHistogramSpec(scores, aggregates.threshold), 'scores')}<figcaption>Bars count pairs per score bin (bin width ${num(scores.step, 3)}). The dashed rule is the threshold; pairs right of it (shaded) are called deepfake. Each distinct pair is counted once, as in the calibration below: failed, cancelled and invalid lines have no score${
          scores.repeated > 0
            ? `, and ${count(scores.repeated)} ${scores.repeated === 1 ? 'row repeats a pair' : 'rows repeat pairs'} scored earlier in the batch (left out)`
            : ''
        }.${
          scores.clipped > 0
            ? ` ${count(scores.clipped)} far outlying scores are counted in the edge bins.`
            : ''
        }</figcaption></figure>`;
  return `<section id="scores"><h2>Score distributions</h2><p class="lead">How the scores of genuine and deepfake pairs spread around the threshold: the less they overlap, the better the detector separates them.</p>${body}</section>`;
}

function dcfRows(name: string, d: DcfFigures): string {
  return [
    `<tr><td>minDCF, ${name}</td><td class="r">${num(d.minDcf, 4)}</td><td>at threshold ${threshold(d.minDcfAt.threshold)}</td></tr>`,
    `<tr><td>actDCF, ${name}</td><td class="r">${num(d.actDcf, 4)}</td><td>at the Bayes threshold ${num(d.bayesThreshold)}: miss ${pct(d.actDcfAt.pMiss)}, FAR ${pct(d.actDcfAt.pFa)}</td></tr>`,
  ].join('');
}

function rates(p: OperatingPoint): string {
  return `miss ${pct(p.pMiss)}, FAR ${pct(p.pFa)}`;
}

async function calibrationSection(metrics: MetricsReport | null): Promise<string> {
  const head = `<section id="calibration"><h2>Calibration</h2><p class="lead">From the labelled pairs: how well the scores separate genuine from deepfake, and which threshold fits your costs.</p>`;
  const f = metrics?.metrics.figures ?? null;
  if (metrics === null || f === null) {
    const why =
      metrics === null || metrics.rows.labelled === 0
        ? 'No pair carries a label. Add a <code>label</code> column (genuine or deepfake) to the manifest to get the equal error rate, detection costs and a DET curve.'
        : escapeHtml(`No metrics: ${metrics.metrics.reason ?? 'not enough labelled scores'}.`);
    return `${head}<p class="empty">${why}</p><p class="convention">${escapeHtml(CONVENTION_TEXT)}</p></section>`;
  }
  const c = metrics.metrics.counts;
  const user = f.dcf.user;
  const userName = user
    ? `user (P_spoof ${user.costs.pSpoof}, C_miss ${user.costs.cMiss}, C_fa ${user.costs.cFa})`
    : '';
  const excluded = [
    c.excludedNull > 0 ? `${count(c.excludedNull)} inconclusive` : '',
    metrics.rows.excludedFailed > 0 ? `${count(metrics.rows.excludedFailed)} failed` : '',
    (metrics.rows.excludedCancelled ?? 0) > 0 ? `${count(metrics.rows.excludedCancelled)} cancelled` : '',
    metrics.rows.excludedDuplicates > 0 ? `${count(metrics.rows.excludedDuplicates)} repeated` : '',
  ].filter(Boolean);
  const table = `<table>
<tr><th>metric</th><th class="r">value</th><th>where</th></tr>
<tr><td>EER (ROC convex hull)</td><td class="r"><b>${pct(f.eer.rocch)}</b></td><td>the error rate a calibrated system reaches where miss = FAR</td></tr>
<tr><td>EER (nearest point)</td><td class="r">${pct(f.eer.nearest.eer)}</td><td>at threshold ${threshold(f.eer.nearest.threshold)}: ${rates(f.eer.nearest)}</td></tr>
${dcfRows('ASVspoof 5', f.dcf.asvspoof5)}
${user ? dcfRows(escapeHtml(userName), user) : ''}
<tr><td>Cllr</td><td class="r">${f.cllr === null ? '∞' : num(f.cllr, 4)}</td><td>bits; 0 is perfect, 1 is no better than ignoring the score</td></tr>
<tr><td>minCllr</td><td class="r">${num(f.minCllr, 4)}</td><td>after the best monotone recalibration (PAV)</td></tr>
<tr><td>Bayes threshold, ASVspoof 5</td><td class="r">${num(f.dcf.asvspoof5.bayesThreshold)}</td><td>the threshold for calibrated LLRs under these costs</td></tr>
${user ? `<tr><td>Bayes threshold, user</td><td class="r">${num(user.bayesThreshold)}</td><td>${escapeHtml(userName)}</td></tr>` : ''}
${f.thresholdAtFar
  .map(
    (t) =>
      `<tr><td>threshold at FAR ${String(Number((t.targetFar * 100).toPrecision(3)))} %</td><td class="r">${threshold(t.threshold)}</td><td>${rates(t)}</td></tr>`,
  )
  .join('')}
<tr><td>at this batch's threshold</td><td class="r">${num(metrics.threshold)}</td><td>${rates(f.atThreshold)}</td></tr>
</table>`;
  const det =
    f.det.length >= 2
      ? `<figure>${await renderSvg(detSpec(f.det, { eer: f.eer.rocch, atThreshold: f.atThreshold }), 'det')}<figcaption>Each point is a threshold: miss rate against false acceptance rate, on probit axes where a Gaussian detector draws a straight line. Dot: the equal error rate; ${
          onDetAxes(f.atThreshold)
            ? "diamond: this batch's threshold."
            : `this batch's threshold (${rates(f.atThreshold)}) lies off the axes, which show rates strictly between 0 and 50 % (0 is −∞ on a probit axis), so it is not drawn.`
        }</figcaption></figure>`
      : '<p class="empty">No DET curve to draw: the classes are perfectly separated or too small for a curve on normal-deviate axes.</p>';
  return `${head}<p>${count(c.genuine)} genuine and ${count(c.deepfake)} deepfake pairs with a score${
    excluded.length > 0 ? `; left out: ${excluded.join(', ')}` : ''
  }.</p><div class="split"><div class="det">${det}</div><div>${table}</div></div><p class="convention">${escapeHtml(
    CONVENTION_TEXT,
  )} Costs: ASVspoof 5 (P_spoof 0.05, C_miss 1, C_fa 10)${user ? `, and ${escapeHtml(userName)}` : ''}; DCFs are normalised by the cost of the best decision without the score.</p></section>`;
}

function failuresSection(aggregates: ReportAggregates): string {
  const groups = aggregates.failures;
  const head = `<section id="failures"><h2>Failures</h2>`;
  if (groups.length === 0) return `${head}<p class="empty">No pair failed.</p></section>`;
  const most = groups[0]!.count;
  const total = groups.reduce((s, g) => s + g.count, 0);
  const rows = groups
    .map((g) => {
      const where = [g.example.line !== null ? `line ${g.example.line}` : '', g.example.id ?? '']
        .filter(Boolean)
        .join(', ');
      return `<tr><td><b>${escapeHtml(g.errorType)}</b></td><td class="r">${count(g.count)}</td><td style="width:120px"><div class="bar" style="width:${Math.round((100 * g.count) / most)}%"></div></td><td><div class="msg">${escapeHtml(g.example.message ?? '(no message)')}</div>${where ? `<div class="meta" style="color:var(--muted);font-size:12px">e.g. ${escapeHtml(where)}</div>` : ''}</td></tr>`;
    })
    .join('');
  return `${head}<p class="lead">${count(total)} rows did not get an outcome, grouped by reason, with one example each (all are in report.csv). Pairs cancelled with the batch are not failures and are not listed here.</p><table><tr><th>reason</th><th class="r">pairs</th><th></th><th>example</th></tr>${rows}</table></section>`;
}

async function throughputSection(aggregates: ReportAggregates, summary: BatchReportSummary): Promise<string> {
  const series = aggregates.throughput;
  const head = `<section id="throughput"><h2>Throughput</h2>`;
  if (series === null) return `${head}<p class="empty">No completion times recorded.</p></section>`;
  const rate = summary.throughput === null ? '' : ` — ${summary.throughput.toFixed(2)} pairs/s overall`;
  return `${head}<p class="lead">Pairs completed over time since ${escapeHtml(series.startedAt)}${rate}.</p><figure>${await renderSvg(throughputSpec(series), 'throughput')}</figure></section>`;
}

/**
 * `report.html`: one self-contained page (inline CSS, inline SVG drawn by Vega-Lite → Vega in
 * Node; no script, no external URL, and a Content-Security-Policy that forbids loading anything)
 * with the counts, score distributions per label with the threshold, the DET curve and calibration
 * metrics, failures grouped by reason and throughput. Every string from the rows is escaped. Its
 * size does not grow with the number of rows: rows are aggregated first.
 *
 * @throws {TypeError} when neither `rows` nor `aggregates` is given.
 * @example
 * const html = await renderReportHtml({ summary, rows, metrics: buildMetricsReport(rows), threshold: 0 });
 */
export async function renderReportHtml(input: ReportHtmlInput): Promise<string> {
  const { summary } = input;
  const aggregates =
    input.aggregates ??
    (input.rows
      ? aggregateRows(input.rows, {
          threshold: input.threshold,
          startedAt: summary.startedAt,
          finishedAt: summary.finishedAt,
        })
      : undefined);
  if (!aggregates) throw new TypeError('renderReportHtml needs rows or aggregates');
  const title = input.title ?? `Batch ${summary.batchId}`;
  const took = duration(summary);
  const meta = [
    summary.startedAt ? `started ${escapeHtml(summary.startedAt)}` : '',
    summary.finishedAt ? `finished ${escapeHtml(summary.finishedAt)}` : '',
    took ? `took ${took}` : '',
    `threshold ${num(input.threshold)} (deepfake when score &gt; threshold)`,
  ].filter(Boolean);
  const sections = [
    `<section id="counts"><h2>Outcomes by label</h2>${outcomesTable(aggregates)}</section>`,
    await distributionSection(aggregates),
    await calibrationSection(input.metrics),
    failuresSection(aggregates),
    await throughputSection(aggregates, summary),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(title)}<span class="badge ${summary.status}">${summary.status}</span></h1>
<div class="meta">${input.title === undefined ? '' : `${escapeHtml(summary.batchId)} · `}${meta.join(' · ')}</div></header>
${cards(summary)}
${sections.join('\n')}
<footer>rdd-orchestrator batch report · self-contained: opens offline · rows in report.csv and report.jsonl, metrics in metrics.json</footer>
</main>
</body>
</html>
`;
}
