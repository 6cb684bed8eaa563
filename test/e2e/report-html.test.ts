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
import { syntheticReportRows } from '../helpers/report-rows.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMetricsReport,
  renderReportHtml,
  summarizeRows,
  type BatchReportRow,
} from '../../src/reports/index.ts';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

/** ~300 labelled pairs of a nightly batch, a few failures among them (one with a hostile message). */
function nightlyBatch(n = 300): BatchReportRow[] {
  const start = Date.parse('2025-03-01T22:00:00Z');
  return syntheticReportRows(n, {
    id: (i) => `call-${String(i).padStart(5, '0')}`,
    workflowId: (i) => `nightly-${i.toString(16).padStart(24, '0')}`,
    questioned: (i) => (i === 5 ? 's3://calls/<script>alert(1)</script>.wav' : `s3://calls/call-${i}.wav`),
    forcedError: (i) => (i === 5 ? 'MediaNotFound' : undefined),
    errorMessage: (i, errorType) =>
      i === 5
        ? 'questioned media s3://calls/<script>alert(1)</script>.wav does not exist'
        : errorType === 'MediaNotFound'
          ? `questioned media s3://calls/call-${i}.wav does not exist`
          : 'the platform rejected the input: no speech found',
    completedAt: (i, count, jitter) =>
      new Date(
        start + Math.round((i / count) * 900_000 * (1 + 0.2 * Math.sin(i / 30)) + 2000 * jitter),
      ).toISOString(),
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
