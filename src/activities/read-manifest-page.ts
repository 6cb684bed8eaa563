import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import {
  CHILD_KEY_HEX,
  type BatchPair,
  type ManifestPage,
  type ManifestProblem,
  type ReadManifestPageInput,
} from '../shared/batch.ts';
import { canonicalJson } from '../shared/canonical-json.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef, type MediaRef } from '../shared/media.ts';
import { bucketNameProblems, objectKeyProblems } from '../shared/s3-names.ts';
import { s3Status } from '../storage/s3-errors.ts';
import { toStorageFailure } from './storage-failures.ts';
import { platformCapacityWorkflowId } from '../client/platform.ts';

/** Bytes fetched per ranged GET; doubled while a single line does not fit. */
const CHUNK_BYTES = 256 * 1024;
/** A manifest line longer than this is a problem, not a reason to read the whole object. */
const MAX_LINE_BYTES = 64 * 1024;
/** Problems per page at most, so a manifest of garbage still moves in bounded pages. */
const PROBLEMS_PER_PAIR = 10;

type Format = 'csv' | 'jsonl';

/** The cursor of a text manifest: where the next line starts, pinned to the object version read. */
interface TextCursor {
  kind: 'text';
  format: Format;
  /** Byte offset of the next unread line. */
  offset: number;
  /** 1-based number of the line at `offset`. */
  line: number;
  etag: string;
  /** CSV: the header's column names, lower-cased. */
  columns?: string[];
  /** A pair or a problem was read before this cursor (absent in older cursors: taken as read). */
  seen?: boolean;
}

/** The cursor of a prefix listing: ListObjectsV2's continuation token. */
interface ListCursor {
  kind: 'list';
  token: string;
  /** Objects taken so far: the last one's 1-based `line` (absent in older cursors: 0). */
  position?: number;
  /** An object other than the reference was listed (absent in older cursors: taken as listed). */
  listed?: boolean;
}

const COLUMNS = [
  'reference',
  'questioned',
  'reference_channel',
  'questioned_channel',
  'label',
  'id',
] as const;

/**
 * Activity `readManifestPage`: reads the next page of a batch's pairs, never the whole manifest.
 * A text manifest is read by ranged GETs from the cursor's byte offset, pinned to the ETag seen on
 * the first page (`If-Match`), and split at line feeds: one line is one record (a CSV field may
 * not hold a line break). CSV needs a header naming at least `reference` and `questioned`
 * (optional `reference_channel`, `questioned_channel`, `label`, `id`); JSON Lines objects carry the
 * same fields (camelCase accepted, media as `s3://` URLs, bare keys of the manifest's bucket, or
 * `{bucket, key, channel?}`). A prefix source lists objects by continuation token.
 *
 * A prefix source skips the reference itself (same bucket and key) and gives each object taken
 * `id` = its key and `line` = its 1-based position among the objects taken.
 *
 * A line that cannot be parsed or names an invalid pair (bucket or key refused by s3-names.ts,
 * channel not a 0-based integer, label not `genuine`/`deepfake`) is a `problem` with its line
 * number, reason and (when valid) label; the page goes on. Every pair carries its pair key (sha256 of the canonical
 * JSON of reference, questioned, config, params and threshold) and its child id
 * `<batchId>-<first 24 hex of the key>`. Idempotent: the same cursor gives the same page. With
 * capacity deps (the worker always has them) the page also names `capacityWorkflowId`, the capacity
 * workflow of this worker's platform, where the batch's pairs wait for their leases.
 *
 * @throws ApplicationFailure InvalidInput (no header with `reference` and `questioned`; a manifest
 *   without a single pair or problem line, or a prefix under which nothing but the reference is
 *   listed: "no pairs in …", found on the page that reaches the end — the first, unless a listing
 *   is long), MediaNotFound
 *   (no manifest), MediaChanged (the manifest was replaced mid-batch), other storage failures as
 *   classified by toStorageFailure.
 * @example await readManifestPage({ s3 }, { batchId: 'b1', source: { manifest }, cursor: null, maxPairs: 100, threshold: 0 })
 */
