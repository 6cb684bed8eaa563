/**
 * `POST /v1/batches`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/pause|resume|cancel` and
 * `GET /v1/batches/{id}/report`.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BatchUpdateRejectedError } from '../client/batch-update-rejected-error.ts';
import { cancelBatch, getBatch, pauseBatch, resumeBatch, startBatch } from '../client/batches.ts';
import { DetectionIdConflictError } from '../client/detection-id-conflict-error.ts';
import { BATCH_WORKFLOW_TYPE, MAX_BATCH_ID_BYTES, type BatchInput } from '../shared/batch.ts';
import { s3Status } from '../storage/s3-errors.ts';
import { idFromKey } from './detection-routes.ts';
import type { ApiPlugin } from './plugins.ts';
import { ProblemError } from './problem-error.ts';
import { boundedS3 } from './s3-deadline.ts';
import { jsonResponse, problemResponses, ProblemType } from './problems.ts';
import {
  BatchProgressSchema,
  BatchReportLinksSchema,
  BatchRequestSchema,
  BatchViewSchema,
  IdempotencyHeadersSchema,
  IdParamsSchema,
  StartedSchema,
} from './schemas.ts';
import { bounded, requireWorkflow, TEMPORAL_DEADLINE_MS } from './workflow-kind.ts';

/** The workflow id prefix of batches started with an Idempotency-Key. */
export const BATCH_KEY_PREFIX = 'api-batch-';

/** The media type of the report's JSON Lines. */
export const NDJSON = 'application/x-ndjson';

const STEERS = {
  pause: {
    run: pauseBatch,
    summary: 'Pause a batch: no new pair starts, those in flight finish',
    deadlineMs: TEMPORAL_DEADLINE_MS,
  },
  resume: { run: resumeBatch, summary: 'Resume a paused batch', deadlineMs: TEMPORAL_DEADLINE_MS },
  cancel: {
    run: cancelBatch,
    // The update returns once every child in flight is closed: seconds, more with many children.
    deadlineMs: 120_000,
    summary: 'Cancel a batch: answers once the pairs in flight are closed; the batch then writes its reports',
  },
} as const;

/**
 * The batch routes.
 * @example await app.register(batchRoutes, { deps })
 */
// eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits an async plugin
export const batchRoutes: ApiPlugin = async (instance, { deps }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const { client, config, s3 } = deps;

  app.post(
    '/v1/batches',
    {
      schema: {
        summary: 'Start a batch (idempotent)',
        description:
          'Starts a batch over a manifest (CSV or JSON Lines in S3) or one reference against every ' +
          'object under a prefix; 201 when started, 200 when the same Idempotency-Key (or, without ' +
          'one, the same request) already started it; the same key with another body is a 409.',
        tags: ['batches'],
        headers: IdempotencyHeadersSchema,
        body: BatchRequestSchema,
        response: {
          200: jsonResponse('Already started: nothing new', StartedSchema),
          201: jsonResponse('Started', StartedSchema),
          ...problemResponses(400, 401, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const id = key === undefined ? undefined : idFromKey(BATCH_KEY_PREFIX, key, MAX_BATCH_ID_BYTES);
      let started;
      try {
        started = await bounded(client, () =>
          startBatch(client, request.body as BatchInput, {
            taskQueue: config.taskQueue,
            ...(id !== undefined && { id }),
          }),
        );
      } catch (err) {
        if (err instanceof DetectionIdConflictError) {
          throw new ProblemError(409, `Idempotency-Key ${key} was used for a different request`, {
            type: ProblemType.IdConflict,
          });
        }
        throw err;
      }
      return reply
        .code(started.existing ? 200 : 201)
        .header('location', `/v1/batches/${encodeURIComponent(started.batchId)}`)
        .send({ id: started.batchId, existing: started.existing });
    },
  );

  app.get(
    '/v1/batches/:id',
    {
      schema: {
        summary: 'Read a batch',
        description:
          '`running` with its progress (and, when pairs wait for platform capacity, how many and how ' +
          'many requests are ahead), `completed` with its summary, or `failed`.',
        tags: ['batches'],
        params: IdParamsSchema,
        response: { 200: BatchViewSchema, ...problemResponses(401, 404, 414, 422, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const view = await bounded(client, async () => {
        await requireWorkflow(client, id, BATCH_WORKFLOW_TYPE, 'batch');
        return await getBatch(client, id);
      });
      switch (view.state) {
        case 'running': {
          const { batchId: _, ...rest } = view;
          return { id, ...rest };
        }
        case 'completed':
          return { id, state: view.state, summary: view.summary };
        case 'failed':
          return { id, state: view.state, failure: view.failure };
        case 'not-found':
          throw new ProblemError(404, `no batch ${id}`);
      }
    },
  );

  for (const [name, { run, summary, deadlineMs }] of Object.entries(STEERS)) {
    app.post(
      `/v1/batches/:id/${name}`,
      {
        schema: {
          summary,
          description: `Answers the progress after the ${name}; 409 when the batch refuses it (already paused, finishing, …).`,
          tags: ['batches'],
          params: IdParamsSchema,
          response: { 200: BatchProgressSchema, ...problemResponses(400, 401, 404, 409, 414, 415, 422, 503) },
        },
      },
      async (request) => {
        const { id } = request.params;
        try {
          return await bounded(
            client,
            async () => {
              await requireWorkflow(client, id, BATCH_WORKFLOW_TYPE, 'batch');
              return await run(client, id);
            },
            deadlineMs,
          );
        } catch (err) {
          if (err instanceof BatchUpdateRejectedError) {
            throw new ProblemError(409, err.message, { type: ProblemType.UpdateRefused });
          }
          throw err;
        }
      },
    );
  }

  app.get(
    '/v1/batches/:id/report',
    {
      schema: {
        summary: "A finished batch's report",
        description:
          'Where the report files are (`s3://` URIs of the CSV, JSON Lines, HTML and, with labels, ' +
          `metrics JSON); with \`Accept: ${NDJSON}\` the JSON Lines themselves, streamed from S3. ` +
          '409 while the batch runs or when it failed; 503 when Temporal or (for the JSON Lines) S3 ' +
          'does not answer within 5 s.',
        tags: ['batches'],
        params: IdParamsSchema,
        response: {
          200: {
            description: 'The report links, or its rows as JSON Lines',
            content: {
              'application/json': { schema: BatchReportLinksSchema },
              [NDJSON]: { schema: z.string().describe('one report row (JSON) per line') },
            },
          },
          ...problemResponses(401, 404, 409, 414, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const view = await bounded(client, async () => {
        await requireWorkflow(client, id, BATCH_WORKFLOW_TYPE, 'batch');
        return await getBatch(client, id);
      });
      if (view.state === 'not-found') throw new ProblemError(404, `no batch ${id}`);
      if (view.state !== 'completed') {
        const why =
          view.state === 'running' ? 'is still running' : `failed (${view.failure.type}) and has none`;
        throw new ProblemError(409, `batch ${id} ${why}`, { type: ProblemType.ReportNotReady });
      }
      const { files, status } = view.summary;
      if (wantsNdjson(request.headers.accept)) {
        let body: Readable;
        try {
          const answer = await boundedS3(`the report of batch ${id}`, (abortSignal) =>
            s3.send(new GetObjectCommand({ Bucket: files.jsonl.bucket, Key: files.jsonl.key }), {
              abortSignal,
            }),
          );
          body = answer.Body as Readable;
        } catch (err) {
          if (s3Status(err) === 404) {
            throw new ProblemError(
              404,
              `the report of batch ${id} is gone: s3://${files.jsonl.bucket}/${files.jsonl.key}`,
            );
          }
          throw err;
        }
        // A stream is sent as is: no serializer runs on it.
        return reply.type(NDJSON).send(body as never);
      }
      const uri = (ref: { bucket: string; key: string }) => `s3://${ref.bucket}/${ref.key}`;
      return reply.type('application/json').send({
        id,
        status,
        csv: uri(files.csv),
        jsonl: uri(files.jsonl),
        html: uri(files.html),
        ...(files.metrics !== undefined && { metrics: uri(files.metrics) }),
      });
    },
  );
};

/** Whether an Accept header asks for JSON Lines before JSON. */
function wantsNdjson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const types = accept.split(',').map((part) => part.split(';', 1)[0]!.trim().toLowerCase());
  const ndjson = types.indexOf(NDJSON);
  const json = types.indexOf('application/json');
  return ndjson !== -1 && (json === -1 || ndjson < json);
}
