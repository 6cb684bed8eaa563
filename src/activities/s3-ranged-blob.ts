import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Bytes fetched per ranged GET; headers of every supported format fit in one or two blocks. */
const BLOCK_SIZE = 256 * 1024;
/** Upper bound on what one probe may download, so a pathological file cannot make us read it all. */
const MAX_PROBE_BYTES = 16 * 1024 * 1024;

export interface RangedObject {
  s3: S3Client;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * A read-only view of an S3 object with the slice of the `Blob` API that music-metadata's
 * random-access tokenizer uses (`size`, `type`, `slice().arrayBuffer()`). Reads go through
 * ranged GETs pinned to the inspected ETag, in cached 256 KiB blocks, so parsing a WAV header
 * costs one request and an MP3/Ogg duration at most a few, whatever the file's size.
 */
export class S3RangedBlob {
  readonly size: number;
  readonly type: string;
  /** Bytes downloaded so far (for logs and the probe budget). */
  bytesRead = 0;
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
    return { arrayBuffer: () => this.read(start, Math.min(end, this.size)) };
  }

  private async read(start: number, end: number): Promise<ArrayBuffer> {
    const out = new Uint8Array(Math.max(0, end - start));
    for (let block = Math.floor(start / BLOCK_SIZE); block * BLOCK_SIZE < end; block++) {
      const bytes = await this.block(block);
      const blockStart = block * BLOCK_SIZE;
      const from = Math.max(start, blockStart) - blockStart;
      const to = Math.min(end, blockStart + bytes.length) - blockStart;
      out.set(bytes.subarray(from, to), blockStart + from - start);
    }
    return out.buffer;
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
      throw new Error(
        `probing s3://${this.object.bucket}/${this.object.key} needed more than ${MAX_PROBE_BYTES} bytes`,
      );
    }
    this.bytesRead += last - first + 1;
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
