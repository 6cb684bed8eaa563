/**
 * Batch reports: report.csv / report.jsonl round trips, metrics.json against computeMetrics, and
 * report.html's content (plots, threshold rule, convention, no URL, escaping, size at 100k rows).
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CONVENTION, computeMetrics } from '../../src/calibration/index.ts';
import {
  CONVENTION_TEXT,
  CSV_HEADERS,
  REPORT_COLUMNS,
  ReportParseError,
  aggregateRows,
  buildMetricsReport,
  calibrateReport,
  escapeHtml,
  loadReportRows,
  renderReportHtml,
  summarizeRows,
  toMetricsJson,
  toReportCsv,
  toReportJsonl,
  type BatchReportRow,
} from '../../src/reports/index.ts';
import { syntheticReportRows } from '../helpers/report-rows.ts';

/** A labelled batch: genuine around −3, deepfake around +3, some unlabelled, failed, inconclusive. */
function syntheticRows(n: number, seed = 7): BatchReportRow[] {
  const start = Date.parse('2025-03-01T22:00:00Z');
  return syntheticReportRows(n, {
    seed,
    id: (i) => `call-${i}`,
    workflowId: (i) => `b1-${i.toString(16).padStart(24, '0')}`,
    errorMessage: (i, errorType) => `${errorType} for s3://calls/call-${i}.wav`,
    completedAt: (i, _n, jitter) => new Date(start + i * 3000 + Math.round(1000 * jitter)).toISOString(),
  });
}

const META = { batchId: 'b1', startedAt: '2025-03-01T22:00:00.000Z', finishedAt: '2025-03-01T23:00:00.000Z' };

/** Rows whose strings try every CSV and HTML trap. */
function hostileRows(): BatchReportRow[] {
  const base = syntheticRows(3, 1);
  return [
    {
      ...base[0]!,
      id: 'a,b "quoted"\nsecond line',
      questioned: 's3://calls/<script>alert(1)</script>.wav',
      errorType: '<img src=x onerror=alert(1)>',
      errorMessage: '</td></table><script>alert("x")</script> & \'quote\'',
      score: null,
      verdict: null,
    },
    { ...base[1]!, id: 'ünïcödé 🎙', score: -0.1 + 1e-17, cached: true, duplicateOf: 'b1-000' },
    { ...base[2]!, id: null, score: Math.PI * 1e-300, label: null, completedAt: null, line: null },
  ];
}

describe('report.csv', () => {
  it('writes a header and every column in order, and reads back exactly (csv-parse)', () => {
    const rows = [...syntheticRows(50), ...hostileRows()];
    const csv = toReportCsv(rows);
    const records: string[][] = parse(csv);
    expect(records[0]).toEqual(REPORT_COLUMNS.map((c) => CSV_HEADERS[c]));
    expect(records[0]!.slice(0, 8)).toEqual([
      'line',
      'id',
      'workflow_id',
      'reference',
      'reference_channel',
      'questioned',
      'questioned_channel',
      'label',
    ]);
    expect(records).toHaveLength(rows.length + 1);
    const byHeader: Record<string, string>[] = parse(csv, { columns: true });
    expect(byHeader[50]!.id).toBe('a,b "quoted"\nsecond line');
    expect(byHeader[50]!.score).toBe('');
    expect(Number(byHeader[51]!.score)).toBe(rows[51]!.score);
    expect(byHeader[51]!.cached).toBe('true');
    expect(loadReportRows(csv)).toEqual(rows);
  });
});

describe('report.jsonl', () => {
  it('writes one object per line in column order and reads back exactly', () => {
    const rows = [...syntheticRows(50), ...hostileRows()];
    const jsonl = toReportJsonl(rows);
    const lines = jsonl.trimEnd().split('\n');
    expect(lines).toHaveLength(rows.length);
    expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual([...REPORT_COLUMNS]);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(rows);
    expect(loadReportRows(jsonl)).toEqual(rows);
  });
});

