/**
 * Local files become S3 objects under a content-addressed key, so uploading the same recording
 * twice stores it once and a key always means the same bytes.
 */
import { HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { sniffContentType } from '../activities/media-sniff.ts';
import { extensionForContentType } from './media-types.ts';
import { s3Status } from './s3-errors.ts';
import { S3RequestError } from './s3-request-error.ts';
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

/** Where `resolveMedia` reports S3 trouble: the endpoint and whether static keys are configured. */
export interface UploadTarget {
  /** S3_ENDPOINT, for "cannot reach S3 at …" (unset: AWS). */
  endpoint?: string | undefined;
  /** Whether AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set, for the credentials hint. */
  staticCredentials?: boolean;
}

/**
 * Resolves a media argument to an S3 reference, uploading a local file to
 * `<bucket>/media/<sha256><ext>` unless that object is already there. Both the extension and the
 * Content-Type come from the file's first bytes (`sniffContentType`), never its name, so the same
 * recording under any name is one object (`.wav`, `.mp3`, `.flac`, `.ogg`, …; no extension when
 * the bytes are not audio we know). Idempotent.
 * @throws S3RequestError (one line naming the file, the object, S3_BUCKET and what S3 said) when
 *   S3 is unreachable, refuses the credentials, or the bucket does not exist.
 * @throws Error naming the argument when it is neither an s3:// URL nor a readable file, or is a
 *   local file and `bucket` is unset (`rdd detect` checks both first and reports a usage error).
 */
export async function resolveMedia(
  s3: S3Client,
  bucket: string | undefined,
  argument: string,
  role: string,
  target: UploadTarget = {},
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
  // From the bytes, not the name: a WAV named .mp3 is stored as media/<sha>.wav, audio/wav. Only a
  // hint for people and other tools; inspectMedia never trusts a name or a Content-Type.
  const contentType = sniffContentType(await readHead(argument));
  const sha256 = await sha256File(argument);
  const key = `media/${sha256}${extensionForContentType(contentType)}`;
  const context = {
    action: `cannot upload ${role} ${argument} to`,
    bucket,
    key,
    bucketSource: 'S3_BUCKET',
    endpoint: target.endpoint,
    staticCredentials: target.staticCredentials ?? false,
  };
  const exists = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    async (err: unknown) => {
      if (s3Status(err) !== 404) throw S3RequestError.from(err, context);
      // A HEAD answers a bare 404 for a missing key and a missing bucket alike.
      if (await bucketMissing(s3, bucket)) throw S3RequestError.from(err, context, true);
      return false;
    },
  );
  if (!exists) {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: createReadStream(argument),
          ContentLength: info.size,
          ContentType: contentType,
          // The hash is known already (it names the object): S3 checks the bytes against it and
          // keeps it, so the score cache knows this content under any key or copy without a read.
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        }),
      );
    } catch (err) {
      // A reset upload says nothing; ask about the bucket so the message says what S3 would.
      const missing = s3Status(err) === undefined && (await bucketMissing(s3, bucket));
      throw S3RequestError.from(err, context, missing);
    }
  }
  return { bucket, key };
}

/** Whether a HeadBucket answers 404; false for any other answer or none. Never throws. */
async function bucketMissing(s3: S3Client, bucket: string): Promise<boolean> {
  return s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => false,
    (err: unknown) => s3Status(err) === 404,
  );
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
