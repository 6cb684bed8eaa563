/**
 * The API's request and response schemas (zod 4): they validate requests, serialize responses and
 * generate the OpenAPI document, so the three cannot drift apart. Requests are strict (an unknown
 * field is a 422 naming it). Responses are exact: a member the schema does not name is not sent, so
 * the OpenAPI document says precisely what a client gets (add a new contract field here too).
 */
import { z } from 'zod';
import { bucketNameProblems, objectKeyProblems } from '../shared/s3-names.ts';

/** The problems a `…Problems(value, '')` check reports, as zod issues on this value. */
function issuesFrom(check: (value: string, field: string) => string[]) {
  return (value: string, ctx: z.RefinementCtx) => {
    for (const problem of check(value, '')) ctx.addIssue({ code: 'custom', message: problem.trim() });
  };
}

/** An S3 bucket name S3 would accept. */
const Bucket = z.string().min(1).superRefine(issuesFrom(bucketNameProblems));
/** An S3 object key S3 would accept. */
const Key = z.string().min(1).superRefine(issuesFrom(objectKeyProblems));

/** A recording in S3 (media are only ever referenced, never uploaded through the API). */
export const MediaRefSchema = z
  .strictObject({
    bucket: Bucket,
    key: Key,
    channel: z.number().int().min(0).optional().describe('0-based channel; required for multi-channel files'),
  })
  .meta({ id: 'MediaRef' });

/** A finite number of seconds ≥ 0. */
const Seconds = z.number().min(0);

/** `POST /v1/detections`: a `DetectInput` with S3 references. */
export const DetectionRequestSchema = z
  .strictObject({
    reference: MediaRefSchema,
    questioned: MediaRefSchema,
    config: z.record(z.string(), z.unknown()).optional().describe("the platform's `config` form field"),
    params: z.record(z.string(), z.string()).optional().describe('extra query parameters of the submit'),
    threshold: z.number().optional().describe('LLR above which the verdict is deepfake (default 0)'),
    result: z
      .strictObject({ bucket: Bucket.optional(), key: Key.optional() })
      .optional()
      .describe('where the result JSON goes; default the result bucket, results/<id>.json'),
    polling: z
      .strictObject({
        firstCheckBase: Seconds,
        firstCheckPerAudioSecond: Seconds,
        minInterval: Seconds,
        maxInterval: Seconds,
        backoff: Seconds,
        deadline: Seconds,
      })
      .partial()
      .optional(),
    resubmit: z
      .strictObject({
        maxLostResubmits: z.number().int().min(0),
        maxFailedResubmits: z.number().int().min(0),
      })
      .partial()
      .optional(),
    cache: z
      .boolean()
      .optional()
      .describe('answer from the score cache when the pair was scored (default true)'),
  })
  .meta({ id: 'DetectionRequest' });

/** The `Idempotency-Key` header: printable ASCII without `/` (it becomes part of a workflow id). */
export const IdempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x2e\x30-\x7e]+$/, 'must be printable ASCII without spaces or "/"')
    .optional()
    .describe(
      'Your key for this request: the same key again returns the same detection or batch (200), ' +
        'with a different body 409. Without it the id is derived from the body.',
    ),
});

/** `{id}` of a path. */
export const IdParamsSchema = z.object({ id: z.string().min(1).max(255) });

/** The answer to a start: the id and whether it already existed. */
export const StartedSchema = z
  .object({
    id: z.string(),
    existing: z.boolean().describe('true: nothing new was started (same key or same request as before)'),
  })
  .meta({ id: 'Started' });

const RecordedMediaSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  channel: z.number().optional(),
  etag: z.string(),
  durationSeconds: z.number(),
  sha256: z.string().optional(),
});

