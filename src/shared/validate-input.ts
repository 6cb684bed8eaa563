/**
 * Structural checks of a `DetectInput`, shared by the CLI (before starting) and the workflow (so
 * input from any client is checked). Pure: returns problems, throws nothing. Bucket names, keys and
 * workflow ids follow the rules in s3-names.ts, re-exported here for the CLI.
 */
import type { DetectInput } from './detection.ts';
import type { MediaRef } from './media.ts';
import { bucketNameProblems, objectKeyProblems, utf8Length } from './s3-names.ts';

export { bucketNameProblems, defaultResultKey, objectKeyProblems, workflowIdProblems } from './s3-names.ts';

/** A value as a message shows it: numbers as written (`NaN`, `-1`, `Infinity`; JSON would say `null`). */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mediaProblems(name: string, ref: unknown): string[] {
  if (!isRecord(ref)) return [`${name} must be an object {bucket, key, channel?}`];
  const media = ref as Partial<MediaRef>;
  const problems: string[] = [];
  if (typeof media.bucket !== 'string' || media.bucket === '')
    problems.push(`${name}.bucket must be a non-empty string`);
  else problems.push(...bucketNameProblems(media.bucket, `${name}.bucket`));
  if (typeof media.key !== 'string' || media.key === '')
    problems.push(`${name}.key must be a non-empty string`);
  else problems.push(...objectKeyProblems(media.key, `${name}.key`));
  if (media.channel !== undefined && !(Number.isInteger(media.channel) && media.channel >= 0)) {
    problems.push(`${name}.channel must be a 0-based channel index, got ${shown(media.channel)}`);
  }
  return problems;
}

function positiveNumbers(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!isRecord(value)) return [`${name} must be an object`];
  return Object.entries(value)
    .filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    .map(([k, v]) => `${name}.${k} must be a non-negative number, got ${shown(v)}`);
}

/**
 * Lists everything wrong with a detection input; empty when it is usable. Buckets and keys of
 * `reference`, `questioned` and `result` must pass {@link bucketNameProblems} and
 * {@link objectKeyProblems}. The default result key depends on the workflow id, which the input
 * does not hold: check it with `workflowIdProblems` (the workflow does, for its own id).
 * @example detectInputProblems({ reference: { bucket: 'b', key: '' }, questioned }) // ['reference.key must be …']
 */
export function detectInputProblems(input: unknown): string[] {
  if (!isRecord(input)) return ['input must be an object {reference, questioned, …}'];
  const value = input as Partial<DetectInput>;
  const problems = [
    ...mediaProblems('reference', value.reference),
    ...mediaProblems('questioned', value.questioned),
  ];
  if (value.config !== undefined && !isRecord(value.config)) problems.push('config must be a JSON object');
  if (value.params !== undefined) {
    if (!isRecord(value.params) || !Object.values(value.params).every((v) => typeof v === 'string')) {
      problems.push('params must map names to string values');
    }
  }
  if (
    value.threshold !== undefined &&
    !(typeof value.threshold === 'number' && Number.isFinite(value.threshold))
  ) {
    problems.push(`threshold must be a finite number, got ${shown(value.threshold)}`);
  }
  if (value.result !== undefined) {
    if (!isRecord(value.result)) problems.push('result must be an object {bucket?, key?}');
    else {
      for (const field of ['bucket', 'key'] as const) {
        const v = value.result[field];
        if (v !== undefined && (typeof v !== 'string' || v === ''))
          problems.push(`result.${field} must be a non-empty string`);
        else if (field === 'bucket' && v !== undefined)
          problems.push(...bucketNameProblems(v, 'result.bucket'));
        else if (field === 'key' && v !== undefined) problems.push(...objectKeyProblems(v, 'result.key'));
      }
    }
  }
  problems.push(...positiveNumbers('polling', value.polling), ...positiveNumbers('resubmit', value.resubmit));
  return problems;
}

/**
 * Longest workflow id the Temporal server takes, in UTF-8 bytes: its default `limit.maxIDLength`
 * (the server answers `INVALID_ARGUMENT: WorkflowId exceeds maximum allowed length (N/1000)`).
 */
export const TEMPORAL_MAX_ID_BYTES = 1000;

/**
 * The problems of a workflow id that only Temporal's rules bind (its result key is given, so the id
 * becomes no key): empty, or over {@link TEMPORAL_MAX_ID_BYTES}. Pure; empty when usable. Checked
 * before a start, so the user reads which id is wrong instead of the server's "Failed to start Workflow".
 * @example temporalIdProblems('x'.repeat(1001), 'id') // ['id is 1001 bytes, over the 1000 bytes Temporal allows']
 */
export function temporalIdProblems(id: string, label = 'workflow id'): string[] {
  if (id === '') return [`${label} must not be empty`];
  const bytes = utf8Length(id);
  return bytes > TEMPORAL_MAX_ID_BYTES
    ? [`${label} is ${bytes} bytes, over the ${TEMPORAL_MAX_ID_BYTES} bytes Temporal allows`]
    : [];
}
