/** Small pieces every starter shares: usage errors, failure messages, result printing. */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { DetectionResult } from '../shared/detection.ts';
import { formatMediaRef } from '../shared/media.ts';

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The innermost message of a workflow failure: the one that names the bad input.
 * @example failureMessage(err) // 'MediaNotFound: questioned s3://media/x.wav does not exist (NotFound)'
 */
export function failureMessage(err: unknown): string {
  let current: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  // The workflow lifts permanent activity failures to its own ApplicationFailure: that one is the message.
  while (current instanceof TemporalFailure && !(current instanceof ApplicationFailure) && current.cause) {
    current = current.cause;
  }
  if (current instanceof ApplicationFailure) return `${current.type ?? 'Error'}: ${current.message}`;
  return current instanceof Error ? current.message : String(current);
}

/** The human-readable form of a result, one field a line. */
export function formatResult(result: DetectionResult): string {
  const score = result.score === null ? 'null' : result.score.toFixed(4);
  const media = (m: DetectionResult['reference']) =>
    `${formatMediaRef(m)}${m.channel === undefined ? '' : ` (channel ${m.channel})`}`;
  return [
    `workflow    ${result.workflowId}`,
    `reference   ${media(result.reference)}`,
    `questioned  ${media(result.questioned)}`,
    `score       ${score}`,
    `verdict     ${result.verdict} (threshold ${result.threshold})`,
    `job         ${result.jobId} on ${result.platform.url} (version ${result.platform.version ?? 'unknown'})`,
    `checks      ${result.checks} over ${result.submissions} submission(s)`,
    `recorded    ${formatMediaRef(result.resultLocation)}`,
  ].join('\n');
}