describe('loadReportRows', () => {
  it('reports every bad JSONL line with its number and reads nothing', () => {
    const good = toReportJsonl(syntheticRows(2)).trimEnd().split('\n');
    const text = [good[0], '', '{not json', good[1], '{"score": "abc", "label": "genuine"}', '{"label": "x"}']
      .concat('{"score": 1, "label": "spoof"}')
      .join('\n');
    const err = (() => {
      try {
        loadReportRows(text, { source: 'report.jsonl' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ReportParseError);
    const problems = (err as ReportParseError).problems;
    expect(problems.map((p) => p.line)).toEqual([3, 5, 6, 7]);
    expect(problems[0]!.reason).toMatch(/not JSON/);
    expect(problems[1]!.reason).toMatch(/score is not a number/);
    expect(problems[2]!.reason).toMatch(/no score field/);
    expect(problems[3]!.reason).toMatch(/label must be genuine or deepfake/);
    expect((err as Error).message).toMatch(/^report\.jsonl: 4 bad lines: line 3: not JSON/);
  });

  it('numbers CSV lines from the file, quoted newlines included', () => {
    const text = 'id,score,label\n"two\nlines",1,genuine\nx,abc,deepfake\ny,2\nz,3,deepfake\n';
    expect(() => loadReportRows(text)).toThrow(ReportParseError);
    try {
      loadReportRows(text);
    } catch (e) {
      expect((e as ReportParseError).problems).toEqual([
        { line: 4, reason: 'score is not a number: "abc"' },
        { line: 5, reason: '2 fields where the header has 3' },
      ]);
    }
  });

  it('reads a minimal scored set (score and label only) with defaults', () => {
    const rows = loadReportRows('score,label\n-1.5,genuine\n2,deepfake\n,genuine\n', { threshold: 1 });
    expect(rows.map((r) => [r.line, r.score, r.label, r.verdict, r.threshold, r.cached])).toEqual([
      [2, -1.5, 'genuine', 'genuine', 1, false],
      [3, 2, 'deepfake', 'deepfake', 1, false],
      [4, null, 'genuine', 'inconclusive', 1, false],
    ]);
    expect(() => loadReportRows('id,label\na,genuine\n')).toThrow(/no score column/);
  });
});

describe('metrics.json', () => {
  it('holds computeMetrics of the labelled, non-failed, non-repeated rows, with convention and costs', () => {
    const rows = syntheticRows(400);
    rows[10] = { ...rows[10]!, duplicateOf: rows[9]!.workflowId, label: 'genuine', score: 50 };
    const costs = { pSpoof: 0.01, cMiss: 1, cFa: 100 };
    const expected = computeMetrics(
      rows
        .filter((r) => r.label !== null && r.errorType === null && r.duplicateOf === null)
        .map((r) => ({ score: r.score, label: r.label! })),
      { threshold: 0, costs },
    );
    const json = JSON.parse(toMetricsJson(rows, { costs })) as ReturnType<typeof buildMetricsReport>;
    expect(json.metrics).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(json.metrics.figures).not.toBeNull();
    expect(json.schema).toBe('rdd-metrics/v1');
    expect(json.convention).toEqual(CONVENTION);
    expect(json.conventionText).toBe(CONVENTION_TEXT);
    expect(json.costModels.asvspoof5).toMatchObject({ pSpoof: 0.05, cMiss: 1, cFa: 10 });
    expect(json.costModels.asvspoof5.name).toMatch(/ASVspoof 5/);
    expect(json.costModels.user).toEqual({ name: 'user', ...costs });
    expect(json.metrics.figures!.dcf.user!.costs).toEqual(costs);
    const labelled = rows.filter((r) => r.label !== null);
    expect(json.rows).toEqual({
      total: 400,
      labelled: labelled.length,
      unlabelled: 400 - labelled.length,
      excludedFailed: labelled.filter((r) => r.errorType !== null).length,
      excludedCancelled: 0,
      excludedDuplicates: 1,
      evaluated: expected.counts.total,
    });
    // Inconclusive labelled rows are reported by computeMetrics and excluded from the figures.
    const inconclusive = labelled.filter((r) => r.errorType === null && r.score === null).length;
    expect(inconclusive).toBeGreaterThan(0);
    expect(json.metrics.counts.excludedNull).toBe(inconclusive);
  });

  it('says why there are no figures when a class is missing', () => {
    const rows = syntheticRows(50).map((r) => ({
      ...r,
      label: r.label === null ? null : ('genuine' as const),
    }));
    const report = buildMetricsReport(rows);
    expect(report.metrics.figures).toBeNull();
    expect(report.metrics.reason).toMatch(/no deepfake pair/);
  });
});

describe('summarizeRows', () => {
  it('counts outcomes and the throughput', () => {
    const rows = [...syntheticRows(100), { ...syntheticRows(1)[0]!, errorType: 'InvalidManifestLine' }];
    const s = summarizeRows(rows, META);
    const c = s.counts;
    expect(c.total).toBe(101);
    expect(c.scored + c.inconclusive + c.failed).toBe(101);
    expect(c.deepfake + c.genuine).toBe(c.scored);
    expect(c.invalid).toBe(1);
    expect(s.throughput).toBeCloseTo(100 / 3600, 12);
  });
});

describe('report.html', () => {
  const rows = syntheticRows(300);
  const summary = summarizeRows(rows, META);
  const metrics = buildMetricsReport(rows, { costs: { pSpoof: 0.01, cMiss: 1, cFa: 100 } });

  it('draws the plots as inline SVG with the threshold rule at the threshold', async () => {
    const html = await renderReportHtml({ summary, rows, metrics, threshold: 0 });
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(3); // histograms, DET, throughput
    const [histogram, det, throughput] = svgs;
    // The histogram's panels (genuine, deepfake, unlabelled) each carry bars and a dashed rule.
    expect(histogram!.match(/aria-roledescription="bar"/g)!.length).toBeGreaterThan(20);
    const rules = [
      ...histogram!.matchAll(
        /<line [^>]*aria-roledescription="rule mark" transform="translate\(([\d.]+),0\)"[^>]*stroke-dasharray="5,3"/g,
      ),
    ];
    expect(rules).toHaveLength(3);
    const { domain } = aggregateRows(rows, { threshold: 0 }).scores!;
    const expectedX = (860 * (0 - domain[0])) / (domain[1] - domain[0]);
    for (const rule of rules) expect(Number(rule[1])).toBeCloseTo(expectedX, 6);
    expect(histogram).toContain('threshold 0 → called deepfake');
    // DET: probit ticks in percent, the EER point and its label.
    for (const tick of ['0.1 %', '1 %', '2 %', '5 %', '10 %', '20 %', '40 %'])
      expect(det).toContain(`>${tick}</text>`);
    expect(det).toContain(
      `EER ${String(Number((metrics.metrics.figures!.eer.rocch * 100).toPrecision(3)))} %`,
    );
    expect(det).toMatch(/aria-roledescription="line mark"/);
    expect(throughput).toContain('pairs completed (line)');
  });

  it('shows counts, failures grouped by type, the metrics and the convention sentence', async () => {
    const html = await renderReportHtml({ summary, rows, metrics, threshold: 0 });
    expect(html).toContain(escapeHtml(CONVENTION_TEXT));
    expect(html).toContain('EER (ROC convex hull)');
    expect(html).toContain('minDCF, ASVspoof 5');
    expect(html).toContain('actDCF, user (P_spoof 0.01, C_miss 1, C_fa 100)');
    expect(html).toContain('threshold at FAR 1 %');
    expect(html).toContain('threshold at FAR 5 %');
    expect(html).toContain('minCllr');
    const notFound = rows.filter((r) => r.errorType === 'MediaNotFound');
    expect(html).toMatch(new RegExp(`<b>MediaNotFound</b></td><td class="r">${notFound.length}</td>`));
    expect(html).toContain(notFound[0]!.errorMessage);
    expect(html).toContain(`<div class="n">${summary.counts.total}</div><div class="k">pairs</div>`);
  });

  it('carries no URL but the SVG namespace, no script and a CSP that blocks loading', async () => {
    const html = await renderReportHtml({ summary, rows, metrics, threshold: 0 });
    // What Vega emits: the SVG namespace (an identifier, never fetched). Nothing else.
    const urls = new Set(html.match(/https?:\/\/[^\s"'<>)]*/gi));
    expect([...urls]).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).not.toMatch(
      /<script|<link|<img|<iframe|<object|<embed|@import|url\((?!#)|\ssrc=|href=|="\/\//i,
    );
    // Clip paths are local references, unique across the page's SVGs.
    const ids = html.match(/\sid="[^"]+"/g) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, ref] of html.matchAll(/url\(#([^)]+)\)/g)) expect(html).toContain(` id="${ref}"`);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('escapes every string from the rows', async () => {
    const hostile = [...rows, ...hostileRows()];
    const batchId = '"><script>alert(1)</script>';
    const html = await renderReportHtml({
      summary: summarizeRows(hostile, { ...META, batchId }),
      rows: hostile,
      metrics: buildMetricsReport(hostile),
      threshold: 0,
    });
    expect(html).not.toMatch(/<script|<img|onerror=alert\(1\)>/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(
      '&lt;/td&gt;&lt;/table&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quote&#39;',
    );
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('says how to get calibration when nothing is labelled', async () => {
    const unlabelled = rows.map((r) => ({ ...r, label: null }));
    const html = await renderReportHtml({
      summary: summarizeRows(unlabelled, META),
      rows: unlabelled,
      metrics: buildMetricsReport(unlabelled),
      threshold: 0,
    });
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toContain('No pair carries a label');
  });

  it('stays small for 100,000 rows: aggregated before plotting', async () => {
    const big = syntheticRows(100_000, 11);
    const html = await renderReportHtml({
      summary: summarizeRows(big, { ...META, finishedAt: '2025-03-05T10:00:00.000Z' }),
      rows: big,
      metrics: buildMetricsReport(big),
      threshold: 0,
    });
    expect(html.length).toBeLessThan(400_000);
    expect(html.match(/aria-roledescription="bar"/g)!.length).toBeLessThan(3 * 60 + 60);
  });
});

describe('calibrateReport', () => {
  it('recomputes metrics and the page from a report.jsonl', async () => {
    const rows = syntheticRows(200);
    const loaded = loadReportRows(toReportJsonl(rows));
    const costs = { pSpoof: 0.02, cMiss: 1, cFa: 20 };
    const { metrics, html, summary } = await calibrateReport(loaded, { costs, name: 'eval-set.jsonl' });
    expect(metrics).toEqual(buildMetricsReport(rows, { costs }));
    expect(summary.startedAt).toBe(rows[0]!.completedAt);
    expect(html).toContain('<title>Calibration of eval-set.jsonl</title>');
    expect(html).toContain('actDCF, user (P_spoof 0.02, C_miss 1, C_fa 20)');
  });
});
