/**
 * Small pieces every starter shares: exit codes, usage errors, failure messages, result printing,
 * and waiting for a detection in a way that rides out a Temporal outage.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef, type MediaRef } from '../shared/media.ts';
import { isTemporalUnreachable, TemporalUnreachableError, transportReason } from '../client/connection.ts';

/**
 * The exit codes of every `rdd` command (documented in the README's command table). A script can
 * tell "the detection failed" (1) from "Temporal could not be reached" (5): after a 5 the
 * detection may well still be running, so ask again later with `rdd result <id>`.
 */
export const ExitCode = {
  /** Done: the result was printed (or the command did what it was asked). */
  Ok: 0,
  /** The detection failed; the reason (and any score) was printed. */
  DetectionFailed: 1,
  /** Bad command line or configuration; nothing was started. */
  Usage: 2,
  /** The detection is still running (`rdd result`, or `--timeout` elapsed). */
  StillRunning: 3,
  /** No such detection. */
  NotFound: 4,
  /** Temporal could not be reached (within the connect/wait budget). Says nothing about the detection. */
  TemporalUnreachable: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The innermost message of a workflow failure: the one that names the bad input.
 * @example failureMessage(err) // 'MediaNotFound: questioned s3://media/x.wav does not exist (NotFound)'
 */
export function failureMessage(err: unknown): string {
  const current = innermostFailure(err);
  if (current instanceof ApplicationFailure) return `${current.type ?? 'Error'}: ${current.message}`;
  return current instanceof Error ? current.message : String(current);
}

function innermostFailure(err: unknown): unknown {
  let current: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  // The workflow lifts permanent activity failures to its own ApplicationFailure: that one is the message.
  while (current instanceof TemporalFailure && !(current instanceof ApplicationFailure) && current.cause) {
    current = current.cause;
  }
  return current;
}

function isDetectionResult(value: unknown): value is DetectionResult {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<DetectionResult>;
  return (
    typeof v.workflowId === 'string' &&
    (typeof v.score === 'number' || v.score === null) &&
    typeof v.verdict === 'string' &&
    typeof v.resultLocation === 'object'
  );
}

/** A detection that produced a score but could not record it: the result and why. */
export interface UnrecordedResult {
  result: DetectionResult;
  /** `ResultNotRecorded: <message>`: the failure as `failureMessage` prints it. */
  reason: string;
}

/**
 * The result carried by a `ResultNotRecorded` workflow failure (its `details[0]` is the full
 * `DetectionResult`, src/workflows), or undefined for any other error. Pure.
 * @example unrecordedResult(err)?.result.score // 0.505
 */
export function unrecordedResult(err: unknown): UnrecordedResult | undefined {
  const failure = innermostFailure(err);
  if (!(failure instanceof ApplicationFailure) || failure.type !== FailureType.ResultNotRecorded) {
    return undefined;
  }
  const [result] = failure.details ?? [];
  return isDetectionResult(result) ? { result, reason: failureMessage(failure) } : undefined;
}

/**
 * The human-readable form of a result, one field a line. With `notRecorded` (the failure message,
 * which names the intended location and the reason), the last line says the document was not written.
 */
export function formatResult(result: DetectionResult, notRecorded?: string): string {
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
    notRecorded === undefined
      ? `recorded    ${formatMediaRef(result.resultLocation)}`
      : `recorded    NO: ${notRecorded}`,
  ].join('\n');
}

/** A local file the user typed and the S3 object it was uploaded to. */
export interface LocalUpload {
  path: string;
  ref: Pick<MediaRef, 'bucket' | 'key'>;
}

/**
 * Adds the path the user typed after every `s3://bucket/media/<sha>.ext` of an uploaded local
 * file, since the content-addressed key alone means nothing to them. Pure, idempotent per call.
 * @example withLocalPaths('questioned s3://b/media/9f.wav is empty', [{ path: './q.wav', ref }])
 *   // 'questioned s3://b/media/9f.wav (local file ./q.wav) is empty'
 */
export function withLocalPaths(text: string, uploads: readonly LocalUpload[]): string {
  return uploads.reduce((out, { path, ref }) => {
    const url = formatMediaRef(ref);
    return out.split(url).join(`${url} (local file ${path})`);
  }, text);
}

/** What to print for a failed detection, and where. */
export interface FailureReport {
  /** The result (or result JSON with its `failure`) when the detection got a score. */
  stdout?: string;
  /** One line (plus the result, for humans) naming the detection and the failure. */
  stderr: string;
}

/**
 * Formats a workflow failure for the terminal. A `ResultNotRecorded` failure carries the score:
 * humans get the result with its "NOT RECORDED" line on stdout and the reason on stderr; `json`
 * prints the document plus `failure: {type, message}` on stdout. Local paths are named next to
 * their uploaded keys. Pure.
 * @example reportFailure(err, { workflowId: 'detect-1', json: false, command: 'rdd detect' }).stderr
 */
