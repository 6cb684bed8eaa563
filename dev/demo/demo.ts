/**
 * `npm run demo`: the vendor's six-pair example, run as durable workflows on the embedded stack.
 * Starts the stack (Temporal dev server, versitygw, emulator, worker), generates the recordings,
 * runs the six detections in parallel, prints a table and the Temporal UI URL, stops the stack.
 */
import { fileURLToPath } from 'node:url';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { loadClientConfig } from '../../src/config.ts';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { connectClient } from '../../src/client/connection.ts';
import { startDetection, waitForDetection } from '../../src/client/detections.ts';
import { formatTable } from '../../src/starters/format-table.ts';
import { generateDemoRecordings, type DemoPair } from './recordings.ts';
import { resolveMedia } from '../../src/storage/media-upload.ts';
import { startStack } from '../stack/index.ts';

const RECORDINGS_DIR = fileURLToPath(new URL('../../.demo/recordings/', import.meta.url));

interface Row {
  pair: DemoPair;
  result?: DetectionResult;
  error?: string;
  seconds: number;
}

function table(rows: Row[]): string {
  return formatTable(
    ['pair', 'expected', 'score', 'verdict', 'seconds', 'workflow'],
    rows.map(({ pair, result, error, seconds }) => [
      pair.name,
      pair.expect,
      result ? (result.score === null ? 'null' : result.score.toFixed(4)) : 'error',
      result?.verdict ?? error ?? '',
      seconds.toFixed(1),
      result?.workflowId ?? '',
    ]),
  );
}

/**
 * Runs the demo: starts (or reuses) the stack, runs the six pairs, prints the table.
 * @returns 0 when every pair got a score, 1 otherwise.
 */
export async function runDemo(): Promise<number> {
  console.log('Starting the local stack (Temporal dev server, versitygw, emulator, worker)…');
  // A stack already up (`rdd stack up --detach`) is reused and left running, so its UI stays browsable.
  const stack = await startStack({
    worker: true,
    temporalUi: true,
    reuse: true,
    log: (line) => console.log(`  ${line}`),
  });
  try {
    const env = { ...process.env, ...stack.env };
    const config = loadClientConfig(env, ['mediaBucket']);
    console.log('Generating six recordings with espeak-ng…');
    const pairs = await generateDemoRecordings(RECORDINGS_DIR);

    const s3 = createS3Client(config.storage);
    const client = await connectClient(env);
    const runId = Date.now().toString(36);
    try {
      const rows = await Promise.all(
        pairs.map(async (pair, index): Promise<Row> => {
          const started = performance.now();
          try {
            const [reference, questioned] = await Promise.all([
              resolveMedia(s3, config.storage.mediaBucket, pair.reference, 'reference'),
              resolveMedia(s3, config.storage.mediaBucket, pair.questioned, 'questioned'),
            ]);
            const { workflowId } = await startDetection(
              client,
              { reference, questioned },
              {
                id: `demo-${runId}-${index + 1}-${pair.name.replace(/\W+/g, '-').toLowerCase()}`,
                taskQueue: config.taskQueue,
              },
            );
            const view = await waitForDetection(client, workflowId);
            const seconds = (performance.now() - started) / 1000;
            if (view.state === 'completed') return { pair, result: view.result, seconds };
            const error =
              view.state === 'failed' ? `${view.failure.type}: ${view.failure.message}` : view.state;
            return { pair, error, seconds };
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            return { pair, error, seconds: (performance.now() - started) / 1000 };
          }
        }),
      );
      console.log(`\n${table(rows)}\n`);
      console.log('Scores come from the local emulator, a deterministic stand-in, not a deepfake detector.');
      console.log(
        `Results: s3://${config.storage.resultBucket}/results/ — see them in the Temporal UI: ${stack.env.TEMPORAL_UI_URL}`,
      );
      return rows.every((row) => row.result) ? 0 : 1;
    } finally {
      s3.destroy();
      await client.connection.close();
    }
  } finally {
    if (!stack.reused) console.log('Stopping the local stack…');
    await stack.stop();
  }
}

// `npm run demo` runs this file; `rdd demo` imports it.
if (import.meta.main) process.exitCode = await runDemo();
