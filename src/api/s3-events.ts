/**
 * `POST /v1/s3-events`: S3 event notifications in, detections out. Accepts the AWS shape
 * (`{ Records: [...] }`, as S3 → SNS/SQS/Lambda/webhook bridges deliver it) and versitygw's webhook
 * target, which posts the same shape (keys not URL-encoded, ETags quoted) plus a
 * `{ "Event": "s3:TestEvent" }` probe when it starts.
 *
 * Every `s3:ObjectCreated:*` record whose key a rule maps to a reference starts a detection under
 * `s3EventDetectionId` (bucket, key, ETag), so a duplicated or replayed event, and the sweep, find
 * the same workflow instead of starting another. A record without an ETag is completed by a HEAD
 * of the object (its current ETag, or of `versionId` when the record names one). Each start is
 * bounded by the API's Temporal deadline (`TEMPORAL_DEADLINE_MS`), each HEAD by `S3_DEADLINE_MS`.
 * Other records (removals, keys no rule matches) are acknowledged as `ignored` and logged:
 * resending cannot change them. The answer is 202 with one entry per record. Errors are the API's RFC 9457 problem documents (error-handler.ts): 422
 * (type `urn:rdd:problem:validation`) naming each field of a body without the S3 event shape,
 * 400 for malformed JSON, 413, 415, 401 under a token, 503 when Temporal or S3 does not answer
 * within 5 s (the sender may resend: safe).
 */
import { readFileSync } from 'node:fs';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { startObjectDetection } from '../client/object-detections.ts';
import { ConfigError } from '../config/config-error.ts';
import { matchEventRule, parseEventRules, type EventRule } from '../shared/event-rules.ts';
import { bucketNameProblems, objectKeyProblems } from '../shared/s3-names.ts';
import { s3Status } from '../storage/s3-errors.ts';
import type { ApiPlugin } from './plugins.ts';
import { boundedS3 } from './s3-deadline.ts';
import { bounded } from './workflow-kind.ts';
import { problemErrorHandler } from './error-handler.ts';
import { ProblemError } from './problem-error.ts';
import { jsonResponse, problemResponses, ProblemType } from './problems.ts';

/** How record keys are encoded. */
export type S3EventKeyEncoding = 'auto' | 'url' | 'raw';

/** Options of `s3EventsRoutes`. */
export interface S3EventsOptions {
  client: Client;
  /**
   * Reads the ETag of an object whose record has none (HEAD, bounded by `S3_DEADLINE_MS`), so the
   * detection id is the one the object's other events and the sweep use. Without it such records
   * are ignored with that reason.
   */
  s3?: S3Client;
  /** Checked rules (`parseEventRules`); an empty list acknowledges and ignores every object. */
  rules: readonly EventRule[];
  /** The queue the worker polls; default `rdd-detection`. */
  taskQueue?: string;
  /**
   * `url`: keys are URL-encoded as AWS sends them (`+` for a space); `raw`: as versitygw sends them;
   * `auto` (default): raw for versitygw's records (their bucket ARN carries the object path,
   * `arn:aws:s3:::/bucket/key`), URL-encoded otherwise.
   */
  keyEncoding?: S3EventKeyEncoding;
}