/** The result document of a detection (`DetectionResult`). */
export const DetectionResultSchema = z
  .object({
    workflowId: z.string(),
    reference: RecordedMediaSchema,
    questioned: RecordedMediaSchema,
    score: z.number().nullable().describe('log-likelihood ratio; null when there was too little speech'),
    verdict: z.enum(['deepfake', 'genuine', 'inconclusive']),
    threshold: z.number(),
    jobId: z.string(),
    platform: z.object({ url: z.string(), version: z.string().nullable() }),
    timestamps: z.object({ startedAt: z.string(), submittedAt: z.string(), completedAt: z.string() }),
    checks: z.number(),
    submissions: z.number(),
    uploads: z.number().optional(),
    cached: z.literal(true).optional(),
    cachedFrom: z.string().optional(),
    resultLocation: z.object({ bucket: z.string(), key: z.string() }),
  })
  .meta({ id: 'DetectionResult' });

/** A detection's live status (`DetectionStatus`). */
export const DetectionStatusSchema = z
  .object({
    phase: z.enum([
      'inspecting',
      'waiting-for-capacity',
      'submitting',
      'waiting',
      'recording',
      'done',
      'failed',
    ]),
    jobId: z.string().nullable(),
    lastState: z.string().nullable(),
    checks: z.number(),
    submissions: z.number(),
    nextCheckAt: z.string().nullable(),
    lease: z.object({ capacityWorkflowId: z.string(), leaseId: z.string(), granted: z.boolean() }).optional(),
  })
  .meta({ id: 'DetectionStatus' });

/** How a detection or batch ended without a result. */
export const FailureSchema = z
  .object({
    type: z.string().describe('a FailureType (MediaNotFound, …), or Cancelled, Terminated, TimedOut'),
    message: z.string(),
    details: z.array(z.unknown()).optional(),
  })
  .meta({ id: 'Failure' });

/** `GET /v1/detections/{id}`. */
export const DetectionViewSchema = z
  .discriminatedUnion('state', [
    z.object({
      id: z.string(),
      state: z.literal('running'),
      status: DetectionStatusSchema,
      ahead: z.number().int().optional().describe('lease requests granted before this one'),
    }),
    z.object({ id: z.string(), state: z.literal('completed'), result: DetectionResultSchema }),
    z.object({ id: z.string(), state: z.literal('failed'), failure: FailureSchema }),
  ])
  .meta({ id: 'DetectionView' });

const ObjectRefSchema = z.strictObject({ bucket: Bucket, key: Key });

/** ISO 8601 date-time. */
const IsoTime = z.iso.datetime({ offset: true });

/** `POST /v1/batches`: a `BatchInput`, either a manifest or a reference against a prefix. */
export const BatchRequestSchema = z
  .strictObject({
    manifest: ObjectRefSchema.optional().describe('a CSV or JSON Lines manifest of pairs'),
    reference: MediaRefSchema.optional().describe('with `prefix`: one reference against every object'),
    prefix: z
      .strictObject({
        bucket: Bucket,
        prefix: z.string(),
        suffix: z.string().optional(),
        modifiedAfter: IsoTime.optional(),
        modifiedBefore: IsoTime.optional(),
      })
      .optional(),
    concurrency: z.number().int().min(1).max(10_000).optional(),
    threshold: z.number().optional(),
    cache: z.boolean().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    params: z.record(z.string(), z.string()).optional(),
    output: z.strictObject({ bucket: Bucket.optional(), prefix: z.string().optional() }).optional(),
    continueAsNewEvery: z.number().int().min(1).max(100_000).optional(),
    polling: DetectionRequestSchema.shape.polling,
    resubmit: DetectionRequestSchema.shape.resubmit,
  })
  .superRefine((body, ctx) => {
    const prefixBatch = body.reference !== undefined || body.prefix !== undefined;
    if (body.manifest !== undefined && prefixBatch) {
      ctx.addIssue({
        code: 'custom',
        path: ['manifest'],
        message: 'give either manifest or reference + prefix',
      });
    } else if (body.manifest === undefined) {
      if (body.reference === undefined)
        ctx.addIssue({ code: 'custom', path: ['reference'], message: 'required (or give manifest)' });
      if (body.prefix === undefined)
        ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'required (or give manifest)' });
    }
    const { modifiedAfter, modifiedBefore } = body.prefix ?? {};
    // A whole bucket would feed the batch every object there, this project's own results, cache
    // and reports included: an empty prefix needs a suffix that picks the media.
    if (body.prefix !== undefined && body.prefix.prefix === '' && !body.prefix.suffix)
      ctx.addIssue({
        code: 'custom',
        path: ['prefix', 'prefix'],
        message:
          'an empty prefix takes every object in the bucket (results, cache and batch reports included): ' +
          'give a prefix, or a suffix such as ".wav"',
      });
    // Each bound is checked on its own first; an invalid one is not compared.
    if (
      modifiedAfter !== undefined &&
      modifiedBefore !== undefined &&
      IsoTime.safeParse(modifiedAfter).success &&
      IsoTime.safeParse(modifiedBefore).success &&
      Date.parse(modifiedAfter) >= Date.parse(modifiedBefore)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['prefix', 'modifiedAfter'],
        message: `must be before /prefix/modifiedBefore (${modifiedBefore}): the window holds no time`,
      });
  })
  .meta({ id: 'BatchRequest' });

