/**
 * Section 1: the detector client's streamed multipart upload. Two generated files of a known size
 * per submission go to the hashing sink (bench/sink.ts); the sending process's throughput, CPU and
 * peak memory growth are measured per size. A last, buffered control case reads both files into
 * memory first, to show what the same measurement reports when an upload is NOT streamed.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createDetectorClient, type DetectorClient, type UploadFile } from '../src/activities/detector/index.ts';
import { cpuSecondsSince, startMemorySampler, type MemoryReport } from './memory.ts';
import { generatedStream } from './payload.ts';
import { fetchReceipt } from './sink.ts';

const MIB = 1024 * 1024;

export interface UploadInput {
  sinkUrl: string;
  /** Size of each of the two files, per case, streamed. */
  sizesMib: number[];
  /** Size of each file of the buffered control case; 0 skips it. */
  bufferedControlMib: number;
}

export interface UploadRow {
  label: string;
  fileMib: number;
  buffered: boolean;
  /** Bytes on the wire (both files plus multipart framing), as the sink counted them. */
  wireBytes: number;
  seconds: number;
  mibPerSecond: number;
  cpuSeconds: number;
  memory: MemoryReport;
  /** The sink received exactly the declared Content-Length, and it covers both files. */
  verified: boolean;
}

export interface UploadResult {
  rows: UploadRow[];
}

/** Runs the cases in order of size (smallest first), then the control. */
export async function measureUpload(input: UploadInput): Promise<UploadResult> {
  const client = createDetectorClient({ baseUrl: input.sinkUrl });
  try {
    // Warm-up: connection, JIT, hashing in the sink. Not reported.
    await submitOnce(client, input.sinkUrl, 'warmup', 4, false);
    const rows: UploadRow[] = [];
    for (const size of input.sizesMib) rows.push(await submitOnce(client, input.sinkUrl, `2 × ${size} MiB streamed`, size, false));
    if (input.bufferedControlMib > 0) {
      const size = input.bufferedControlMib;
      rows.push(await submitOnce(client, input.sinkUrl, `2 × ${size} MiB buffered (control)`, size, true));
    }
    return { rows };
  } finally {
    await client.close();
  }
}

async function submitOnce(
  client: DetectorClient,
  sinkUrl: string,
  label: string,
  fileMib: number,
  buffered: boolean,
): Promise<UploadRow> {
  const size = fileMib * MIB;
  const correlationId = `upload-${label}-${Date.now()}`;
  const sampler = await startMemorySampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const file = async (name: string, offset: number): Promise<UploadFile> => ({
    // The control case does what a naive client would: read the whole object, then send it.
    body: buffered ? Readable.from([await buffer(generatedStream(size, offset))]) : generatedStream(size, offset),
    filename: `${name}.wav`,
    contentType: 'audio/wav',
    size,
  });
  await client.submit({
    reference: await file('reference', 0),
    questioned: await file('questioned', 1),
    correlationId,
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  const memory = sampler.stop();
  const receipt = await fetchReceipt(sinkUrl, correlationId);
  return {
    label,
    fileMib,
    buffered,
    wireBytes: receipt.bytes,
    seconds,
    mibPerSecond: receipt.bytes / MIB / seconds,
    cpuSeconds,
    memory,
    verified: receipt.bytes === receipt.declaredBytes && receipt.bytes > 2 * size,
  };
}
