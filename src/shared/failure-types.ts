/**
 * Every `ApplicationFailure.type` this project raises. Activities classify errors into these at
 * their boundary; workflows and starters react to them by name. Values are wire contracts.
 */
export const FailureType = {
  /** The S3 object does not exist (or the bucket does not). Permanent. */
  MediaNotFound: 'MediaNotFound',
  /** The object has zero bytes. Permanent. */
  MediaEmpty: 'MediaEmpty',
  /** The object is not audio the platform accepts. Permanent. */
  MediaNotAudio: 'MediaNotAudio',
  /** Multi-channel media without a channel choice, or a channel that does not exist. Permanent. */
  MediaChannelRequired: 'MediaChannelRequired',
  MediaChannelOutOfRange: 'MediaChannelOutOfRange',
  /** Larger or longer than the platform accepts. Permanent for that media. */
  MediaTooLarge: 'MediaTooLarge',
  MediaTooLong: 'MediaTooLong',
  /** The object changed between inspection and upload (ETag mismatch). Permanent for this run. */
  MediaChanged: 'MediaChanged',
  /** S3 refused us (credentials, permissions). Permanent, operator error. */
  StorageAccessDenied: 'StorageAccessDenied',
  /**
   * S3 answered a 4xx that a retry cannot change (anything but 403/404/412, which have their own
   * types, and 408/429 and the codes AWS calls transient): an invalid bucket name, a key too long
   * for the server (`KeyTooLongError`), … Permanent. The message names the role, `s3://bucket/key`
   * and what S3 said (`HTTP 400 InvalidBucketName: …`, or `HTTP 400 with no error body` for a HEAD);
   * `details[0]` is `{ status: number, code: string }`. Raised by `toStorageFailure`.
   */
  StorageRequestRejected: 'StorageRequestRejected',
  /**
   * S3 answered 408, 429, 5xx or a transient code: retried with backoff. Seen as the final failure
   * only when the activity's retry budget ran out; the message names the role and object.
   */
  StorageUnavailable: 'StorageUnavailable',
  /** The platform said the request is wrong (400, 405, 422). Permanent. */
  DetectorBadRequest: 'DetectorBadRequest',
  /** The platform refused us (403: licence, technology not enabled). Permanent, operator error. */
  DetectorForbidden: 'DetectorForbidden',
  /** The platform refused the upload size (413). Permanent for that media. */
  DetectorPayloadTooLarge: 'DetectorPayloadTooLarge',
  /** 429: retried after the hinted delay. */
  DetectorRateLimited: 'DetectorRateLimited',
  /** 507: the appliance's input storage is full; retried later (backpressure). */
  DetectorStorageFull: 'DetectorStorageFull',
  /** 5xx, resets, timeouts: retried with backoff. */
  DetectorUnavailable: 'DetectorUnavailable',
  /** The answer could not be understood (not JSON, no job id). Retried: proxies do this briefly. */
  DetectorProtocolError: 'DetectorProtocolError',
  /**
   * The platform (or a proxy) named a job URL on an origin other than DETECTOR_URL's and those in
   * DETECTOR_ALLOWED_ORIGINS; nothing was sent there. Permanent, operator error.
   */
  DetectorOriginRefused: 'DetectorOriginRefused',
  /** The job ended `rejected`: the platform found the input invalid. Permanent. */
  DetectorRejectedInput: 'DetectorRejectedInput',
  /** The job kept ending `failed` after every allowed resubmission. */
  DetectorJobFailed: 'DetectorJobFailed',
  /** The job kept disappearing (404) after every allowed resubmission. */
  DetectorJobLost: 'DetectorJobLost',
  /** No answer within the workflow's overall deadline. */
  DetectionDeadlineExceeded: 'DetectionDeadlineExceeded',
  /** A result already recorded for this workflow differs from the one being written. */
  ResultConflict: 'ResultConflict',
  /**
   * The platform scored the pair but the result document could not be written (a permanent storage
   * failure, or the `STORAGE_WRITE` retry budget ran out). The workflow fails with this type so the
   * score is not lost. Contract for readers (`rdd result`, other clients):
   * - `message`: `the score <score> (<verdict>) was computed but not recorded at s3://<bucket>/<key>: <reason>`,
   *   where `<reason>` is the storage failure's message (role, object and what S3 said);
   * - `details[0]`: the full `DetectionResult` that was to be written, `resultLocation` being the
   *   intended location (its `bucket` is `''` when neither the input nor the worker named one).
   * Permanent: starting a new detection re-scores; the document in details can be stored by hand.
   */
  ResultNotRecorded: 'ResultNotRecorded',
  /** Workflow input is malformed. Permanent. */
  InvalidInput: 'InvalidInput',
  /**
   * The worker began shutting down while the activity only waited (for a platform lease, for a
   * platform job): the wait stopped at once instead of holding the draining worker. Retryable:
   * another worker resumes it (src/activities/worker-shutdown.ts).
   */
  WorkerShuttingDown: 'WorkerShuttingDown',
  /**
   * More submit activities of the worker wait for a platform lease than it allows (half its
   * activity slots), and this one is among those furthest back: its request stays queued with the
   * capacity workflow (its place is kept) and the activity is retried in a few seconds, so waiting
   * submits never take the slots the activities that give leases back need. Retryable.
   */
  LeaseWaitersFull: 'LeaseWaitersFull',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
