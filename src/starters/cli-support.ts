/**
 * How the commands print detections: a result one field a line, a failure naming the local files
 * the user typed, and a `ResultNotRecorded` failure with the score it carries.
 */
import type { DetectionFailure } from '../client/detections.ts';
import type { DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef, type MediaRef } from '../shared/media.ts';

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

/**
 * The result carried by a `ResultNotRecorded` failure (its `details[0]` is the full
 * `DetectionResult`, src/workflows), or undefined for any other failure or a malformed detail. Pure.
 * @example unrecordedResult(view.failure)?.score // 0.505
 */
export function unrecordedResult(failure: DetectionFailure): DetectionResult | undefined {
  if (failure.type !== FailureType.ResultNotRecorded) return undefined;
  const [result] = failure.details ?? [];
  return isDetectionResult(result) ? result : undefined;
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
    result.cached
      ? `cached      score of ${result.cachedFrom ?? 'an earlier detection'}; nothing submitted`
      : `checks      ${result.checks} over ${result.submissions} submission(s)`,
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
  // One note per object: the same file given twice is one upload, named once.
  const seen = new Set<string>();
  return uploads.reduce((out, { path, ref }) => {
    const url = formatMediaRef(ref);
    if (seen.has(url)) return out;
    seen.add(url);
    return out.split(url).join(`${url} (local file ${path})`);
  }, text);
}

/** What to print for a failed detection, and where. */
export interface FailureReport {
  /** The result (or result JSON with its `failure`) when the detection got a score. */
  stdout?: string;
  /** One line for stderr, without the command name: the detection and its failure. */
  message: string;
}

/**
 * Formats a detection's failure for the terminal. A `ResultNotRecorded` failure carries the score:
 * humans get the result with its "recorded NO" line on stdout; `json` prints the document plus
 * `failure: {type, message}`. Local paths are named next to their uploaded keys. Pure.
 * @example reportFailure(view.failure, { workflowId: 'detect-1', json: false }).message
 *   // 'detection detect-1 failed: MediaNotAudio: questioned s3://b/media/9f.wav (local file q.wav) is not audio …'
 */
export function reportFailure(
  failure: DetectionFailure,
  options: { workflowId: string; json: boolean; uploads?: readonly LocalUpload[]; channelHint?: boolean },
): FailureReport {
  const local = (text: string) => withLocalPaths(text, options.uploads ?? []);
  const hint = options.channelHint ? channelOptionHint(failure) : undefined;
  // The platform-neutral "with its channel option" becomes the option itself, said once.
  const option = hint === undefined ? undefined : /with (--\S+-channel)/.exec(hint)?.[1];
  const said =
    option !== undefined && failure.message.includes('with its channel option')
      ? failure.message.replace('with its channel option', `with ${option}`)
      : undefined;
  const message =
    `detection ${options.workflowId} failed: ${local(`${failure.type}: ${said ?? failure.message}`)}` +
    (hint === undefined || said !== undefined ? '' : `; ${hint}`);
  const result = unrecordedResult(failure);
  const described = { type: failure.type, message: failure.message };
  if (!result) {
    return options.json
      ? { stdout: failureJson(options.workflowId, 'failed', described), message }
      : { message };
  }
  const stdout = options.json
    ? JSON.stringify({ ...result, state: 'failed', failure: described }, null, 2)
    : local(formatResult(result, failure.message));
  return { stdout, message };
}

/**
 * The `--json` document of a command that ends without a result (exit code ≠ 0): which detection
 * (null when none was started), how it stands and why, e.g.
 * `{"workflowId":"detect-1","state":"failed","failure":{"type":"MediaNotAudio","message":"…"}}`.
 * `state` is the detection's (`failed`, `running`, `not-found`), or `not-started` / `unknown` when
 * the command could not start it or ask about it. Pure.
 * @example failureJson('detect-1', 'running', { type: 'StillRunning', message: '…' })
 */
export function failureJson(
  workflowId: string | null,
  state: 'failed' | 'running' | 'not-found' | 'not-started' | 'unknown',
  failure: { type: string; message: string },
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({ workflowId, state, ...extra, failure }, null, 2);
}

/**
 * For a channel failure of inspection (`MediaChannelRequired`, `MediaChannelOutOfRange`), the
 * `rdd detect` option that fixes it, e.g. `choose a channel with --questioned-channel <0–1>`;
 * undefined for any other failure. Pure.
 * @example channelOptionHint({ type: 'MediaChannelRequired', message: 'questioned s3://b/k has 2 channels; …' })
 *   // 'choose a channel with --questioned-channel <0–1>'
 */
export function channelOptionHint(failure: Pick<DetectionFailure, 'type' | 'message'>): string | undefined {
  if (
    failure.type !== FailureType.MediaChannelRequired &&
    failure.type !== FailureType.MediaChannelOutOfRange
  )
    return undefined;
  const role = /^(reference|questioned)\b/.exec(failure.message)?.[1];
  if (role === undefined) return undefined;
  const channels = Number(/has (\d+) channel/.exec(failure.message)?.[1]);
  const range = Number.isInteger(channels) && channels > 0 ? ` <0–${channels - 1}>` : ' <n>';
  return `choose a channel with --${role}-channel${range}`;
}