export async function readManifestPage(
  deps: { s3: S3Client; platformCapacity?: { platformUrl: string } | undefined },
  input: ReadManifestPageInput,
): Promise<ManifestPage> {
  const page = await readPage(deps.s3, input);
  if (!deps.platformCapacity) return page;
  // The batch reports where its pairs wait for a lease (getBatch asks that workflow's capacityState).
  return { ...page, capacityWorkflowId: platformCapacityWorkflowId(deps.platformCapacity.platformUrl) };
}

async function readPage(s3: S3Client, input: ReadManifestPageInput): Promise<ManifestPage> {
  const maxPairs = Math.max(1, Math.floor(input.maxPairs));
  const pairOf = pairMaker(input);
  if ('prefix' in input.source) {
    const cursor = input.cursor === null ? undefined : (JSON.parse(input.cursor) as ListCursor);
    return await listPage(s3, input.source, cursor, maxPairs, pairOf);
  }
  const manifest = input.source.manifest;
  const cursor = input.cursor === null ? undefined : (JSON.parse(input.cursor) as TextCursor);
  try {
    return await textPage(s3, manifest, cursor, maxPairs, pairOf);
  } catch (err) {
    if (s3Status(err) === 412) {
      throw ApplicationFailure.create({
        type: FailureType.MediaChanged,
        message: `manifest ${formatMediaRef(manifest)} was replaced while the batch read it`,
        nonRetryable: true,
      });
    }
    throw toStorageFailure(err, `manifest ${formatMediaRef(manifest)}`);
  }
}

type PairOf = (fields: {
  line: number | null;
  id: string | null;
  reference: MediaRef;
  questioned: MediaRef;
  label: BatchPair['label'];
}) => BatchPair;

function pairMaker(input: ReadManifestPageInput): PairOf {
  return (fields) => {
    const pairKey = createHash('sha256')
      .update(
        canonicalJson({
          reference: fields.reference,
          questioned: fields.questioned,
          config: input.config,
          params: input.params,
          threshold: input.threshold,
        }),
      )
      .digest('hex');
    return { ...fields, pairKey, childId: `${input.batchId}-${pairKey.slice(0, CHILD_KEY_HEX)}` };
  };
}

async function listPage(
  s3: S3Client,
  source: Extract<ReadManifestPageInput['source'], { prefix: unknown }>,
  cursor: ListCursor | undefined,
  maxPairs: number,
  pairOf: PairOf,
): Promise<ManifestPage> {
  const { bucket, prefix, suffix } = source.prefix;
  const inWindow = modifiedWindow(source.prefix);
  let answer;
  try {
    answer = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: maxPairs,
        ...(cursor && { ContinuationToken: cursor.token }),
      }),
    );
  } catch (err) {
    throw toStorageFailure(err, `prefix s3://${bucket}/${prefix}`);
  }
  const pairs: BatchPair[] = [];
  const problems: ManifestProblem[] = [];
  let position = cursor?.position ?? 0;
  let listed = cursor === undefined ? false : (cursor.listed ?? true);
  let sawReference = false;
  for (const object of answer.Contents ?? []) {
    const key = object.Key;
    if (key === undefined || key.endsWith('/')) continue;
    if (suffix !== undefined && !key.endsWith(suffix)) continue;
    // The reference itself is not scored against itself.
    if (key === source.reference.key && bucket === source.reference.bucket) {
      sawReference = true;
      continue;
    }
    listed = true;
    if (!inWindow(object.LastModified)) continue;
    const line = ++position;
    const reasons = objectKeyProblems(key, 'questioned key');
    if (reasons.length > 0) {
      problems.push({ line, id: key, reason: reasons.join('; '), questioned: `s3://${bucket}/${key}` });
      continue;
    }
    pairs.push(
      pairOf({ line, id: key, reference: source.reference, questioned: { bucket, key }, label: null }),
    );
  }
  const next = answer.IsTruncated && answer.NextContinuationToken;
  // A typo in the prefix (or suffix) must not pass as an empty batch. An empty time window of a
  // listed prefix is no typo (a schedule's run with nothing new): that batch completes empty.
  if (!next && !listed) {
    throw invalidInput(
      `no pairs in s3://${bucket}/${prefix}: no object under the prefix` +
        (suffix === undefined ? '' : ` ending in ${JSON.stringify(suffix)}`) +
        (sawReference ? ' but the reference itself (never scored against itself)' : ''),
    );
  }
  return {
    pairs,
    problems,
    nextCursor: next
      ? JSON.stringify({ kind: 'list', token: next, position, listed } satisfies ListCursor)
      : null,
  };
}

