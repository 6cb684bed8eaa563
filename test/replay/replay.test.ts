/**
 * Replays committed histories against the current workflow code, so a change that would break
 * detections already running fails the build. Histories are recorded by the integration tests
 * with RECORD_HISTORIES=1.
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workerOptions } from '../../src/client/connection.ts';
import { workflowBundle } from '../helpers/detection-harness.ts';
import { HISTORIES_DIR } from '../helpers/record-history.ts';

const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json'));

describe('replay of committed histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(`${HISTORIES_DIR}${file}`, 'utf8')));
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), ...workerOptions() },
      history,
      file.replace(/\.json$/, ''),
    );
  });
});
