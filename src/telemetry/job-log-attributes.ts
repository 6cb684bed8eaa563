/**
 * An activity interceptor that adds the platform's job id to every log line of an activity that
 * works on a known job: the check activity's input names it, the submit activity's result does.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * For `WorkerOptions.interceptors.activity`: once the input's first argument has a string `jobId`
 * (checkDetectionJob), or its `job.jobId` (awaitDetectionJob), or the activity returned one (submitDetectionJob, for the SDK's completion
 * line), the activity's log lines carry it as `platformJobId`. Changes nothing else.
 * @example Worker.create({ ..., interceptors: { activity: [platformJobLogAttributes] } })
 */
export const platformJobLogAttributes: ActivityInterceptorsFactory = () => {
  let jobId: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        jobId ??= jobIdOf(input.args[0]);
        const result = await next(input);
        jobId ??= jobIdOf(result);
        return result;
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next(jobId === undefined ? attributes : { ...attributes, platformJobId: jobId });
      },
    },
  };
};

function jobIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { jobId, job } = value as { jobId?: unknown; job?: unknown };
  if (typeof jobId === 'string' && jobId !== '') return jobId;
  // awaitDetectionJob's input names the job as `job: { jobId }`.
  return job === undefined ? undefined : jobIdOf(job);
}