/**
 * Whether a LastModified falls in the prefix's window, in whole seconds (S3 listings carry
 * seconds): `modifiedAfter` inclusive, `modifiedBefore` exclusive, so adjacent windows partition.
 * An object without LastModified is kept.
 */
function modifiedWindow(window: { modifiedAfter?: string; modifiedBefore?: string }) {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const after = window.modifiedAfter === undefined ? -Infinity : seconds(Date.parse(window.modifiedAfter));
  const before = window.modifiedBefore === undefined ? Infinity : seconds(Date.parse(window.modifiedBefore));
  return (modified: Date | undefined): boolean => {
    if (modified === undefined) return true;
    const s = seconds(modified.getTime());
    return s >= after && s < before;
  };
}

async function textPage(
  s3: S3Client,
  manifest: { bucket: string; key: string },
  cursor: TextCursor | undefined,
  maxPairs: number,
  pairOf: PairOf,
): Promise<ManifestPage> {
  let state: TextCursor = cursor ?? {
    kind: 'text',
    format: formatByName(manifest.key) ?? 'csv',
    offset: 0,
    line: 1,
    etag: '',
    seen: false,
  };
  const byName = cursor === undefined ? formatByName(manifest.key) : cursor.format;
  const pairs: BatchPair[] = [];
  const problems: ManifestProblem[] = [];
  let chunkBytes = CHUNK_BYTES;
  for (;;) {
    const chunk = await readRange(s3, manifest, state.offset, chunkBytes, state.etag || undefined);
    if (state.etag === '') {
      state = { ...state, etag: chunk.etag, format: byName ?? formatBySniff(chunk.bytes) };
    }
    let start = 0;
    let consumedAny = false;
    // Whether this chunk reaches the object's end: only then is a line without a line feed whole.
    const atEnd = state.offset + chunk.bytes.length >= chunk.size;
    while (start < chunk.bytes.length) {
      const newline = chunk.bytes.indexOf(0x0a, start);
      if (newline < 0 && !atEnd) break; // a line cut by the range: read on from its start
      const end = newline < 0 ? chunk.bytes.length : newline;
      const text = chunk.bytes.subarray(start, end).toString('utf8').replace(/\r$/, '');
      const line = state.line;
      state = { ...state, offset: state.offset + (end - start) + (newline < 0 ? 0 : 1), line: line + 1 };
      start = end + 1;
      consumedAny = true;
      handleLine(text, line, state, pairs, problems, manifest.bucket, pairOf);
      if (pairs.length >= maxPairs || problems.length >= maxPairs * PROBLEMS_PER_PAIR) break;
    }
    if (pairs.length > 0 || problems.length > 0) state = { ...state, seen: true };
    if (state.offset >= chunk.size) {
      if (state.seen === false) {
        throw invalidInput(
          `no pairs in ${formatMediaRef(manifest)}: the manifest is empty` +
            (state.columns === undefined ? '' : ' but for its header'),
        );
      }
      return { pairs, problems, nextCursor: null };
    }
    if (pairs.length >= maxPairs || problems.length >= maxPairs * PROBLEMS_PER_PAIR) {
      return { pairs, problems, nextCursor: JSON.stringify(state) };
    }
    if (!consumedAny) {
      if (chunkBytes >= MAX_LINE_BYTES * 2) {
        // One line longer than any sane manifest line: skip it as a problem.
        const skip = chunk.bytes.length;
        problems.push({ line: state.line, reason: `line longer than ${MAX_LINE_BYTES} bytes` });
        state = { ...state, offset: state.offset + skip };
        await skipRestOfLine(s3, manifest, state, (next) => (state = next));
        chunkBytes = CHUNK_BYTES;
        continue;
      }
      chunkBytes *= 2;
    } else chunkBytes = CHUNK_BYTES;
  }
}

