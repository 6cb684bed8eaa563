/**
 * The replay check itself must catch an incompatible change: a committed history of a tiny fixture
 * workflow (test/fixtures/nondeterminism, not the real detection workflow) replays clean on the
 * code that recorded it and on a `patched()` change, and fails with DeterminismViolationError on a
 * change that reorders its commands. This is what `replay.test.ts` relies on for the real workflows.
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workerOptions } from '../../src/client/connection.ts';
import { rejection } from '../helpers/rejection.ts';

const FIXTURES = new URL('../fixtures/nondeterminism/', import.meta.url);
/** Recorded from greeting-v1.ts by test/fixtures/nondeterminism/record-history.ts. */
const history = historyFromJSON(
  JSON.parse(readFileSync(new URL('greeting-v1.history.json', FIXTURES), 'utf8')),
);

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function replay(workflowFile: string): Promise<void> {
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL(workflowFile, FIXTURES)),
    logger: quietLogger,
  });
  await Worker.runReplayHistory({ workflowBundle, ...workerOptions() }, history, 'greeting-v1');
}

describe('replay catches nondeterminism', () => {
  it('replays the recorded history on the code that recorded it', async () => {
    await expect(replay('greeting-v1.ts')).resolves.toBeUndefined();
  });

  it('fails with DeterminismViolationError on a command reordered without patched()', async () => {
    const err = await rejection(replay('greeting-v2-nondeterministic.ts'));
    expect(err).toBeInstanceOf(DeterminismViolationError);
    expect((err as Error).message).toMatch(/nondetermin/i);
  });

  it('replays clean on the same change made behind patched()', async () => {
    await expect(replay('greeting-v2-patched.ts')).resolves.toBeUndefined();
  });
});
