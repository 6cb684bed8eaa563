/**
 * Saves a finished workflow's history for the replay tests when RECORD_HISTORIES=1
 * (`RECORD_HISTORIES=1 npm test -- test/integration`). Committed histories guard running workflows
 * against incompatible changes to workflow code. Exported with the Temporal CLI, whose JSON is the
 * format `historyFromJSON` reads (the same as a download from the Temporal UI).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testServices } from './services.ts';

export const HISTORIES_DIR = fileURLToPath(new URL('../replay/histories/', import.meta.url));

export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const { temporalAddress, namespace } = testServices();
  const { stdout } = await promisify(execFile)(
    'temporal',
    [
      'workflow',
      'show',
      '--workflow-id',
      handle.workflowId,
      '--address',
      temporalAddress,
      '--namespace',
      namespace,
      '--output',
      'json',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  await mkdir(HISTORIES_DIR, { recursive: true });
  await writeFile(`${HISTORIES_DIR}${name}.json`, stdout);
}
