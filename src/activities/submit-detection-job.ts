import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createHash, type Hash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { formatMediaRef, type InspectedMedia } from '../shared/media.ts';
import { fileNameFor } from '../storage/media-types.ts';
import type { SubmitJobInput, SubmittedJob } from '../shared/activity-types.ts';
import type { DetectorClient, UploadFile } from './detector/types.ts';
import { toDetectorFailure } from './detector-failures.ts';
import { toStorageFailure } from './storage-failures.ts';
import { FailureType } from '../shared/failure-types.ts';
import {
  acquirePlatformLease,
  releasePlatformLease,
  type PlatformCapacityDeps,
} from './platform-capacity.ts';
import { endedByShutdown, untilShutdown, workerShuttingDown } from './worker-shutdown.ts';
import { LeaseWaitersFullError } from './lease-broker.ts';

/** When a submit that found this worker's lease waiters full is tried again. */
const LEASE_WAITERS_FULL_RETRY = '3 seconds';

/** How often an upload reports progress; well under DETECTOR_SUBMIT's heartbeat timeout. */
const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Activity `submitDetectionJob`: streams both recordings from S3 into one multipart POST to the platform. Bytes flow S3 → platform
 * without being buffered whole, and never through Temporal. Each object is read at the ETag
 * `inspectMedia` saw, so the platform analyses exactly what was inspected. Heartbeats the bytes
 * sent; cancellation aborts both downloads and the upload.
 *
 * Chain of custody: the SHA-256 of exactly the bytes each file sent is computed on the way through
 * (no extra read) and returned as `referenceSha256` / `questionedSha256`; a hash is left out when
 * the bytes sent were not the whole object (never on a successful submit, but never guessed).
 *
 * Not idempotent on the platform's side: a retry after the platform accepted a job but before we
 * heard of it leaves that job to expire there (the platform has no cancel endpoint). The returned
 * `attempt` (the activity attempt number) lets the workflow account for such uploads.
 *
 * With `input.lease` (the lean detection path) it first acquires that platform lease itself
 * (`acquirePlatformLease`: through the worker process's lease broker, which queues it with the
 * capacity workflow and brings the grant with its one long poll),
 * heartbeating `{ phase: 'waiting-for-capacity', ahead }`, and uploads only once granted — so
 * uploads stay bounded by the leases. A retry asks for the same lease id and gets it back. The
 * result then carries the lease, the estimate at the grant and `acceptedAtMs`. A permanent failure
 * after the grant gives the lease back (best effort; the workflow releases it too).
 * The wait for the lease ends as soon as the worker starts shutting down (`shutdownSignal`): the
 * activity fails with the retryable `WorkerShuttingDown` and another worker asks for the same lease;
 * an upload already under way is not affected (it has the shutdown grace time to finish).
 * Registered bound to its deps by `createActivities`; call it directly only under
 * `MockActivityEnvironment` (it heartbeats and reads the activity context).
 * At most `platformCapacity.maxLeaseWaiters` submits of a worker wait for a lease at once: beyond
 * that, those furthest back in the queue stop waiting (their requests stay queued, their places
 * kept) and fail with the retryable LeaseWaitersFull, tried again after 3 s, so waiting submits
 * never hold every activity slot while the activities that give leases back wait for one.
 * @throws ApplicationFailure classified by toStorageFailure / toDetectorFailure; WorkerShuttingDown
 *   (retryable) when the worker's shutdown ended the wait for a lease; LeaseWaitersFull (retryable).
 * @example await new MockActivityEnvironment().run(submitDetectionJob, { s3, detector }, input) // { jobId, statusUrl, attempt: 1 }
 */
export async function submitDetectionJob(
  {
    s3,
    detector,
    platformCapacity,
    shutdownSignal,
  }: {
    s3: S3Client;
    detector: DetectorClient;
    platformCapacity?: PlatformCapacityDeps | undefined;
    /** Aborted when the worker starts shutting down (ActivityDeps.shutdownSignal). */
    shutdownSignal?: AbortSignal | undefined;
  },
  input: SubmitJobInput,
): Promise<SubmittedJob> {
  const context = Context.current();
  const signal = context.cancellationSignal;
  let lease: SubmittedJob['lease'];
  if (input.lease) {
    if (!platformCapacity) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message:
          'this worker was created without a Temporal client for the platform capacity (ActivityDeps.platformCapacity)',
        nonRetryable: true,
      });
    }
    let ahead: number | undefined;
    const beat = () =>
      context.heartbeat({ phase: 'waiting-for-capacity', ...(ahead !== undefined && { ahead }) });
    beat();
    // The long poll answers at least every LEASE_POLL_MS; the interval keeps the heartbeat alive.
    const waiting = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    try {
      const granted = await acquirePlatformLease(platformCapacity, input.lease, {
        // Only the wait listens to the shutdown: a granted lease goes on to upload within the grace.
        signal: untilShutdown(signal, shutdownSignal),
        onWaiting: (answer) => {
          ahead = answer.ahead;
          beat();
        },
      }).catch((err: unknown) => {
        if (endedByShutdown(signal, shutdownSignal)) throw workerShuttingDown('waiting for a platform lease');
        if (err instanceof LeaseWaitersFullError) {
          // The request keeps its place in the queue; this slot goes to activities that free leases.
          throw ApplicationFailure.create({
            type: FailureType.LeaseWaitersFull,
            message: err.message,
            nonRetryable: false,
            nextRetryDelay: LEASE_WAITERS_FULL_RETRY,
          });
        }
        throw err;
      });
      lease = {
        capacityWorkflowId: granted.capacityWorkflowId,
        leaseId: input.lease.leaseId,
        estimate: granted.estimate,
      };
    } finally {
      clearInterval(waiting);
    }
    try {
      return await upload({ s3, detector }, input, lease);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.nonRetryable) {
        await releasePlatformLease(platformCapacity.temporal, lease).catch(() => undefined);
      }
      throw err;
    }
  }
  return await upload({ s3, detector }, input, lease);
}

