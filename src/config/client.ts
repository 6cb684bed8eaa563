/**
 * What the client side reads (`rdd detect`, `rdd result`, the demo, other services): the task
 * queue and S3. Nothing about the detector: a process that only starts and reads detections never
 * needs DETECTOR_*.
 */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues.ts';
import {
  boolean,
  bucketName,
  endpointUrl,
  type Env,
  optional,
  readVariables,
  required,
  temporalAddress,
  text,
} from './variables.ts';

/** S3 settings, for `createS3Client` and for where media and results go. */
export interface StorageConfig {
  /** Custom S3 endpoint (versitygw, Ceph, …); unset means AWS S3. */
  endpoint?: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Bucket for media uploaded by `rdd detect` from local files. */
  mediaBucket?: string | undefined;
  /** Bucket for result documents; defaults to the media bucket. */
  resultBucket?: string | undefined;
  /**
   * Static keys when AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are in the env given to the loader
   * (which may be .stack/env merged in, not process.env); otherwise the SDK's default chain.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** A bucket a process cannot run without. */
export type StorageNeed = 'mediaBucket' | 'resultBucket';

/** The client side's settings; with needs `N`, those buckets are strings, not optional. */
export interface ClientConfig<N extends StorageNeed = never> {
  taskQueue: string;
  storage: StorageConfig & { [K in N]: string };
}

/** TASK_QUEUE, S3_* and AWS_*; `needs` makes buckets required. */
export function storageVariables(needs: readonly StorageNeed[]) {
  return z
    .object({
      TASK_QUEUE: optional(text),
      S3_ENDPOINT: optional(endpointUrl),
      S3_FORCE_PATH_STYLE: optional(boolean),
      S3_BUCKET: needs.includes('mediaBucket') ? required(text) : optional(text),
      S3_RESULT_BUCKET: optional(text),
      AWS_REGION: optional(text),
      AWS_DEFAULT_REGION: optional(text),
      AWS_ACCESS_KEY_ID: optional(text),
      AWS_SECRET_ACCESS_KEY: optional(text),
      AWS_SESSION_TOKEN: optional(text),
    })
    .refine((vars) => !needs.includes('resultBucket') || vars.S3_RESULT_BUCKET || vars.S3_BUCKET, {
      // Checked even when another variable is invalid, so one run reports every problem.
      when: () => true,
      path: ['S3_RESULT_BUCKET'],
      error: '(or S3_BUCKET) is required',
    })
    .transform((vars) => {
      const storage: StorageConfig = {
        endpoint: vars.S3_ENDPOINT,
        region: vars.AWS_REGION ?? vars.AWS_DEFAULT_REGION ?? 'us-east-1',
        forcePathStyle: vars.S3_FORCE_PATH_STYLE ?? vars.S3_ENDPOINT !== undefined,
        mediaBucket: vars.S3_BUCKET,
        resultBucket: vars.S3_RESULT_BUCKET ?? vars.S3_BUCKET,
      };
      if (vars.AWS_ACCESS_KEY_ID && vars.AWS_SECRET_ACCESS_KEY) {
        storage.credentials = {
          accessKeyId: vars.AWS_ACCESS_KEY_ID,
          secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
          ...(vars.AWS_SESSION_TOKEN && { sessionToken: vars.AWS_SESSION_TOKEN }),
        };
      }
      return { taskQueue: vars.TASK_QUEUE ?? DEFAULT_TASK_QUEUE, storage };
    });
}

/**
 * S3_BUCKET and S3_RESULT_BUCKET, when set, must be names S3 accepts (`bucketName`): checked at
 * start (exit 2) rather than answered by S3 with `InvalidBucketName` halfway through an upload, a
 * read, or every detection's last step (the worker writes results with them). Read alongside
 * `storageVariables` by every process that talks to S3 (client, worker, API).
 */
export const bucketNameVariables = z.object({
  S3_BUCKET: optional(bucketName),
  S3_RESULT_BUCKET: optional(bucketName),
});

/**
 * TEMPORAL_ADDRESS's form, checked with the other variables so one run reports every problem.
 * `@temporalio/envconfig` still owns the connection (profiles, TLS, API key); a bad address that
 * comes from a profile file is refused by `connectClient` / `connectWorker`, also as a ConfigError.
 */
export const temporalVariables = z.object({ TEMPORAL_ADDRESS: optional(temporalAddress) });

/**
 * Reads the client side's settings from `env` (TASK_QUEUE, S3_*, AWS_*), every problem at once;
 * S3_BUCKET and S3_RESULT_BUCKET must be valid S3 bucket names, TEMPORAL_ADDRESS host or host:port.
 * DETECTOR_* and WORKER_* are not read. Pure apart from reading `env`; call once at start-up.
 * @throws ConfigError listing each missing or invalid variable by name.
 * @example loadClientConfig(env, ['mediaBucket']).storage.mediaBucket // a string, no `!`
 */
export function loadClientConfig<N extends StorageNeed = never>(
  env: Env,
  needs: readonly N[] = [],
): ClientConfig<N> {
  const [client] = readVariables(env, [storageVariables(needs), bucketNameVariables, temporalVariables]);
  return client as ClientConfig<N>;
}
