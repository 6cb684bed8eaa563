import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { toReportCsv } from '../reports/csv.ts';
import { renderReportHtml } from '../reports/html.ts';
import { toReportJsonl } from '../reports/jsonl.ts';
import { loadReportRows } from '../reports/load-rows.ts';
import { buildMetricsReport } from '../reports/metrics-json.ts';
import { summarizeRows, type BatchReportRow } from '../reports/types.ts';
import { batchOutputPrefix, type BatchSummary, type WriteBatchReportInput } from '../shared/batch.ts';
import type { DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { defaultResultKey } from '../shared/s3-names.ts';
import { s3Status } from '../storage/s3-errors.ts';
import { toStorageFailure } from './storage-failures.ts';

/**
 * Activity `writeBatchReport`: reads every row file of a batch (`<prefix>rows/*.jsonl`, in run
 * order), resolves duplicates (a row with `duplicateOf` takes the outcome of the row of that child,
 * or of its result document `results/<id>.json` when the row is not in this batch), sorts the rows
 * by manifest line, and writes `report.csv`, `report.jsonl`, `report.html` and, when any row has a
 * label, `metrics.json` under the output prefix. Returns the summary with the file locations,
 * `runs` left 0 (the workflow fills it in). Idempotent: the same row files give the same files
 * (the page's times come from the input).
 * @throws ApplicationFailure InvalidInput (no bucket), ReportParseError-derived InvalidInput when a
 *   row file is corrupt, storage failures as classified by toStorageFailure.
 * @example await writeBatchReport({ s3, resultBucket }, { batchId, threshold: 0, status: 'completed', startedAt, finishedAt })
 */
export async function writeBatchReport(
  { s3, resultBucket }: { s3: S3Client; resultBucket?: string | undefined },
  input: WriteBatchReportInput,
): Promise<BatchSummary> {
  const bucket = input.output?.bucket ?? resultBucket;
  if (!bucket) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message:
        'no bucket for the batch report: set S3_RESULT_BUCKET (or S3_BUCKET) on the worker, or pass output.bucket',
      nonRetryable: true,
    });
  }
  const prefix = batchOutputPrefix(input.batchId, input.output);
  const where = (key: string) => `batch report s3://${bucket}/${key}`;
  try {
    const rows = await readRows(s3, bucket, prefix, input.threshold);
    const resolved = await resolveDuplicates(s3, bucket, rows);
    resolved.sort(byLine);
    heartbeat();
    const summary = summarizeRows(resolved, {
      batchId: input.batchId,
      startedAt: input.startedAt,
      finishedAt: input.finishedAt,
      status: input.status,
    });
    const labelled = resolved.some((row) => row.label !== null);
    const metrics = labelled
      ? buildMetricsReport(resolved, {
          threshold: input.threshold,
          ...(input.costs && { costs: input.costs }),
        })
      : null;
    const html = await renderReportHtml({ summary, rows: resolved, metrics, threshold: input.threshold });
    const files = {
      csv: { bucket, key: `${prefix}report.csv` },
      jsonl: { bucket, key: `${prefix}report.jsonl` },
      html: { bucket, key: `${prefix}report.html` },
      ...(metrics && { metrics: { bucket, key: `${prefix}metrics.json` } }),
    };
    const bodies: [{ bucket: string; key: string }, string, string][] = [
      [files.csv, toReportCsv(resolved), 'text/csv; charset=utf-8'],
      [files.jsonl, toReportJsonl(resolved), 'application/x-ndjson'],
      [files.html, html, 'text/html; charset=utf-8'],
    ];
    if (files.metrics && metrics) {
      bodies.push([files.metrics, `${JSON.stringify(metrics, null, 2)}\n`, 'application/json']);
    }
    for (const [ref, body, contentType] of bodies) {
      try {
        await s3.send(
          new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentType: contentType }),
        );
      } catch (err) {
        throw toStorageFailure(err, where(ref.key));
      }
      heartbeat();
    }
    return { ...summary, location: `s3://${bucket}/${prefix}`, files, runs: 0 };
  } catch (err) {
    throw toStorageFailure(err, where(prefix));
  }
}

/** Every row of every run file, in run order. */
async function readRows(
  s3: S3Client,
  bucket: string,
  prefix: string,
  threshold: number,
): Promise<BatchReportRow[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: `${prefix}rows/`,
        ...(token && { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key?.endsWith('.jsonl')) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  keys.sort();
  const rows: BatchReportRow[] = [];
  for (const key of keys) {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await answer.Body!.transformToString();
    if (text.trim() === '') continue;
    try {
      for (const row of loadReportRows(text, { source: `s3://${bucket}/${key}`, threshold })) rows.push(row);
    } catch (err) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: err instanceof Error ? err.message : String(err),
        nonRetryable: true,
      });
    }
    heartbeat(key);
  }
  return rows;
}

/** A duplicate takes the outcome of the pair it repeats. */
async function resolveDuplicates(
  s3: S3Client,
  bucket: string,
  rows: BatchReportRow[],
): Promise<BatchReportRow[]> {
  const byWorkflow = new Map<string, BatchReportRow>();
  for (const row of rows)
    if (row.workflowId !== null && row.duplicateOf === null) byWorkflow.set(row.workflowId, row);
  const documents = new Map<string, DetectionResult | null>();
  const resolved: BatchReportRow[] = [];
  for (const row of rows) {
    if (row.duplicateOf === null || row.errorType !== null) {
      resolved.push(row);
      continue;
    }
    const original = byWorkflow.get(row.duplicateOf);
    if (original) {
      resolved.push({
        ...row,
        score: original.score,
        verdict: original.verdict,
        errorType: original.errorType,
        errorMessage: original.errorMessage,
        cached: original.cached,
        completedAt: original.completedAt,
      });
      continue;
    }
    if (!documents.has(row.duplicateOf))
      documents.set(row.duplicateOf, await readResult(s3, bucket, row.duplicateOf));
    const document = documents.get(row.duplicateOf);
    resolved.push(
      document
        ? {
            ...row,
            score: document.score,
            verdict: document.verdict,
            completedAt: document.timestamps.completedAt,
          }
        : {
            ...row,
            errorType: 'DuplicateUnresolved',
            errorMessage: `repeats ${row.duplicateOf}, whose result is not at s3://${bucket}/${defaultResultKey(row.duplicateOf)}`,
          },
    );
  }
  return resolved;
}

async function readResult(s3: S3Client, bucket: string, workflowId: string): Promise<DetectionResult | null> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: defaultResultKey(workflowId) }));
    return JSON.parse(await answer.Body!.transformToString()) as DetectionResult;
  } catch (err) {
    if (s3Status(err) === 404) return null;
    throw err;
  }
}

/** Manifest order; prefix rows (no line) by questioned object. */
function byLine(a: BatchReportRow, b: BatchReportRow): number {
  if (a.line !== null && b.line !== null && a.line !== b.line) return a.line - b.line;
  if (a.line === null && b.line !== null) return 1;
  if (a.line !== null && b.line === null) return -1;
  return a.questioned < b.questioned ? -1 : a.questioned > b.questioned ? 1 : 0;
}