async function upload(
  { s3, detector }: { s3: S3Client; detector: DetectorClient },
  input: SubmitJobInput,
  lease: SubmittedJob['lease'],
): Promise<SubmittedJob> {
  const context = Context.current();
  const signal = context.cancellationSignal;
  let bytesSent = 0;
  const digests: { hash: Hash; bytes: number }[] = [];
  // Counts for the heartbeat and hashes for the chain of custody, in one pass over the bytes sent.
  const count = (digest: { hash: Hash; bytes: number }) =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytesSent += chunk.length;
        digest.bytes += chunk.length;
        digest.hash.update(chunk);
        done(null, chunk);
      },
    });
  const heartbeat = setInterval(() => context.heartbeat({ bytesSent }), HEARTBEAT_INTERVAL_MS);
  const opened: Readable[] = [];
  try {
    const [reference, questioned] = await Promise.all(
      [input.reference, input.questioned].map(async (media, index) => {
        const digest = (digests[index] = { hash: createHash('sha256'), bytes: 0 });
        // Both ends are tracked: destroying only the counter would leave the S3 socket open on abort.
        const source = await openObject(s3, media, signal);
        const body = source.pipe(count(digest));
        opened.push(source, body);
        return uploadFile(media, body);
      }),
    );
    const job = await detector
      .submit({
        reference: reference!,
        questioned: questioned!,
        config: input.config,
        params: input.params,
        correlationId: input.correlationId,
        signal,
      })
      .catch((err: unknown) => {
        throw toDetectorFailure(err);
      });
    const acceptedAtMs = Date.now();
    const referenceSha256 = sha256Of(digests[0], input.reference);
    const questionedSha256 = sha256Of(digests[1], input.questioned);
    context.log.info('detection job submitted', {
      jobId: job.jobId,
      bytesSent,
      referenceSha256,
      questionedSha256,
    });
    // The attempt number lets the workflow count uploads that may have created a job it never heard of.
    return {
      jobId: job.jobId,
      statusUrl: job.statusUrl,
      attempt: context.info.attempt,
      ...(referenceSha256 !== undefined && { referenceSha256 }),
      ...(questionedSha256 !== undefined && { questionedSha256 }),
      ...(lease && { lease, acceptedAtMs }),
    };
  } finally {
    clearInterval(heartbeat);
    for (const stream of opened) stream.destroy();
  }
}

/** The hex digest when the whole object went through, else undefined (a partial hash is no hash). */
function sha256Of(
  digest: { hash: Hash; bytes: number } | undefined,
  media: InspectedMedia,
): string | undefined {
  if (digest === undefined || digest.bytes !== media.sizeBytes) return undefined;
  return digest.hash.digest('hex');
}

async function openObject(s3: S3Client, media: InspectedMedia, signal: AbortSignal): Promise<Readable> {
  const what = `${media.role} ${formatMediaRef(media)}`;
  const answer = await s3
    .send(new GetObjectCommand({ Bucket: media.bucket, Key: media.key, IfMatch: media.etag }), {
      abortSignal: signal,
    })
    .catch((err: unknown) => {
      throw toStorageFailure(err, what);
    });
  if (!(answer.Body instanceof Readable)) throw new Error(`S3 returned no body stream for ${what}`);
  return answer.Body;
}

function uploadFile(media: InspectedMedia, body: Readable): UploadFile {
  return {
    body,
    // The extension follows the bytes (inspection's type), not the key: `x.flac` holding WAV is sent as `x.wav`.
    filename: fileNameFor(posix.basename(media.key) || media.role, media.contentType),
    contentType: media.contentType,
    size: media.sizeBytes,
    channel: media.channel,
  };
}
