/**
 * The Temporal UI as an operator sees it, in a real Chromium: a detection run on the embedded stack
 * shows up in the workflow list and its detail page shows it completed.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { loadClientConfig } from '../../src/config.ts';
import { startStack, type RunningStack } from '../../dev/stack/index.ts';
import { resolveMedia } from '../../src/storage/media-upload.ts';
import { connectClient } from '../../src/client/connection.ts';
import { startDetection, waitForDetection } from '../../src/client/detections.ts';
import { speechWav } from '../helpers/audio.ts';

let stack: RunningStack;
let browser: Browser;
let workflowId: string;

beforeAll(async () => {
  stack = await startStack({
    dir: await mkdtemp(join(tmpdir(), 'rdd-ui-stack-')),
    ports: { temporal: 0, temporalUi: 0, s3: 0, emulator: 0 },
    persist: false,
  });
  const env = { ...process.env, ...stack.env };
  const config = loadClientConfig(env, ['mediaBucket']);
  const s3 = createS3Client(config.storage);
  const reference = await resolveMedia(
    s3,
    config.storage.mediaBucket,
    await speechWav({ text: 'Watching detections in the browser.', voice: 'en+m3' }),
    'reference',
  );
  const questioned = await resolveMedia(
    s3,
    config.storage.mediaBucket,
    await speechWav({ text: 'The operator opens the Temporal UI.', voice: 'en+f3' }),
    'questioned',
  );
  s3.destroy();
  const client = await connectClient(env);
  workflowId = `ui-test-${Date.now().toString(36)}`;
  const input = { reference, questioned, polling: { firstCheckBase: 0.5, minInterval: 0.5 } };
  await startDetection(client, input, { id: workflowId, taskQueue: config.taskQueue });
  expect((await waitForDetection(client, workflowId)).state).toBe('completed');
  await client.connection.close();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('Temporal UI', () => {
  it('lists the detection and shows it completed', async () => {
    const page = await browser.newPage();
    const ui = stack.env.TEMPORAL_UI_URL!;
    await page.goto(`${ui}/namespaces/${stack.env.TEMPORAL_NAMESPACE}/workflows`);
    await expect.poll(async () => page.getByText(workflowId).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    if (process.env.UI_SCREENSHOT)
      await page.screenshot({ path: `${process.env.UI_SCREENSHOT}.list.png`, fullPage: true });
    await page.locator(`a[href*="/workflows/${workflowId}/"]`).first().click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
    await expect
      .poll(async () => page.getByText('detectWorkflow').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(async () => page.getByText(/Completed/i).count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    // The result document is on the page: the recorded verdict, not just a run.
    await expect
      .poll(async () => page.getByText('"verdict"').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    if (process.env.UI_SCREENSHOT) await page.screenshot({ path: process.env.UI_SCREENSHOT, fullPage: true });
  });
});
