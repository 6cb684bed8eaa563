/** `POST /v1/detections` and `GET /v1/detections/{id}`. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DetectionIdConflictError } from '../client/detection-id-conflict-error.ts';
import { getDetection, startDetection } from '../client/detections.ts';
import { InvalidDetectionInputError } from '../client/invalid-detection-input-error.ts';
import type { DetectInput } from '../shared/detection.ts';
import { workflowIdProblems } from '../shared/s3-names.ts';
import { DETECT_WORKFLOW_TYPE } from '../shared/workflows.ts';
import type { ApiPlugin } from './plugins.ts';
import { ProblemError } from './problem-error.ts';
import { jsonResponse, problemResponses, ProblemType, type ProblemFieldError } from './problems.ts';
import {
  DetectionRequestSchema,
  DetectionViewSchema,
  IdempotencyHeadersSchema,
  IdParamsSchema,
  StartedSchema,
} from './schemas.ts';
import { bounded, requireWorkflow } from './workflow-kind.ts';

/** The workflow id prefix of detections started with an Idempotency-Key. */
export const DETECTION_KEY_PREFIX = 'api-detect-';

/**
 * The workflow id of an Idempotency-Key (`api-detect-<key>`), or a 422 when Temporal or the
 * result key (`results/<id>.json`) could not take it.
 * @throws ProblemError 422 naming the header.
 */
export function idFromKey(prefix: string, key: string, maxBytes?: number): string {
  const id = `${prefix}${key}`;
  const problems = workflowIdProblems(id, 'the id');
  if (maxBytes !== undefined && Buffer.byteLength(id) > maxBytes)
    problems.push(`the id ${prefix}<key> is over ${maxBytes} bytes`);
  if (problems.length > 0) {
    const errors = problems.map((message) => ({ in: 'headers' as const, path: '/idempotency-key', message }));
    throw new ProblemError(422, `Idempotency-Key cannot be used: ${problems.join('; ')}`, {
      type: ProblemType.Validation,
      errors,
    });
  }
  return id;
}

/** A `detectInputProblems` sentence (`reference.key must …`) as a field error. */
export function fieldError(problem: string): ProblemFieldError {
  const field = /^([A-Za-z][\w.]*)\s/.exec(problem)?.[1];
  return { in: 'body', path: field ? `/${field.split('.').join('/')}` : '', message: problem };
}

/**
 * The detection routes.
 * @example await app.register(detectionRoutes, { deps })
 */
// eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits an async plugin
export const detectionRoutes: ApiPlugin = async (instance, { deps }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const { client, config } = deps;

  app.post(
    '/v1/detections',
    {
      schema: {
        summary: 'Start a detection (idempotent)',
        description:
          'Starts one referential deepfake detection of S3 media, or returns the one already started ' +
          'for the same Idempotency-Key (or, without a key, the same request): 201 when started, 200 ' +
          'when it existed. The same key with a different body is a 409. Location names the detection.',
        tags: ['detections'],
        headers: IdempotencyHeadersSchema,
        body: DetectionRequestSchema,
        response: {
          200: jsonResponse('Already started (same key or same request): nothing new', StartedSchema),
          201: jsonResponse('Started', StartedSchema),
          ...problemResponses(400, 401, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const id = key === undefined ? undefined : idFromKey(DETECTION_KEY_PREFIX, key);
      let started;
      try {
        started = await bounded(client, () =>
          startDetection(client, request.body as DetectInput, {
            taskQueue: config.taskQueue,
            ...(id !== undefined && { id }),
          }),
        );
      } catch (err) {
        if (err instanceof InvalidDetectionInputError) {
          throw new ProblemError(422, err.message, {
            type: ProblemType.Validation,
            errors: err.problems.map(fieldError),
          });
        }
        if (err instanceof DetectionIdConflictError) {
          throw new ProblemError(409, `Idempotency-Key ${key} was used for a different request`, {
            type: ProblemType.IdConflict,
          });
        }
        throw err;
      }
      const { workflowId, existing } = started;
      return reply
        .code(existing ? 200 : 201)
        .header('location', `/v1/detections/${encodeURIComponent(workflowId)}`)
        .send({ id: workflowId, existing });
    },
  );

  app.get(
    '/v1/detections/:id',
    {
      schema: {
        summary: 'Read a detection',
        description:
          'Where a detection stands: `running` with its live status, `completed` with the result ' +
          'document, or `failed` with the failure type and message.',
        tags: ['detections'],
        params: IdParamsSchema,
        response: { 200: DetectionViewSchema, ...problemResponses(401, 404, 414, 422, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const view = await bounded(client, async () => {
        await requireWorkflow(client, id, DETECT_WORKFLOW_TYPE, 'detection');
        return await getDetection(client, id);
      });
      switch (view.state) {
        case 'running':
          return {
            id,
            state: view.state,
            status: view.status,
            ...(view.ahead !== undefined && { ahead: view.ahead }),
          };
        case 'completed':
          return { id, state: view.state, result: view.result };
        case 'failed':
          return { id, state: view.state, failure: view.failure };
        case 'not-found':
          throw new ProblemError(404, `no detection ${id}`);
      }
    },
  );
};
