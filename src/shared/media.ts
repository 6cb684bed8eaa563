/**
 * Media references: where a recording lives, never its bytes. Media bytes travel S3 → platform
 * inside one activity and never through Temporal payloads.
 */

/** A recording in S3, plus the channel to analyse when the file has more than one. */
export interface MediaRef {
  bucket: string;
  key: string;
  /** 0-based channel index; required by the platform for multi-channel files. */
  channel?: number;
}

/** Which side of the comparison a recording is on. Used in error messages and form fields. */
export const MediaRole = {
  Reference: 'reference',
  Questioned: 'questioned',
} as const;
export type MediaRole = (typeof MediaRole)[keyof typeof MediaRole];

/** What `inspectMedia` learned about one object: enough to validate it and to pin its version. */
export interface InspectedMedia extends MediaRef {
  role: MediaRole;
  /** The object's ETag at inspection time; the upload reads exactly this version (If-Match). */
  etag: string;
  sizeBytes: number;
  contentType?: string;
  /** Container as the parser names it, e.g. `WAVE`, `MPEG`, `FLAC`, `Ogg`. */
  container: string;
  codec?: string;
  channels: number;
  sampleRate?: number;
  /** Seconds of audio; may be an estimate for VBR MP3 read from a partial download. */
  durationSeconds: number;
}

/** Formats `s3://bucket/key` for messages and logs. */
export function formatMediaRef(ref: Pick<MediaRef, 'bucket' | 'key'>): string {
  return `s3://${ref.bucket}/${ref.key}`;
}
