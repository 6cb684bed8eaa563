import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { formatMediaRef, type InspectedMedia } from '../shared/media.ts';
import type { SubmitJobInput, SubmittedJob } from '../shared/activity-types.ts';
import type { DetectorClient, UploadFile } from './detector/types.ts';
import { toDetectorFailure } from './detector-failures.ts';
import { toStorageFailure } from './storage-failures.ts';

/** How often an upload reports progress; well under DETECTOR_SUBMIT's heartbeat timeout. */
const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Activity `submitDetectionJob`: streams both recordings from S3 into one multipart POST to the platform. Bytes flow S3 → platform
 * without being buffered whole, and never through Temporal. Each object is read at the ETag
 * `inspectMedia` saw, so the platform analyses exactly what was inspected. Heartbeats the bytes
 * sent; cancellation aborts both downloads and the upload.
 *
 * Not idempotent on the platform's side: a retry after the platform accepted a job but before we
 * heard of it leaves that job to expire there (the platform has no cancel endpoint). The returned
 * `attempt` (the activity attempt number) lets the workflow account for such uploads.
 * Registered bound to its deps by `createActivities`; call it directly only under
 * `MockActivityEnvironment` (it heartbeats and reads the activity context).
 * @throws ApplicationFailure classified by toStorageFailure / toDetectorFailure.
 * @example await new MockActivityEnvironment().run(submitDetectionJob, { s3, detector }, input) // { jobId, statusUrl, attempt: 1 }
 */
export async function submitDetectionJob(
  { s3, detector }: { s3: S3Client; detector: DetectorClient },
  input: SubmitJobInput,
): Promise<SubmittedJob> {
  const context = Context.current();
  const signal = context.cancellationSignal;
  let bytesSent = 0;
  const count = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytesSent += chunk.length;
        done(null, chunk);
      },
    });
  const heartbeat = setInterval(() => context.heartbeat({ bytesSent }), HEARTBEAT_INTERVAL_MS);
  const opened: Readable[] = [];
  try {
    const [reference, questioned] = await Promise.all(
      [input.reference, input.questioned].map(async (media) => {
        // Both ends are tracked: destroying only the counter would leave the S3 socket open on abort.
        const source = await openObject(s3, media, signal);
        const body = source.pipe(count());
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
    context.log.info('detection job submitted', { jobId: job.jobId, bytesSent });
    // The attempt number lets the workflow count uploads that may have created a job it never heard of.
    return { jobId: job.jobId, statusUrl: job.statusUrl, attempt: context.info.attempt };
  } finally {
    clearInterval(heartbeat);
    for (const stream of opened) stream.destroy();
  }
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
    filename: posix.basename(media.key) || media.role,
    contentType: media.contentType,
    size: media.sizeBytes,
    channel: media.channel,
  };
}
