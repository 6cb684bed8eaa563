/**
 * `POST /v1/s3-events`: S3 event notifications in, detections out. Accepts the AWS shape
 * (`{ Records: [...] }`, as S3 → SNS/SQS/Lambda/webhook bridges deliver it) and versitygw's webhook
 * target, which posts the same shape (keys not URL-encoded, ETags quoted) plus a
 * `{ "Event": "s3:TestEvent" }` probe when it starts.
 *
 * Every `s3:ObjectCreated:*` record whose key a rule maps to a reference starts a detection under
 * `s3EventDetectionId` (bucket, key, ETag), so a duplicated or replayed event, and the sweep, find
 * the same workflow instead of starting another. Other records (removals, keys no rule matches)
 * are acknowledged as `ignored` and logged: resending cannot change them. The answer is 202 with
 * one entry per record. Errors are the API's RFC 9457 problem documents (error-handler.ts): 422
 * (type `urn:rdd:problem:validation`) naming each field of a body without the S3 event shape,
 * 400 for malformed JSON, 413, 415, 401 under a token, 503 when Temporal does not answer (the
 * sender may resend: safe).
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { startObjectDetection } from '../client/object-detections.ts';
import { parseEventRules, type EventRule } from '../shared/event-rules.ts';
import type { ApiPlugin } from './plugins.ts';
import { problemErrorHandler } from './error-handler.ts';
import { jsonResponse, problemResponses } from './problems.ts';

/** How record keys are encoded. */
export type S3EventKeyEncoding = 'auto' | 'url' | 'raw';

/** Options of `s3EventsRoutes`. */
export interface S3EventsOptions {
  client: Client;
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
        const outcome = await startObjectDetection(
          options.client,
          options.rules,
          { bucket, key, etag: record.s3.object.eTag, versionId: record.s3.object.versionId },
          options.taskQueue === undefined ? {} : { taskQueue: options.taskQueue },
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

/**
 * The rules of S3_EVENT_RULES: inline JSON when it starts with `[` or `{`, else the path of a JSON
 * rule file; no value means no rules (every object is acknowledged and ignored).
 * @throws TypeError naming every problem of the rules, or the file that cannot be read or parsed.
 * @example loadEventRules('[{"match":"calls/{c}/{id}.wav","reference":"refs/{c}.wav"}]')
 */
export function loadEventRules(value: string | undefined): EventRule[] {
  if (value === undefined || value.trim() === '') return [];
  const inline = /^\s*[[{]/.test(value);
  let text: string;
  try {
    text = inline ? value : readFileSync(value, 'utf8');
  } catch (err) {
    throw new TypeError(`S3_EVENT_RULES: cannot read ${value} (${(err as Error).message})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TypeError(
      `S3_EVENT_RULES: ${inline ? 'the value' : value} is not JSON (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  return parseEventRules(json);
}

/**
 * `POST /v1/s3-events` as an API plugin (src/api/plugins.ts): rules from the config's
 * S3_EVENT_RULES, detections on its TASK_QUEUE.
 * @throws TypeError at registration when the rules are unusable, so `rdd serve` fails to start.
 * @example createApiServer({ ...deps, plugins: [s3EventsApiPlugin] })
 */
export const s3EventsApiPlugin: ApiPlugin = async (app, { deps }) => {
  await app.register(s3EventsRoutes, {
    client: deps.client,
    rules: loadEventRules(deps.config.api.s3EventRules),
    taskQueue: deps.config.taskQueue,
  });
};
