/**
 * report.html as a person opens it: a synthetic labelled batch's page, from a file, in headless
 * Chromium with the network off. The plots render, nothing is fetched, and the screenshot is kept
 * as test-artifacts/report-html.png.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMetricsReport,
  renderReportHtml,
  summarizeRows,
  type BatchReportRow,
} from '../../src/reports/index.ts';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

/** mulberry32: the same batch every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~300 labelled pairs of a nightly batch, a few failures among them (one with a hostile message). */
function nightlyBatch(n = 300): BatchReportRow[] {
  const r = rng(7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const start = Date.parse('2025-03-01T22:00:00Z');
  return Array.from({ length: n }, (_, i): BatchReportRow => {
    const u = r();
    const label = u < 0.55 ? 'genuine' : u < 0.95 ? 'deepfake' : null;
    const errorType =
      i === 5 ? 'MediaNotFound' : r() < 0.03 ? (r() < 0.6 ? 'MediaNotFound' : 'DetectorRejectedInput') : null;
    const score =
      errorType !== null || r() < 0.02
        ? null
        : label === 'deepfake'
          ? 3 + 2.2 * gauss()
          : label === 'genuine'
            ? -3 + 1.8 * gauss()
            : 4 * gauss();
    return {
      line: i + 2,
      id: `call-${String(i).padStart(5, '0')}`,
      workflowId: `nightly-${i.toString(16).padStart(24, '0')}`,
      reference: `s3://media/enrolled/speaker-${i % 40}.wav`,
      referenceChannel: null,
      questioned: i === 5 ? 's3://calls/<script>alert(1)</script>.wav' : `s3://calls/call-${i}.wav`,
      questionedChannel: i % 3 === 0 ? 1 : null,
      label,
      score,
      verdict: errorType ? null : score === null ? 'inconclusive' : score > 0 ? 'deepfake' : 'genuine',
      threshold: 0,
      errorType,
      errorMessage:
        i === 5
          ? 'questioned media s3://calls/<script>alert(1)</script>.wav does not exist'
          : errorType === 'MediaNotFound'
            ? `questioned media s3://calls/call-${i}.wav does not exist`
            : errorType
              ? 'the platform rejected the input: no speech found'
              : null,
      cached: r() < 0.1,
      duplicateOf: null,
      completedAt: new Date(
        start + Math.round((i / n) * 900_000 * (1 + 0.2 * Math.sin(i / 30)) + 2000 * r()),
      ).toISOString(),
    };
  });
}

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdd-report-html-'));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('report.html in Chromium', () => {
  it('opens offline, fetches nothing, and its plots render', async () => {
    const rows = nightlyBatch();
    const summary = summarizeRows(rows, {
      batchId: 'nightly-2025-03-01',
      startedAt: '2025-03-01T22:00:00.000Z',
      finishedAt: '2025-03-01T22:15:30.000Z',
    });
    const metrics = buildMetricsReport(rows, { costs: { pSpoof: 0.01, cMiss: 1, cFa: 100 } });
    const file = join(dir, 'report.html');
    await writeFile(file, await renderReportHtml({ summary, rows, metrics, threshold: 0 }));

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.setOffline(true);
    const blocked: string[] = [];
    const requested: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));

    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

    // Three plots: score distributions, DET curve, throughput; each drawn at a real size.
    const plots = page.locator('figure > svg');
    await expect.poll(() => plots.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const box = await plots.nth(i).boundingBox();
      expect(box?.width).toBeGreaterThan(300);
      expect(box?.height).toBeGreaterThan(150);
    }
    // Histogram bars, the threshold rules and the DET line are laid out, not just present.
    const bars = page.locator('#scores path[aria-roledescription="bar"]');
    expect(await bars.count()).toBeGreaterThan(20);
    const barBox = await bars.first().boundingBox();
    expect(barBox!.width * barBox!.height).toBeGreaterThan(0);
    const rules = page.locator('#scores line[aria-roledescription="rule mark"]');
    expect(await rules.count()).toBe(3);
    expect((await rules.first().boundingBox())!.height).toBeGreaterThan(50);
    const detLine = page.locator('#calibration path[aria-roledescription="line mark"]').last();
    const detBox = await detLine.boundingBox();
    expect(detBox!.width).toBeGreaterThan(50);
    expect(detBox!.height).toBeGreaterThan(50);
    await expect.poll(() => page.getByText(/^EER \d/).count()).toBeGreaterThan(0);
    expect(await page.locator('#throughput path[aria-roledescription="line mark"]').isVisible()).toBe(true);
    // The hostile file name is shown as text, never run.
    await expect
      .poll(() => page.getByText('questioned media s3://calls/<script>alert(1)</script>.wav').count())
      .toBe(1);
    expect(await page.locator('script').count()).toBe(0);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report-html.png'), fullPage: true });
    await context.close();

    expect(blocked).toEqual([]);
    expect(requested).toEqual([pathToFileURL(file).href]);
    expect(problems).toEqual([]);
  });
});
