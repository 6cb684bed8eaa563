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

/**
 * Where a duration came from, best first:
 * - `header`: the container says it exactly (WAV data size and byte rate or its `fact` sample
 *   count, FLAC STREAMINFO, an MP3 Xing/Info/VBRI frame count, the last Ogg page's granule).
 * - `frame-scan`: every MP3 frame was read and counted (VBR MP3 without a Xing/Info frame).
 * - `bitrate-estimate`: audio bytes × 8 / the mean bitrate of the frames read within the probe's
 *   byte budget (a long MP3 without a Xing/Info frame), or a lower bound for a FLAC without a
 *   sample count. Good to a few per cent.
 */
export const DurationSource = {
  Header: 'header',
  FrameScan: 'frame-scan',
  BitrateEstimate: 'bitrate-estimate',
} as const;
export type DurationSource = (typeof DurationSource)[keyof typeof DurationSource];

/** What `inspectMedia` learned about one object: enough to validate it and to pin its version. */
export interface InspectedMedia extends MediaRef {
  role: MediaRole;
  /** The object's ETag at inspection time; the upload reads exactly this version (If-Match). */
  etag: string;
  sizeBytes: number;
  /**
   * The MIME type of the format found in the bytes (`audio/wav`, `audio/mpeg`, `audio/flac`,
   * `audio/ogg`): what the upload to the platform declares, whatever the object's S3 Content-Type.
   */
  contentType?: string;
  /** The object's S3 Content-Type as stored; informative only, never used to decide the format. */
  storedContentType?: string;
  /**
   * Container decided from the bytes (not the name or Content-Type): `WAVE`, `RF64`, `BW64`,
   * `MPEG`, `FLAC` or `Ogg`.
   */
  container: string;
  /**
   * Codec decided from the bytes: `PCM`, `IEEE float`, `A-law`, `µ-law`, `MS ADPCM`, `IMA ADPCM`,
   * `MPEG 1 Layer 3` (or `MPEG 2`/`MPEG 2.5`), `FLAC`, `Opus`.
   */
  codec?: string;
  channels: number;
  sampleRate?: number;
  /** Seconds of audio; how exact it is depends on `durationSource`. */
  durationSeconds: number;
  /** Where `durationSeconds` came from; absent in results recorded before it existed. */
  durationSource?: DurationSource;
}

/** Formats `s3://bucket/key` for messages and logs. */
export function formatMediaRef(ref: Pick<MediaRef, 'bucket' | 'key'>): string {
  return `s3://${ref.bucket}/${ref.key}`;
}
