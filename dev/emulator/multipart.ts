/**
 * Reads a `multipart/form-data` request body with the web-standard parser (`Request.formData()`),
 * counting bytes as they arrive so an upload over the limit is refused without holding all of it.
 */
import type { IncomingMessage } from 'node:http';

/** The body exceeded the upload limit. */
export class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`The request body exceeds the upload limit of ${limit} bytes.`);
    this.limit = limit;
  }
}

/** The body is not parseable multipart/form-data. */
export class MultipartParseError extends Error {
  override name = 'MultipartParseError';
}

/**
 * Parses the request body as form data.
 * After an over-limit error the rest of the body is drained, never the socket destroyed, so the
 * client still receives the 413 answer.
 * @throws UploadTooLargeError once more than `maxBytes` arrived; MultipartParseError when the body
 *   is malformed or not multipart/form-data.
 * @example const form = await readMultipart(req, 500e6); form.get('file_reference')
 */
export async function readMultipart(req: IncomingMessage, maxBytes: number): Promise<FormData> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType) || !/boundary=/i.test(contentType)) {
    throw new MultipartParseError('Expected a multipart/form-data body with a boundary.');
  }
  let received = 0;
  let tooLarge = false;
  let settled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (settled) return; // draining after an error
          received += chunk.byteLength;
          if (received > maxBytes) {
            tooLarge = true;
            settled = true;
            controller.error(new UploadTooLargeError(maxBytes));
            return;
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.on('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        req.on('error', (err) => {
          if (settled) return;
          settled = true;
          controller.error(err);
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        settled = true;
        req.resume();
      },
    },
    { highWaterMark: 4 },
  );
  try {
    return await new Request('http://emulator.invalid/upload', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
      duplex: 'half',
    }).formData();
  } catch (err) {
    if (tooLarge) throw new UploadTooLargeError(maxBytes);
    throw new MultipartParseError(
      `The multipart body could not be parsed: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    // Whatever happened, keep reading (and discarding) so the response can be delivered.
    req.resume();
  }
}
