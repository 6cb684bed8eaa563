/**
 * The Speech Platform HTTP client. Not activities: never registered with a worker.
 *
 * @example
 * import { createDetectorClient, DetectorHttpError } from './detector/index.ts';
 * const client = createDetectorClient({ baseUrl: config.detector.url, headers: config.detector.headers });
 */
export {
  createDetectorClient,
  resolveLocation,
  LOCATION_RESOLUTIONS,
  SUBMIT_PATH,
  SYSTEM_INFO_PATH,
} from './client.ts';
export type { DetectorClientExtraOptions, LocationResolution } from './client.ts';
export { DETECTOR_DEFAULTS } from './defaults.ts';
export { DetectorError, DetectorErrorCode, isDetectorError } from './detector-error.ts';
export { DetectorHttpError, isDetectorHttpError } from './detector-http-error.ts';
export { DetectorTlsError, UNTRUSTED_CERTIFICATE_CODES } from './detector-tls-error.ts';
export type { DetectorHttpErrorInit, DetectorOperation } from './detector-http-error.ts';
export { DetectorOriginError, isDetectorOriginError } from './detector-origin-error.ts';
export type { DetectorOriginErrorInit, RefusedUrlSource } from './detector-origin-error.ts';
export { extraHeaderProblems, HEADER_NAME, HEADER_VALUE, RESERVED_HEADERS } from './headers.ts';
export { allowedOriginsFor, parseOrigin } from './origins.ts';
export type { OriginRead } from './origins.ts';
export { DetectorProtocolError, isDetectorProtocolError } from './detector-protocol-error.ts';
export type { DetectorProtocolErrorInit } from './detector-protocol-error.ts';
export { DetectorUploadSizeError, isDetectorUploadSizeError } from './detector-upload-size-error.ts';
export { createBoundary, createMultipartBody, quoteParam } from './multipart.ts';
export type { MultipartBody, MultipartField, MultipartFile, MultipartPart } from './multipart.ts';
export type {
  AcceptedJob,
  DetectorClient,
  DetectorClientOptions,
  JobStatus,
  RequestOptions,
  SubmitRequest,
  UploadFile,
} from './types.ts';
