/** `GET /healthz`, `GET /readyz` and `GET /openapi.json`: public (no bearer token needed). */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { transportReason } from '../client/temporal-unreachable-error.ts';
import { describeS3Answer, networkReason } from '../activities/storage-failures.ts';
import { s3Status } from '../storage/s3-errors.ts';
import type { ApiPlugin } from './plugins.ts';
import { ProblemError } from './problem-error.ts';
import { jsonResponse, problemResponses, ProblemType } from './problems.ts';
import { HealthSchema, ReadySchema } from './schemas.ts';

/** How long `/readyz` waits for each dependency (ms): a probe must answer fast. */
export const READY_CHECK_TIMEOUT_MS = 2_000;

/** One dependency's answer. */
interface Check {
  ok: boolean;
  detail?: string;
}

/**
 * The public routes.
 * @example await app.register(healthRoutes, { deps })
 */
// eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits an async plugin
export const healthRoutes: ApiPlugin = async (instance, { deps }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const { client, s3, config } = deps;
  const bucket = config.storage.resultBucket;

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process serves requests',
        tags: ['health'],
        security: [],
        response: { 200: jsonResponse('Alive', HealthSchema) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: Temporal and S3 answer',
        description:
          `Asks Temporal to describe the namespace and S3 for the result bucket (HeadBucket), each within ` +
          `${READY_CHECK_TIMEOUT_MS} ms; 503 (a problem document with \`checks\`) when either fails.`,
        tags: ['health'],
        security: [],
        response: { 200: jsonResponse('Ready', ReadySchema), ...problemResponses(503) },
      },
    },
    async () => {
      const [temporal, storage] = await Promise.all([checkTemporal(), checkS3()]);
      const checks = { temporal, s3: storage };
      if (temporal.ok && storage.ok) return { status: 'ready' as const, checks };
      const down = Object.entries(checks)
        .filter(([, check]) => !check.ok)
        .map(([name, check]) => `${name}: ${check.detail}`);
      throw new ProblemError(503, `not ready (${down.join('; ')})`, {
        type: ProblemType.Unavailable,
        extensions: { checks },
      });
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  async function checkTemporal(): Promise<Check> {
    try {
      await client.withDeadline(Date.now() + READY_CHECK_TIMEOUT_MS, () =>
        client.workflowService.describeNamespace({ namespace: client.options.namespace }),
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: transportReason(err) };
    }
  }

  async function checkS3(): Promise<Check> {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }), {
        abortSignal: AbortSignal.timeout(READY_CHECK_TIMEOUT_MS),
      });
      return { ok: true };
    } catch (err) {
      const status = s3Status(err);
      return {
        ok: false,
        detail:
          status === undefined
            ? `${config.storage.endpoint ?? 'AWS S3'} does not answer (${networkReason(err) ?? 'timed out'})`
            : `bucket ${bucket}: ${describeS3Answer(err as Error, status)}`,
      };
    }
  }
};
