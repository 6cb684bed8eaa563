/**
 * Local files become S3 objects under a content-addressed key, so uploading the same recording
 * twice stores it once and a key always means the same bytes.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { sniffContentType } from '../activities/media-sniff.ts';
import { s3Status } from '../storage/s3-errors.ts';
import type { MediaRef } from '../shared/media.ts';

/**
 * Parses `s3://bucket/key`; anything else is a local path.
 * @example parseS3Url('s3://media/calls/a.wav') // { bucket: 'media', key: 'calls/a.wav' }
 */
export function parseS3Url(value: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(value);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/**
 * Lowercase hex SHA-256 of a file's bytes, streamed: the content address of an uploaded recording.
 * @example await sha256File('ref.wav') // '9f2c…'
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Resolves a media argument to an S3 reference, uploading a local file to
 * `<bucket>/media/<sha256><ext>` unless that object is already there. The Content-Type is sniffed
 * from the file's first bytes (`sniffContentType`), `application/octet-stream` when unknown.
 * @throws Error naming the argument when it is neither an s3:// URL nor a readable file, or is a
 *   local file and `bucket` is unset (`rdd detect` checks both first and reports a usage error).
 */
export async function resolveMedia(
  s3: S3Client,
  bucket: string | undefined,
  argument: string,
  role: string,
): Promise<MediaRef> {
  const s3Ref = parseS3Url(argument);
  if (s3Ref) return s3Ref;
  if (argument.startsWith('s3://')) {
    throw new Error(`${role} "${argument}" is not a valid s3://bucket/key URL`);
  }
  const info = await stat(argument).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`${role} "${argument}" is not a readable file or s3://bucket/key URL`);
  if (!bucket)
    throw new Error(`${role} "${argument}" is a local file, but no S3_BUCKET is configured to upload it to`);
  const extension = extname(argument).toLowerCase();
  const key = `media/${await sha256File(argument)}${extension}`;
  const exists = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (err: unknown) => {
      if (s3Status(err) === 404) return false;
      throw err;
    },
  );
  if (!exists) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: createReadStream(argument),
        ContentLength: info.size,
        // From the bytes, not the extension: a WAV named .mp3 is stored as audio/wav. Only a hint for
        // other tools; inspectMedia never trusts a Content-Type.
        ContentType: sniffContentType(await readHead(argument)),
      }),
    );
  }
  return { bucket, key };
}

/** The first 64 KiB of a file (fewer if it is shorter): enough to sniff its format. */
async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const buffer = new Uint8Array(64 * 1024);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