const S3EventRecord = z
  .object({
    eventName: z.string().describe('e.g. s3:ObjectCreated:Put or ObjectCreated:Put'),
    s3: z
      .object({
        bucket: z.object({ name: z.string().min(1), arn: z.string().nullish() }).loose(),
        object: z
          .object({
            key: z.string().min(1),
            eTag: z.string().nullish(),
            versionId: z.string().nullish(),
            size: z.number().nullish(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

/** The body of `POST /v1/s3-events`: AWS S3 event notification records, or a test event. */
export const S3EventNotification = z
  .object({
    Records: z.array(S3EventRecord).max(1000).optional(),
    Event: z.string().optional().describe('s3:TestEvent in the probe a webhook target sends'),
  })
  .loose()
  .superRefine((body, ctx) => {
    if (body.Records === undefined && body.Event !== 's3:TestEvent')
      ctx.addIssue({
        code: 'custom',
        path: ['Records'],
        message: 'Records is required (or Event: s3:TestEvent)',
      });
  });

const Entry = z.object({
  bucket: z.string(),
  key: z.string(),
  workflowId: z.string().optional(),
  reason: z.string().optional(),
});

/** The 202 answer: what became of each record. */
export const S3EventsAccepted = z.object({
  started: z.array(Entry),
  existing: z.array(Entry),
  ignored: z.array(Entry),
});
type S3EventsAccepted = z.infer<typeof S3EventsAccepted>;

/** The object key of a record, decoded as its sender encoded it. */
function recordKey(record: z.infer<typeof S3EventRecord>, encoding: S3EventKeyEncoding): string | undefined {
  const raw = record.s3.object.key;
  const versitygw = record.s3.bucket.arn?.startsWith('arn:aws:s3:::/') ?? false;
  if (encoding === 'raw' || (encoding === 'auto' && versitygw)) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The fastify plugin of `POST /v1/s3-events` (register it with its options; it sets the zod
 * validator and serializer and the API's problem-document error handler in its own scope).
 * Idempotent per object version: the same event posted again answers `existing` and starts nothing.
 * @example await app.register(s3EventsRoutes, { client, rules: parseEventRules(json), taskQueue })
 */
// eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits an async plugin
export const s3EventsRoutes: FastifyPluginAsync<S3EventsOptions> = async (app, options) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API's own handler: on its own (tests, another server) the route answers the same problem
  // documents as under `createApiServer`, whose root sets the same handler.
  app.setErrorHandler(problemErrorHandler);
  // JSON only, as everywhere in the API: a text/plain body is a 415, not a string for the schema.
  if (app.hasContentTypeParser('text/plain')) app.removeContentTypeParser('text/plain');
  const encoding = options.keyEncoding ?? 'auto';
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/s3-events',
    {
      schema: {
        summary: 'Start detections for created S3 objects (S3 event notifications)',
        description:
          'Under a token, a webhook that cannot set headers may send it as `?token=<token>` ' +
          '(this path only; percent-encoded; never logged) instead of `Authorization: Bearer`. ' +
          'A record without `eTag` is looked up with a HEAD of the object, so it gets the same ' +
          'detection id as its other events and the sweep. 503 when Temporal or S3 does not ' +
          'answer within 5 s (resending is safe).',
        querystring: z
          .object({
            token: z
              .string()
              .optional()
              .describe('the API token, for webhook senders that cannot set Authorization'),
          })
          .loose(),
        body: S3EventNotification,
        response: {
          202: jsonResponse('What became of each record: started, existing or ignored', S3EventsAccepted),
          ...problemResponses(400, 401, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const answer: S3EventsAccepted = { started: [], existing: [], ignored: [] };
      for (const record of request.body.Records ?? []) {
        const bucket = record.s3.bucket.name;
        const key = recordKey(record, encoding);
        if (key === undefined) {
          answer.ignored.push({ bucket, key: record.s3.object.key, reason: 'the key is not URL-encoded' });
          continue;
        }
        if (!/^(s3:)?ObjectCreated:/.test(record.eventName)) {
          answer.ignored.push({ bucket, key, reason: `${record.eventName} is not an ObjectCreated event` });
          continue;
        }
        const versionId = record.s3.object.versionId ?? undefined;
        let etag = record.s3.object.eTag ?? undefined;
        if (!etag && matchEventRule(options.rules, { bucket, key })) {
          // The id is per object version, named by its ETag (as the sweep's listing sees it):
          // without one in the record, ask S3, or a second detection would start for the object.
          const head = await headEtag(options.s3, bucket, key, versionId);
          if ('reason' in head) {
            request.log.info({ bucket, key, reason: head.reason }, 's3 event ignored');
            answer.ignored.push({ bucket, key, reason: head.reason });
            continue;
          }
          etag = head.etag;
        }
        const outcome = await bounded(options.client, () =>
          startObjectDetection(
            options.client,
            options.rules,
            { bucket, key, etag, versionId },
            options.taskQueue === undefined ? {} : { taskQueue: options.taskQueue },
          ),
        );
        if (outcome.status === 'ignored') {
          request.log.info({ bucket, key, reason: outcome.reason }, 's3 event ignored');
          answer.ignored.push({ bucket, key, reason: outcome.reason });
        } else {
          request.log.info(
            { bucket, key, workflowId: outcome.workflowId },
            `s3 event: detection ${outcome.status}`,
          );
          answer[outcome.status].push({ bucket, key, workflowId: outcome.workflowId });
        }
      }
      return reply.code(202).send(answer);
    },
  );
};

/** The ETag of an object (HEAD), or why the record is ignored. */
async function headEtag(
  s3: S3Client | undefined,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<{ etag: string } | { reason: string }> {
  if (s3 === undefined) return { reason: 'the record has no eTag (the route has no S3 client to read it)' };
  if (bucketNameProblems(bucket).length > 0 || objectKeyProblems(key).length > 0)
    return { reason: [...bucketNameProblems(bucket), ...objectKeyProblems(key)].join('; ') };
  try {
    const head = await boundedS3(`the ETag of s3://${bucket}/${key}`, (abortSignal) =>
      s3.send(
        new HeadObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId !== undefined && { VersionId: versionId }),
        }),
        { abortSignal },
      ),
    );
    return head.ETag ? { etag: head.ETag } : { reason: 'the record has no eTag and S3 answered none' };
  } catch (err) {
    const status = s3Status(err);
    if (status === 404) return { reason: 'the record has no eTag and the object is gone' };
    if (status !== undefined && status < 500)
      return { reason: `the record has no eTag and S3 refused the HEAD (HTTP ${status})` };
    if (status !== undefined)
      throw new ProblemError(
        503,
        `S3 answered HTTP ${status} (the ETag of s3://${bucket}/${key}); try again later`,
        {
          type: ProblemType.Unavailable,
          cause: err,
        },
      );
    throw err;
  }
}

/**
 * The rules of S3_EVENT_RULES: inline JSON when it starts with `[` or `{`, else the path of a JSON
 * rule file; no value (unset or blank) means no rules (every object is acknowledged and ignored),
 * and so does `[]`.
 * @throws ConfigError (exit 2 in the commands) naming S3_EVENT_RULES and every problem of the
 *   rules, or the file that cannot be read or parsed.
 * @example loadEventRules('[{"match":"calls/{c}/{id}.wav","reference":"refs/{c}.wav"}]')
 */
export function loadEventRules(value: string | undefined): EventRule[] {
  if (value === undefined || value.trim() === '') return [];
  const inline = /^\s*[[{]/.test(value);
  let text: string;
  try {
    text = inline ? value : readFileSync(value, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `S3_EVENT_RULES: cannot read ${value} (${(err as Error).message}); give inline JSON ([…]) or a rule file`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([
      `S3_EVENT_RULES: ${inline ? 'the value' : value} is not JSON (${(err as Error).message})`,
    ]);
  }
  try {
    return parseEventRules(json);
  } catch (err) {
    if (err instanceof TypeError) throw new ConfigError([`S3_EVENT_RULES: ${err.message}`]);
    throw err;
  }
}

/**
 * `POST /v1/s3-events` as an API plugin (src/api/plugins.ts): rules from the config's
 * S3_EVENT_RULES, detections on its TASK_QUEUE.
 * @throws ConfigError at registration when the rules are unusable, so `rdd serve` exits 2.
 * @example createApiServer({ ...deps, plugins: [s3EventsApiPlugin] })
 */
export const s3EventsApiPlugin: ApiPlugin = async (app, { deps }) => {
  await app.register(s3EventsRoutes, {
    client: deps.client,
    s3: deps.s3,
    rules: loadEventRules(deps.config.api.s3EventRules),
    taskQueue: deps.config.taskQueue,
  });
};
