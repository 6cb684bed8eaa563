/**
 * Saves a finished workflow's history for the replay tests when RECORD_HISTORIES=1
 * (`RECORD_HISTORIES=1 npm test -- test/integration`). Committed histories guard running workflows
 * against incompatible changes to workflow code.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const HISTORIES_DIR = fileURLToPath(new URL('../replay/histories/', import.meta.url));

export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  await mkdir(HISTORIES_DIR, { recursive: true });
  await writeFile(`${HISTORIES_DIR}${name}.json`, historyToJSON(history));
}
