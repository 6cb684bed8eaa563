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
  /** Workflow input is malformed. Permanent. */
  InvalidInput: 'InvalidInput',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
