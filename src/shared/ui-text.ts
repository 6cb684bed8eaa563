/**
 * The text operators read in the Temporal UI: static summaries and details given at a workflow's
 * start, the "current details" a running workflow keeps up to date, and the summaries on its
 * activities and timers. Pure (no Node, no I/O): the client and the workflows both use it.
 *
 * Summaries and details travel as payloads (through the payload codec when one is configured), but
 * they are shown to anyone who may open the UI, so they name pairs by a short tag, never by an S3
 * key, a file name or anything else that may name a person: the tag is derived from the media
 * references and tells pairs apart, it does not reveal them.
 */
import type { BatchProgress } from './batch.ts';
import type { DetectInput } from './detection.ts';
import type { MediaRef } from './media.ts';

/**
 * FNV-1a (32 bit) of a string's UTF-16 code units, as 8 hex digits. Not cryptographic: a short,
 * stable tag for display. Source: Fowler–Noll–Vo, offset basis 0x811c9dc5, prime 0x01000193.
 */
function fnv1a32(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

function refText(ref: MediaRef): string {
  return `${ref.bucket}\u0000${ref.key}\u0000${ref.channel ?? ''}`;
}

/**
 * A short tag of a pair: 8 hex digits of FNV-1a over both references (bucket, key, channel), so the
 * same pair shows the same tag in every detection, and no key is shown. Pure, deterministic.
 * @example pairTag({ bucket: 'm', key: 'r.wav' }, { bucket: 'm', key: 'q.wav' }) // '5d1c0a9e' (say)
 */
export function pairTag(reference: MediaRef, questioned: MediaRef): string {
  return fnv1a32(`${refText(reference)}\u0001${refText(questioned)}`);
}

/** The first 8 characters of a platform job id (a UUID) and an ellipsis: `3f2a9c1b…`. */
export function shortJobId(jobId: string): string {
  return jobId.length > 8 ? `${jobId.slice(0, 8)}…` : jobId;
}

/** `HH:MM:SS UTC` of an epoch time (ms) or an ISO time. Pure. */
export function clockTime(at: number | string): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(11, 19)} UTC`;
}

/**
 * The static summary of a detection (one line): `detection of pair <tag> · threshold <t>`, and the
 * batch when it belongs to one. No key or file name. Pure.
 * @example detectionSummary({ reference, questioned }) // 'detection of pair 5d1c0a9e · threshold 0'
 */
export function detectionSummary(input: DetectInput): string {
  const batch = input.batchId === undefined ? '' : ` · batch ${input.batchId}`;
  return `detection of pair ${pairTag(input.reference, input.questioned)} · threshold ${input.threshold ?? 0}${batch}`;
}

/**
 * The static details of a detection (Markdown, several lines): the pair tag, channels, threshold,
 * score cache, where the result goes (default location or "the caller's key", never the key), and
 * which config/params names are set (names only). Pure.
 */
export function detectionDetails(input: DetectInput): string {
  const channel = (ref: MediaRef) =>
    ref.channel === undefined ? 'mono / channel 0' : `channel ${ref.channel}`;
  const names = (value: object | undefined) => {
    const keys = Object.keys(value ?? {});
    return keys.length === 0 ? 'defaults' : keys.sort().join(', ');
  };
  return [
    `**Referential deepfake detection** of pair \`${pairTag(input.reference, input.questioned)}\``,
    '',
    `- reference: ${channel(input.reference)}; questioned: ${channel(input.questioned)}`,
    `- threshold: ${input.threshold ?? 0} (score ≥ threshold → deepfake)`,
    `- score cache: ${input.cache === false ? 'bypassed' : 'used'}`,
    `- config: ${names(input.config)}; params: ${names(input.params)}`,
    `- result: ${input.result?.key === undefined ? '`results/<workflow id>.json`' : "the caller's key"}`,
    ...(input.batchId === undefined ? [] : [`- batch: ${input.batchId}`]),
    '',
    'Keys and file names are kept out of the UI; the `status` query and the result document have them.',
  ].join('\n');
}

