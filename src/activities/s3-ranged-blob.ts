import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Bytes fetched per ranged GET; headers of every supported format fit in one or two blocks. */
const BLOCK_SIZE = 256 * 1024;
/** Upper bound on what one probe may download, so a pathological file cannot make us read it all. */
export const MAX_PROBE_BYTES = 16 * 1024 * 1024;

/** Thrown when a probe would read more than {@link MAX_PROBE_BYTES}; a defect of the probe, not of S3. */
export class ProbeBudgetExceededError extends Error {
  override name = 'ProbeBudgetExceededError';
}

export interface RangedObject {
  s3: S3Client;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  /**
   * The MIME type parsers see as `blob.type`. Pass the type sniffed from the bytes, never the
   * object's S3 Content-Type: uploaders set that from file names or leave it generic.
   */
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * A read-only view of an S3 object with the slice of the `Blob` API that music-metadata's
 * random-access tokenizer uses (`size`, `type`, `slice().arrayBuffer()`). Reads go through
 * ranged GETs pinned to the inspected ETag, in cached 256 KiB blocks, so parsing a WAV header
 * costs one request and an MP3/Ogg duration at most a few, whatever the file's size.
 *
 * `read(start, end)` is the same cache for callers that walk the bytes themselves (the media probe).
 * Every read is bounded by {@link MAX_PROBE_BYTES} in total; beyond it reads throw
 * {@link ProbeBudgetExceededError}. Idempotent: it only reads, pinned to one ETag.
 */
export class S3RangedBlob {
  readonly size: number;
  readonly type: string;
  /** Bytes downloaded so far (for logs and the probe budget). */
  bytesRead = 0;
  /** Ranged GETs sent so far. */
  requests = 0;
  /**
   * The error of the first S3 read that failed, if any. A parser fails whatever its input does, so
   * this is how a caller tells "S3 did not answer" (retry) from "these bytes are not audio" (permanent).
   */
  readError: unknown;
  private readonly object: RangedObject;
  private readonly blocks = new Map<number, Promise<Uint8Array>>();

  constructor(object: RangedObject) {
    this.object = object;
    this.size = object.size;
    this.type = object.contentType ?? '';
  }

  slice(start = 0, end = this.size): { arrayBuffer(): Promise<ArrayBuffer> } {
    return {
      arrayBuffer: async () => (await this.read(start, Math.min(end, this.size))).buffer as ArrayBuffer,
    };
  }

  /**
   * Bytes `[start, end)` of the object, clamped to its size (so a read past the end returns fewer).
   * @throws ProbeBudgetExceededError past the probe budget; the S3 error of a failed ranged GET
   *   (also kept in `readError`).
   */
  async read(start: number, end: number): Promise<Uint8Array> {
    start = Math.max(0, start);
    end = Math.min(end, this.size);
    const out = new Uint8Array(Math.max(0, end - start));
    if (out.length === 0) return out;
    for (let block = Math.floor(start / BLOCK_SIZE); block * BLOCK_SIZE < end; block++) {
      const bytes = await this.block(block);
      const blockStart = block * BLOCK_SIZE;
      const from = Math.max(start, blockStart) - blockStart;
      const to = Math.min(end, blockStart + bytes.length) - blockStart;
      out.set(bytes.subarray(from, to), blockStart + from - start);
    }
    return out;
  }

  private block(index: number): Promise<Uint8Array> {
    let pending = this.blocks.get(index);
    if (!pending) {
      pending = this.fetchBlock(index);
      this.blocks.set(index, pending);
    }
    return pending;
  }

  private async fetchBlock(index: number): Promise<Uint8Array> {
    const first = index * BLOCK_SIZE;
    const last = Math.min(this.size, first + BLOCK_SIZE) - 1;
    if (this.bytesRead + (last - first + 1) > MAX_PROBE_BYTES) {
      throw new ProbeBudgetExceededError(
        `probing s3://${this.object.bucket}/${this.object.key} needed more than ${MAX_PROBE_BYTES} bytes`,
      );
    }
    this.bytesRead += last - first + 1;
    this.requests++;
    const { s3, bucket, key, etag, signal } = this.object;
    try {
      const answer = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${first}-${last}`, IfMatch: etag }),
        { abortSignal: signal },
      );
      if (!answer.Body) throw new Error(`empty ranged read of s3://${bucket}/${key}`);
      return await answer.Body.transformToByteArray();
    } catch (err) {
      this.readError ??= err;
      throw err;
    }
  }
}
