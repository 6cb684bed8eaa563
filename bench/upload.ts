/**
 * Section 1: the detector client's streamed multipart upload. Two generated files of a known size
 * per submission go to the hashing sink (bench/sink.ts); the sending process's throughput, CPU and
 * peak memory growth are measured per size. A last, buffered control case reads both files into
 * memory first, to show what the same measurement reports when an upload is NOT streamed.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  createDetectorClient,
  type DetectorClient,
  type UploadFile,
} from '../src/activities/detector/index.ts';
import { generatedStream } from './payload.ts';
import { fetchReceipt } from './sink.ts';
import { repeatTransfer, type TransferJob, type TransferStats } from './transfer.ts';

const MIB = 1024 * 1024;

export interface UploadInput {
  sinkUrl: string;
  /** Streamed cases: size of each of the two files, and how many runs. */
  cases: { fileMib: number; runs: number }[];
  /** The buffered control case; absent to skip it. */
  bufferedControl?: { fileMib: number; runs: number };
}

export interface UploadRow extends TransferStats {
  label: string;
  fileMib: number;
  buffered: boolean;
}

export interface UploadResult {
  rows: UploadRow[];
}

/** Runs the cases in order of size (smallest first), then the control. */
export async function measureUpload(input: UploadInput): Promise<UploadResult> {
  const client = createDetectorClient({ baseUrl: input.sinkUrl });
  try {
    // Warm-up: connection, JIT, hashing in the sink. Not reported.
    await uploadJob(client, input.sinkUrl, 4, false).send();
    const rows: UploadRow[] = [];
    const cases = input.cases.map((c) => ({ ...c, buffered: false }));
    if (input.bufferedControl) cases.push({ ...input.bufferedControl, buffered: true });
    for (const { fileMib: size, runs, buffered } of cases) {
      const stats = await repeatTransfer(runs, () => uploadJob(client, input.sinkUrl, size, buffered));
      const label = `2 × ${size} MiB ${buffered ? 'buffered (control)' : 'streamed'}`;
      rows.push({ label, fileMib: size, buffered, ...stats });
    }
    return { rows };
  } finally {
    await client.close();
  }
}

function uploadJob(client: DetectorClient, sinkUrl: string, fileMib: number, buffered: boolean): TransferJob {
  const size = fileMib * MIB;
  // A header value: ASCII only.
  const correlationId = `bench-upload-${fileMib}mib${buffered ? '-buffered' : ''}-${performance.now()}`;
  const file = async (name: string, offset: number): Promise<UploadFile> => ({
    // The control case does what a naive client would: read the whole object, then send it.
    body: buffered
      ? Readable.from([await buffer(generatedStream(size, offset))])
      : generatedStream(size, offset),
    filename: `${name}.wav`,
    contentType: 'audio/wav',
    size,
  });
  return {
    send: async () =>
      client.submit({
        reference: await file('reference', 0),
        questioned: await file('questioned', 1),
        correlationId,
      }),
    async receipt() {
      const receipt = await fetchReceipt(sinkUrl, correlationId);
      return {
        bytes: receipt.bytes,
        verified: receipt.bytes === receipt.declaredBytes && receipt.bytes > 2 * size,
      };
    },
  };
}