/** What a batch is doing (`BatchProgress`). */
export const BatchProgressSchema = z
  .object({
    total: z.number().nullable(),
    done: z.number(),
    failed: z.number(),
    cancelledPairs: z.number().optional().describe('pairs cancelled with the batch'),
    cached: z.number(),
    invalid: z.number(),
    duplicates: z.number(),
    inFlight: z.number(),
    remaining: z.number().nullable(),
    rate: z.number(),
    etaSeconds: z.number().nullable(),
    paused: z.boolean(),
    cancelled: z.boolean(),
    phase: z.enum(['running', 'paused', 'draining', 'cancelling', 'reporting', 'done']),
    runIndex: z.number(),
    startedAt: z.string(),
    capacityWorkflowId: z.string().optional(),
  })
  .meta({ id: 'BatchProgress' });

const S3RefSchema = z.object({ bucket: z.string(), key: z.string() });

/** A finished batch (`BatchSummary`). */
export const BatchSummarySchema = z
  .object({
    batchId: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    status: z.enum(['completed', 'cancelled']),
    counts: z.object({
      total: z.number(),
      scored: z.number(),
      deepfake: z.number(),
      genuine: z.number(),
      inconclusive: z.number(),
      failed: z.number(),
      cancelled: z.number(),
      invalid: z.number(),
      cached: z.number(),
      duplicates: z.number(),
      labelled: z.number(),
    }),
    throughput: z.number().nullable(),
    location: z.string(),
    files: z.object({
      csv: S3RefSchema,
      jsonl: S3RefSchema,
      html: S3RefSchema,
      metrics: S3RefSchema.optional(),
    }),
    runs: z.number(),
  })
  .meta({ id: 'BatchSummary' });

/** `GET /v1/batches/{id}`. */
export const BatchViewSchema = z
  .discriminatedUnion('state', [
    z.object({
      id: z.string(),
      state: z.literal('running'),
      progress: BatchProgressSchema,
      waitingForCapacity: z.number().int().optional(),
      ahead: z.number().int().optional(),
    }),
    z.object({ id: z.string(), state: z.literal('completed'), summary: BatchSummarySchema }),
    z.object({ id: z.string(), state: z.literal('failed'), failure: FailureSchema }),
  ])
  .meta({ id: 'BatchView' });

/** `GET /v1/batches/{id}/report` as JSON: where the report files are, as `s3://` URIs. */
export const BatchReportLinksSchema = z
  .object({
    id: z.string(),
    status: z.enum(['completed', 'cancelled']),
    csv: z.string(),
    jsonl: z.string(),
    html: z.string(),
    metrics: z.string().optional().describe('absent when no row had a label'),
  })
  .meta({ id: 'BatchReportLinks' });

/** `GET /healthz`. */
export const HealthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

/** One dependency check of `/readyz`. */
const CheckSchema = z.object({ ok: z.boolean(), detail: z.string().optional() });

/** `GET /readyz` when ready. */
export const ReadySchema = z
  .object({ status: z.literal('ready'), checks: z.object({ temporal: CheckSchema, s3: CheckSchema }) })
  .meta({ id: 'Ready' });
