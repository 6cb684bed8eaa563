/**
 * Measured transfers and how repeats of one are combined: the median run for speed, the worst run
 * for peak memory, plus one extra untimed run that samples the bytes actually held (GC before
 * every sample). On a shared 2-core box one run's speed is noise; the memory is the claim.
 */
import {
  cpuSecondsSince,
  startLiveSampler,
  startMemorySampler,
  type LiveReport,
  type MemoryReport,
} from './memory.ts';

const MIB = 1024 * 1024;

/** One transfer, ready to run once. */
export interface TransferJob {
  /** Moves the bytes; this is what is measured. */
  send(): Promise<unknown>;
  /** What the receiving end counted, asked after the measurement. */
  receipt(): Promise<{ bytes: number; verified: boolean }>;
}

/** A transfer as measured. */
export interface Transfer {
  /** Bytes moved, as the receiving end counted them. */
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  memory: MemoryReport;
  /** The receiving end got exactly what was declared. */
  verified: boolean;
}

/** Repeats of one transfer, combined. */
export interface TransferStats extends Transfer {
  /** Timed runs; the live run comes on top. */
  runs: number;
  /** Of the median run (by time). */
  mibPerSecond: number;
  /** Reachable `arrayBuffers` during the extra run. */
  live: LiveReport;
}

/**
 * Runs `runs` timed transfers and one live-sampled one, each from a fresh `prepare()`.
 * @example const stats = await repeatTransfer(3, () => ({ send: () => client.submit(request), receipt }));
 */
export async function repeatTransfer(
  runs: number,
  prepare: () => TransferJob | Promise<TransferJob>,
): Promise<TransferStats> {
  const all: Transfer[] = [];
  for (let i = 0; i < runs; i++) all.push(await measureTransfer(await prepare()));
  const liveJob = await prepare();
  const sampler = await startLiveSampler();
  await liveJob.send();
  const live = await sampler.stop();
  const liveVerified = (await liveJob.receipt()).verified;

  const byTime = [...all].sort((a, b) => a.seconds - b.seconds);
  const median = byTime[Math.floor(byTime.length / 2)]!;
  const worst = all.reduce((a, b) => (b.memory.rssGrowthMib > a.memory.rssGrowthMib ? b : a));
  return {
    runs,
    bytes: median.bytes,
    seconds: median.seconds,
    cpuSeconds: median.cpuSeconds,
    mibPerSecond: median.bytes / MIB / median.seconds,
    memory: worst.memory,
    live,
    verified: liveVerified && all.every((t) => t.verified),
  };
}

/** Measures one transfer: time, CPU and peak memory of `send`, then the receipt. */
async function measureTransfer(job: TransferJob): Promise<Transfer> {
  const sampler = await startMemorySampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await job.send();
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  const memory = sampler.stop();
  const { bytes, verified } = await job.receipt();
  return { bytes, seconds, cpuSeconds, memory, verified };
}