/** Moves the cursor past the remainder of an overlong line. */
async function skipRestOfLine(
  s3: S3Client,
  manifest: { bucket: string; key: string },
  state: TextCursor,
  set: (next: TextCursor) => void,
): Promise<void> {
  let current = state;
  for (;;) {
    const chunk = await readRange(s3, manifest, current.offset, CHUNK_BYTES, current.etag);
    const newline = chunk.bytes.indexOf(0x0a);
    if (newline >= 0) {
      set({ ...current, offset: current.offset + newline + 1, line: current.line + 1 });
      return;
    }
    current = { ...current, offset: current.offset + chunk.bytes.length };
    if (current.offset >= chunk.size) {
      set({ ...current, line: current.line + 1 });
      return;
    }
  }
}

/** Parses one line into a pair or a problem; a CSV header sets the cursor's columns. */
function handleLine(
  text: string,
  line: number,
  state: TextCursor,
  pairs: BatchPair[],
  problems: ManifestProblem[],
  defaultBucket: string,
  pairOf: PairOf,
): void {
  if (text.trim() === '') return;
  let record: Record<string, unknown>;
  if (state.format === 'csv') {
    let cells: string[];
    try {
      const rows: string[][] = parse(text, { relax_column_count: true, trim: true });
      if (rows.length !== 1) throw new Error('expected one record');
      cells = rows[0]!;
    } catch (err) {
      if (state.columns === undefined) throw invalidInput(`the header line ${line} is not CSV`);
      problems.push({
        line,
        // The line is parsed alone: csv-parse's "at line 1" would contradict the row's own line.
        reason: `not a CSV record: ${(err instanceof Error ? err.message : String(err)).replace(/ at line \d+$/, '')}`,
      });
      return;
    }
    if (state.columns === undefined) {
      const columns = cells.map((c) => c.toLowerCase().replace(/^\ufeff/, ''));
      const missing = ['reference', 'questioned'].filter((c) => !columns.includes(c));
      if (missing.length > 0) {
        throw invalidInput(
          `the CSV header (line ${line}) lacks ${missing.join(' and ')}; columns: ${COLUMNS.join(', ')}`,
        );
      }
      state.columns = columns;
      return;
    }
    if (cells.length > state.columns.length) {
      problems.push({ line, reason: `${cells.length} fields, the header has ${state.columns.length}` });
      return;
    }
    record = Object.fromEntries(state.columns.map((c, i) => [c, cells[i] ?? '']));
  } else {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      problems.push({ line, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ line, reason: 'not a JSON object' });
      return;
    }
    record = {};
    for (const [k, v] of Object.entries(value)) {
      record[k.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()] = v;
    }
  }
  const reasons: string[] = [];
  const id = optionalText(record.id);
  const reference = mediaOf(record.reference, record.reference_channel, 'reference', defaultBucket, reasons);
  const questioned = mediaOf(
    record.questioned,
    record.questioned_channel,
    'questioned',
    defaultBucket,
    reasons,
  );
  const labelText = optionalText(record.label)?.toLowerCase() ?? null;
  if (labelText !== null && labelText !== 'genuine' && labelText !== 'deepfake') {
    reasons.push(`label must be genuine or deepfake, got ${JSON.stringify(record.label)}`);
  }
  if (reasons.length > 0 || !reference || !questioned) {
    const label = labelText === 'genuine' || labelText === 'deepfake' ? labelText : null;
    problems.push({
      line,
      reason: reasons.join('; '),
      id,
      ...(label !== null && { label }),
      reference: displayText(record.reference),
      questioned: displayText(record.questioned),
    });
    return;
  }
  pairs.push(pairOf({ line, id, reference, questioned, label: labelText as BatchPair['label'] }));
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
}