export function reportFailure(
  err: unknown,
  options: { workflowId: string; json: boolean; command: string; uploads?: readonly LocalUpload[] },
): FailureReport {
  const local = (text: string) => withLocalPaths(text, options.uploads ?? []);
  const reason = local(failureMessage(err));
  const stderr = `${options.command}: detection ${options.workflowId} failed: ${reason}`;
  const unrecorded = unrecordedResult(err);
  if (!unrecorded) return { stderr };
  const failure = innermostFailure(err) as ApplicationFailure;
  const stdout = options.json
    ? JSON.stringify(
        { ...unrecorded.result, failure: { type: failure.type, message: failure.message } },
        null,
        2,
      )
    : local(formatResult(unrecorded.result, failure.message));
  return { stdout, stderr };
}

/** How a wait for a detection ended. */
export type WaitOutcome =
  | { kind: 'completed'; result: DetectionResult }
  | { kind: 'failed'; error: WorkflowFailedError }
  /** The caller's deadline passed while the detection was still running. */
  | { kind: 'running' }
  /** Temporal stayed unreachable until the deadline (or for the whole outage budget). */
  | { kind: 'unreachable'; error: TemporalUnreachableError };

/** Options of `waitForResult`. */
export interface WaitOptions {
  /** `host:port` of Temporal, for messages. */
  address: string;
  /** Epoch ms after which to stop waiting; undefined waits as long as the detection runs. */
  deadline?: number;
  /** Without a deadline: give up after Temporal has been unreachable this long in a row (ms). */
  outageBudgetMs: number;
  /** Told once per retry during an outage, one line. */
  onOutage?: (line: string) => void;
  /** First retry delay (ms), doubling to `maxDelayMs`. Defaults 1000 and 15 000. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Waits for a detection's outcome. A transport error (server stopped, restarting, network;
 * `isTemporalUnreachable`) is not an outcome: the wait reconnects with back-off and goes on, until
 * `deadline` or, without one, until the outage has lasted `outageBudgetMs`. Reading a result is
 * idempotent, so a retry cannot change what is returned.
 * @throws WorkflowNotFoundError when the detection does not exist; any non-transport client error.
 * @example const outcome = await waitForResult(client, id, { address, outageBudgetMs: 600_000 })
 */
export async function waitForResult(
  client: Client,
  workflowId: string,
  options: WaitOptions,
): Promise<WaitOutcome> {
  const maxDelayMs = options.maxDelayMs ?? 15_000;
  let delayMs = options.initialDelayMs ?? 1_000;
  let outageStarted: number | undefined;
  let lastError: unknown;
  const unreachable = (): WaitOutcome => ({
    kind: 'unreachable',
    error: new TemporalUnreachableError(
      options.address,
      lastError,
      Date.now() - (outageStarted ?? Date.now()),
    ),
  });
  for (;;) {
    const remaining = (options.deadline ?? Infinity) - Date.now();
    if (remaining <= 0) return outageStarted === undefined ? { kind: 'running' } : unreachable();
    const controller = new AbortController();
    const timer = Number.isFinite(remaining) ? setTimeout(() => controller.abort(), remaining) : undefined;
    try {
      if (outageStarted !== undefined) {
        // A cheap call first: once it answers, the outage is over (the result call long-polls).
        await client.withAbortSignal(controller.signal, () =>
          client.workflow.getHandle(workflowId).describe(),
        );
        outageStarted = undefined;
        delayMs = options.initialDelayMs ?? 1_000;
      }
      const result = await client.withAbortSignal<unknown>(controller.signal, () =>
        client.workflow.result(workflowId),
      );
      return { kind: 'completed', result: result as DetectionResult };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { kind: 'failed', error: err };
      if (controller.signal.aborted) continue; // the deadline: decided at the top of the loop
      if (!isTemporalUnreachable(err)) throw err;
      lastError = err;
      outageStarted ??= Date.now();
      const budgetLeft =
        options.deadline === undefined ? outageStarted + options.outageBudgetMs - Date.now() : Infinity;
      if (budgetLeft <= 0) return unreachable();
      const wait = Math.min(delayMs, budgetLeft, (options.deadline ?? Infinity) - Date.now());
      options.onOutage?.(
        `cannot reach Temporal at ${options.address} (${transportReason(err)}); ` +
          `still waiting for ${workflowId}, retrying in ${Math.max(1, Math.round(wait / 1000))} s`,
      );
      if (wait > 0) await sleep(wait);
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The one line for "Temporal could not be reached", with what the user can do about it.
 * @example unreachableLine('rdd result', err, 'detect-1')
 */
export function unreachableLine(command: string, err: TemporalUnreachableError, workflowId?: string): string {
  const later = workflowId ? `; the detection may still be running: rdd result ${workflowId}` : '';
  return `${command}: ${err.message}${later}`;
}