/** What a batch reads: its manifest, or a reference against a prefix (no key shown). */
function batchSource(input: object): string {
  return 'manifest' in input ? 'pairs from a manifest' : 'one reference against every file under a prefix';
}

/**
 * The static summary of a batch: `batch <id> · pairs from a manifest` (the number of pairs is not
 * known before the manifest is read: the batch's current details count them). Pure.
 */
export function batchSummary(batchId: string, input: object & { threshold?: number }): string {
  return `batch ${batchId} · ${batchSource(input)} · threshold ${input.threshold ?? 0}`;
}

/** The static details of a batch (Markdown): source kind, threshold, concurrency, where to filter. */
export function batchDetails(
  batchId: string,
  input: object & { threshold?: number; concurrency?: number },
): string {
  return [
    `**Batch** ${batchId}: ${batchSource(input)}`,
    '',
    `- threshold: ${input.threshold ?? 0}; concurrency: ${input.concurrency ?? 'default'}`,
    `- its detections: filter \`BatchId="${batchId}"\`; its deepfakes: add \`AND DetectionVerdict="deepfake"\``,
  ].join('\n');
}

/**
 * A batch's current details from its progress: `412/1000 done (3 failed), 8 in flight` (`412 done
 * so far` while the manifest is still being read). The parentheses break `done` down (it counts
 * every recorded row: scored, failed, cancelled, cached, invalid lines), the phase follows when it
 * is not plain running, and a cancelled batch adds the pairs it never started and ends
 * `(cancelled)`. Pure.
 * @example batchCurrentDetails({ total: 1000, done: 412, failed: 3, inFlight: 8, phase: 'running', … })
 *   // '412/1000 done (3 failed), 8 in flight'
 */
export function batchCurrentDetails(progress: BatchProgress): string {
  const done =
    progress.total === null ? `${progress.done} done so far` : `${progress.done}/${progress.total} done`;
  const ofWhich = [`${progress.failed} failed`];
  if ((progress.cancelledPairs ?? 0) > 0) ofWhich.push(`${progress.cancelledPairs} cancelled`);
  if (progress.cached > 0) ofWhich.push(`${progress.cached} from the score cache`);
  if (progress.invalid > 0) ofWhich.push(`${progress.invalid} invalid lines`);
  const parts = [`${done} (${ofWhich.join(', ')})`, `${progress.inFlight} in flight`];
  const notStarted = progress.remaining === null ? 0 : progress.remaining - progress.inFlight;
  if (progress.cancelled && notStarted > 0) parts.push(`${notStarted} never started`);
  const phase = progress.phase === 'running' ? '' : ` (${batchPhaseText(progress)})`;
  const run = progress.runIndex > 0 ? ` · run ${progress.runIndex + 1}` : '';
  return `${parts.join(', ')}${phase}${run}`;
}

/** The phase as the current details say it: a cancelled batch that ended says `cancelled`. */
function batchPhaseText({ phase, cancelled }: BatchProgress): string {
  if (!cancelled) return phase;
  return phase === 'done' ? 'cancelled' : phase === 'reporting' ? 'cancelled, writing the report' : phase;
}

/**
 * The static summary of a sweep: what it does and how often, the bucket named, the prefix not (a
 * prefix may be a person's folder). Pure.
 * @example sweepSummary({ bucket: 'media', prefix: 'calls/', rules: [r] }, 'every 15m')
 *   // 'sweep of bucket media for lost S3 events (1 rule) · every 15m'
 */
export function sweepSummary(input: { bucket: string; rules: readonly unknown[] }, when: string): string {
  const rules = `${input.rules.length} rule${input.rules.length === 1 ? '' : 's'}`;
  return `sweep of bucket ${input.bucket} for lost S3 events (${rules}) · ${when}`;
}

/** The current details of a sweep after a page: pages listed, objects seen, detections started. Pure. */
export function sweepCurrentDetails(pages: number, counts: { listed: number; started: number }): string {
  return `${pages} page${pages === 1 ? '' : 's'} listed, ${counts.listed} objects seen, ${counts.started} detections started for lost events`;
}