function optionalText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text =
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value);
  return text === '' ? null : text;
}

function displayText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

/** `s3://b/k`, a bare key (of the manifest's bucket) or `{bucket, key, channel?}` → a MediaRef. */
function mediaOf(
  value: unknown,
  channelValue: unknown,
  role: 'reference' | 'questioned',
  defaultBucket: string,
  reasons: string[],
): MediaRef | undefined {
  let bucket: string;
  let key: string;
  let channel: unknown = channelValue;
  if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    const url = /^s3:\/\/([^/]*)\/(.*)$/.exec(text);
    if (text.startsWith('s3://') && !url) {
      reasons.push(`${role} ${JSON.stringify(text)} is not an s3://bucket/key URL`);
      return undefined;
    }
    [bucket, key] = url ? [url[1]!, url[2]!] : [defaultBucket, text];
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const ref = value as Partial<MediaRef>;
    if (typeof ref.bucket !== 'string' || typeof ref.key !== 'string') {
      reasons.push(`${role} must be {bucket, key, channel?}`);
      return undefined;
    }
    ({ bucket, key } = ref as MediaRef);
    channel = ref.channel ?? channelValue;
  } else {
    reasons.push(`${role} is missing`);
    return undefined;
  }
  const nameProblems = [
    ...bucketNameProblems(bucket, `${role} bucket`),
    ...(key === '' ? [`${role} key is empty`] : objectKeyProblems(key, `${role} key`)),
  ];
  let parsedChannel: number | undefined;
  const channelText = optionalText(channel);
  if (channelText !== null) {
    const n = Number(channelText);
    if (Number.isInteger(n) && n >= 0 && /^\d+$/.test(channelText)) parsedChannel = n;
    else nameProblems.push(`${role}_channel must be a 0-based channel index, got ${JSON.stringify(channel)}`);
  }
  if (nameProblems.length > 0) {
    reasons.push(...nameProblems);
    return undefined;
  }
  return { bucket, key, ...(parsedChannel !== undefined && { channel: parsedChannel }) };
}

function formatByName(key: string): Format | undefined {
  const lower = key.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

function formatBySniff(bytes: Buffer): Format {
  const first = bytes
    .toString('utf8', 0, Math.min(bytes.length, 64))
    .replace(/^\ufeff/, '')
    .trimStart();
  return first.startsWith('{') ? 'jsonl' : 'csv';
}

/** One ranged GET; an empty object or an offset at its end reads as zero bytes. */
async function readRange(
  s3: S3Client,
  manifest: { bucket: string; key: string },
  offset: number,
  length: number,
  etag: string | undefined,
): Promise<{ bytes: Buffer; size: number; etag: string }> {
  try {
    const answer = await s3.send(
      new GetObjectCommand({
        Bucket: manifest.bucket,
        Key: manifest.key,
        Range: `bytes=${offset}-${offset + length - 1}`,
        ...(etag && { IfMatch: etag }),
      }),
    );
    const bytes = Buffer.from(await answer.Body!.transformToByteArray());
    const total = /\/(\d+)$/.exec(answer.ContentRange ?? '')?.[1];
    const size = total === undefined ? offset + bytes.length : Number(total);
    return { bytes, size, etag: answer.ETag ?? '' };
  } catch (err) {
    if (s3Status(err) === 416) return { bytes: Buffer.alloc(0), size: offset, etag: etag ?? '' };
    throw err;
  }
}
